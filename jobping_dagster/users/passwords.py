"""Seekers' passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second
recommended profile), and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jobping_dagster.users.validation import InvalidSetting

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256
# Refused outright: the passwords tried first by anyone guessing (NCSC's top of the list).
_COMMON = frozenset(
    {
        "1234567890", "12345678910", "0123456789", "1111111111", "0000000000", "qwertyuiop",
        "password12", "password123", "password1234", "passw0rd123", "iloveyou12", "letmein123",
        "qwerty1234", "qwerty12345", "abc1234567", "1q2w3e4r5t", "1qaz2wsx3edc", "zaq12wsxcde",
        "welcome123", "admin12345", "football12", "monkey1234", "dragon1234", "sunshine12",
        "princess12", "baseball12", "trustno1234", "superman12", "asdfghjkl1", "aaaaaaaaaa",
    }
)  # fmt: skip

_hasher = PasswordHasher()
# Checked against when the address is unknown, so a login takes as long either way.
_UNKNOWN_USER_HASH = _hasher.hash("no user has this password")


def validate_password(password: object, email: str) -> str:
    """The password as given, or InvalidSetting("password", ...) saying what to change.
    The password itself never appears in the message."""
    if not isinstance(password, str):
        raise InvalidSetting("password", "must be text")
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidSetting("password", f"must be at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InvalidSetting("password", f"must be at most {MAX_PASSWORD_CHARS} characters")
    lowered = password.lower()
    if lowered in _COMMON or len(set(password)) < 4:
        raise InvalidSetting("password", "is too easy to guess: choose a longer, rarer one")
    if email and (lowered == email.lower() or lowered == email.split("@")[0].lower()):
        raise InvalidSetting("password", "must not be your email address")
    if "\x00" in password:
        raise InvalidSetting("password", "must not contain NUL characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one hashed; a user without a hash (added with the CLI)
    never matches, after the same work as a wrong password."""
    try:
        return _hasher.verify(password_hash or _UNKNOWN_USER_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
