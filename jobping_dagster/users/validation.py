"""Checks for the settings a user gives us: email, wish-list prompt, minimum score, Discord
webhook (the delivery policy's are in delivery_settings.py).

A webhook URL carries a secret token, so nothing here ever puts the URL (or its token) into an
error message; use `mask_webhook` to show one.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit, urlunsplit

MAX_PROMPT_CHARS = 4000
MAX_EMAIL_CHARS = 254  # the longest address SMTP can carry (RFC 5321)
DISCORD_HOSTS = frozenset(
    {"discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"}
)

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_WHOLE_NUMBER_RE = re.compile(r"[+-]?\d{1,4}")
# /api/webhooks/<id>/<token>, optionally versioned: /api/v10/webhooks/<id>/<token>
_WEBHOOK_PATH_RE = re.compile(
    r"/api(?P<version>/v\d{1,2})?/webhooks/(?P<id>\d{1,25})/(?P<token>[A-Za-z0-9_.-]{1,200})/?"
)
# Printable ASCII only: rules out whitespace, control characters and look-alike hosts.
_URL_CHARS_RE = re.compile(r"[!-~]+")


class InvalidSetting(ValueError):
    """A user setting we refuse. `str()` reads "field: message" and is safe to show."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def validate_email(value: object) -> str:
    """Return the address stripped and lower-cased."""
    if not isinstance(value, str):
        raise InvalidSetting("email", "must be text")
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL_RE.fullmatch(email):
        # The bad value is not echoed: an address is personal data and may end up in logs.
        raise InvalidSetting("email", "must be an address like name@example.com")
    return email


def validate_prompt(value: object) -> str:
    """Return the wish-list text stripped; it must say something and fit the scorer's budget."""
    if not isinstance(value, str):
        raise InvalidSetting("prompt", "must be text")
    prompt = value.strip()
    if not prompt:
        raise InvalidSetting("prompt", "must not be empty")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidSetting(
            "prompt", f"must be at most {MAX_PROMPT_CHARS} characters (got {len(prompt)})"
        )
    if "\x00" in prompt:
        # PostgreSQL text columns cannot store NUL.
        raise InvalidSetting("prompt", "must not contain NUL characters")
    return prompt


def validate_min_score(value: object) -> int:
    """Return a whole number from 0 to 100. Accepts 70, 70.0 and "70"; refuses 70.5."""
    score: int | None = None
    if isinstance(value, bool):
        score = None  # True is an int in Python, but never a meaningful score
    elif isinstance(value, int):
        score = value
    elif isinstance(value, float) and value.is_integer():
        score = int(value)
    elif isinstance(value, str) and _WHOLE_NUMBER_RE.fullmatch(value.strip()):
        score = int(value.strip())
    if score is None or not 0 <= score <= 100:
        raise InvalidSetting(
            "min_score", f"must be a whole number from 0 to 100 (got {_shown(value)})"
        )
    return score


