"""Session tokens: JWTs signed with HS256 (the only algorithm accepted when reading, so a
token that says `alg: none` or names another algorithm is refused), with an expiry, and a
password fingerprint so that setting a new password ends every earlier session."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt

from jobping_dagster.local_secret import kept_secret
from jobping_dagster.settings import Settings

ALGORITHM = "HS256"
SECRET_FILE = "jwt_secret"


class MissingSecret(RuntimeError):
    """Production needs JOBPING_JWT_SECRET."""


def signing_secret(settings: Settings) -> str:
    """JOBPING_JWT_SECRET; in production it is required. Otherwise a secret generated once
    and kept under JOBPING_HOME (readable by its owner only), so sessions survive restarts."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.production:
        raise MissingSecret(
            "JOBPING_JWT_SECRET is not set: production (JOBPING_DATABASE_URL set) needs it, "
            "at least 32 characters, e.g. `openssl rand -hex 32`"
        )
    return kept_secret(Path(settings.home) / SECRET_FILE)


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def issue(user_id: int, password_hash: str | None, secret: str, now: datetime, hours: int):
    expires_at = now + timedelta(hours=hours)
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "pwd": password_fingerprint(password_hash),
    }
    return Session(jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at)


@dataclass(frozen=True)
class Claims:
    user_id: int
    password_fingerprint: str


def read(token: str, secret: str) -> Claims | None:
    """The claims of a valid, unexpired token signed with `secret`; None for anything else."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "exp", "iat", "pwd"]},
        )
        return Claims(int(claims["sub"]), str(claims["pwd"]))
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return None