def validate_webhook_url(url: object, allowed_hosts: Collection[str] = ()) -> str:
    """Return the webhook URL, normalised, or raise InvalidSetting without echoing the token.

    Accepted: https to a Discord host with the path /api[/vN]/webhooks/<numeric id>/<token>, no
    user info and no port other than 443; or, for operators' relays and tests, http or https
    to a host in `allowed_hosts` (entries as `parse_allowed_hosts` reads them: "relay" allows
    the scheme's default port, "relay:8080" that port) with the same webhook path: allowing a
    host does not make every URL on it a webhook.
    """
    field = "discord_webhook"
    if not isinstance(url, str):
        raise InvalidSetting(field, "must be text")
    url = url.strip()
    if not url:
        raise InvalidSetting(field, "must not be empty")
    if len(url) > 2000 or not _URL_CHARS_RE.fullmatch(url):
        raise InvalidSetting(field, "must be a plain URL without spaces or special characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidSetting(field, "is not a valid URL") from None
    scheme = parts.scheme.lower()
    hostport = parts.netloc.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSetting(field, "must be an https:// URL")
    if "@" in hostport:
        raise InvalidSetting(field, "must not contain a user name or password")

    host = parts.hostname.lower()
    if _is_allowed(host, port or _DEFAULT_PORTS[scheme], allowed_hosts):
        _check_webhook_path(parts.path, parts.fragment)
        return urlunsplit((scheme, hostport, parts.path, parts.query, ""))

    if host not in DISCORD_HOSTS:
        raise InvalidSetting(field, f"must point to discord.com (got host {_shown_host(host)})")
    if scheme != "https":
        raise InvalidSetting(field, "must use https://")
    if port not in (None, 443):
        raise InvalidSetting(field, "must not name a port")
    _check_webhook_path(parts.path, parts.fragment)
    return urlunsplit(("https", host, parts.path, parts.query, ""))


def _check_webhook_path(path: str, fragment: str) -> None:
    if not _WEBHOOK_PATH_RE.fullmatch(path):
        raise InvalidSetting(
            "discord_webhook", "must look like https://discord.com/api/webhooks/<id>/<token>"
        )
    if fragment:
        raise InvalidSetting("discord_webhook", "must not have a #fragment")


def _is_allowed(host: str, port: int, allowed_hosts: Collection[str]) -> bool:
    """Whether host:port is allowed; entries are compared as `parse_allowed_hosts` reads them,
    so "relay", "relay:80" and "http://relay" all allow http://relay and http://relay:80."""
    for entry in allowed_hosts:
        allowed_host, allowed_port = _host_and_port(entry)
        ports = (allowed_port,) if allowed_port else _DEFAULT_PORTS.values()
        if allowed_host == host and port in ports:
            return True
    return False


def mask_email(email: object) -> str:
    """An address safe to show an operator: its first character and its domain.

    "alice@example.com" -> "a***@example.com"; anything that is not an address -> "***".
    """
    if not isinstance(email, str) or not _EMAIL_RE.fullmatch(email.strip()):
        return "***"
    local, _, domain = email.strip().rpartition("@")
    return f"{local[0]}***@{domain.lower()}"


def mask_webhook(url: object) -> str:
    """A webhook URL safe to show: host and a short id prefix, never the token.

    "https://discord.com/api/webhooks/123456789/abc" -> "https://discord.com/api/webhooks/1234…/****".
    Anything unparsable becomes "****".
    """
    if not isinstance(url, str):
        return "****"
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "****"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host):
        return "****"
    base = f"{scheme}://{host.lower()}" + (f":{port}" if port else "")
    match = _WEBHOOK_PATH_RE.fullmatch(parts.path)
    if not match:
        return f"{base}/****"
    return f"{base}/api{match['version'] or ''}/webhooks/{match['id'][:4]}…/****"


def parse_allowed_hosts(text: str | None) -> frozenset[str]:
    """Parse an operator setting like "127.0.0.1:8080, relay.internal" into host[:port] entries
    (the one reader of JOBPING_WEBHOOK_ALLOWED_HOSTS; `validate_webhook_url` reads its entries
    the same way). A pasted scheme sets the default port and a path is dropped, so
    "http://relay/x" and "relay:80" both mean "relay:80"; a bare "relay" allows ports 80 and
    443. Raises ValueError for an entry that is not a host[:port].
    """
    hosts = set()
    for item in (text or "").split(","):
        if item.strip():
            host, port = _host_and_port(item)
            host = f"[{host}]" if ":" in host else host  # an IPv6 address
            hosts.add(f"{host}:{port}" if port else host)
    return frozenset(hosts)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_and_port(entry: str) -> tuple[str, int | None]:
    item = entry.strip().lower()
    scheme = item.split("://", 1)[0] if "://" in item else ""
    parts = urlsplit(item if scheme else "//" + item)
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        raise ValueError(f"{entry.strip()!r} has a port that is not a number") from None
    if not parts.hostname or "@" in parts.netloc or (scheme and scheme not in _DEFAULT_PORTS):
        raise ValueError(f"{entry.strip()!r} is not a host or host:port")
    return parts.hostname, port


def _shown(value: object) -> str:
    """A short rendering of a rejected value for an error message."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _shown_host(host: str) -> str:
    return host if len(host) <= 100 else host[:99] + "…"
