"""Checks for the settings a user gives us: email, wish-list prompt, minimum score, webhooks,
and the delivery policy (channels, instant band, quiet hours, time zone, daily cap).

A webhook URL carries a secret token, so nothing here ever puts the URL (or its token) into an
error message; use `mask_webhook` to show one.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Collection
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


# Delivery policy (notify/policy.py reads what is stored).
CHANNELS = ("discord", "email", "webhook")
MAX_DAILY_CAP = 1000
_QUIET_RE = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
_SECRET_RE = re.compile(r"[!-~]{16,200}")


def validate_channels(value: object) -> str:
    """The channels as stored: "discord,email" (known names, each once, in CHANNELS order), or
    "" for none (the notifications table only). Accepts a list or a comma-separated text."""
    if isinstance(value, str):
        names = [part.strip().lower() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        names = [v.strip().lower() for v in value]
    else:
        raise InvalidSetting("channels", "must be a list of discord, email, webhook")
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise InvalidSetting(
            "channels",
            f"unknown channel {_shown(unknown[0])}: choose among {', '.join(CHANNELS)}",
        )
    return ",".join(name for name in CHANNELS if name in names)


def validate_instant_score(value: object) -> int:
    """The instant band: a whole number from 0 to 100, like min_score."""
    try:
        return validate_min_score(value)
    except InvalidSetting as error:
        raise InvalidSetting("instant_score", error.message) from None


def validate_quiet_hours(value: object) -> str:
    """ "HH:MM-HH:MM" (24-hour clock, the user's time zone); the window may span midnight
    ("22:00-07:00") but must not be empty."""
    if not isinstance(value, str):
        raise InvalidSetting("quiet_hours", "must be text like 22:00-07:00")
    text = value.strip().replace(" ", "")
    match = _QUIET_RE.fullmatch(text)
    if not match:
        raise InvalidSetting(
            "quiet_hours",
            f"must be HH:MM-HH:MM on a 24-hour clock, like 22:00-07:00 (got {_shown(value)})",
        )
    start, end = text.split("-")
    if start == end:
        raise InvalidSetting("quiet_hours", "must end at another time than it starts")
    return text


def validate_timezone(value: object) -> str:
    """An IANA time zone name, e.g. Europe/Berlin."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_+/-]{1,64}", value.strip()):
        raise InvalidSetting("timezone", "must be an IANA time zone like Europe/Berlin")
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSetting(
            "timezone", f"unknown time zone {_shown(name)} (use e.g. Europe/Berlin)"
        ) from None
    return name


def validate_daily_cap(value: object) -> int:
    """Instant messages a day at most: a whole number from 0 (everything to the digest)."""
    cap: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        cap = value
    elif isinstance(value, str) and _WHOLE_NUMBER_RE.fullmatch(value.strip()):
        cap = int(value.strip())
    if cap is None or not 0 <= cap <= MAX_DAILY_CAP:
        raise InvalidSetting(
            "daily_cap", f"must be a whole number from 0 to {MAX_DAILY_CAP} (got {_shown(value)})"
        )
    return cap


MAX_LLM_BUDGET_USD = 10_000


def validate_llm_budget(value: object) -> float:
    """A monthly LLM budget in US dollars: a number from 0 to 10,000 (cents kept)."""
    budget: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        budget = float(value)
    elif isinstance(value, str):
        try:
            budget = float(value.strip())
        except ValueError:
            budget = None
    if budget is None or not (0 <= budget <= MAX_LLM_BUDGET_USD):  # NaN fails both
        raise InvalidSetting(
            "llm_budget_usd",
            f"must be a number of dollars from 0 to {MAX_LLM_BUDGET_USD:,} (got {_shown(value)})",
        )
    return round(budget, 2)


def validate_webhook_secret(value: object) -> str:
    """The HMAC secret of the generic webhook: 16 to 200 printable characters, no spaces.
    Never echoed."""
    if not isinstance(value, str) or not _SECRET_RE.fullmatch(value.strip()):
        raise InvalidSetting(
            "webhook_secret",
            "must be 16 to 200 printable characters without spaces (e.g. `openssl rand -hex 32`)",
        )
    return value.strip()


class UnsafeAddress(ValueError):
    """The host resolves to an address JobPing must not call."""


def resolve_public(host: str, port: int, allowed: bool, resolve=None) -> list[str]:
    """Every address `host` resolves to, each checked: refuses (UnsafeAddress) when one is
    private, loopback, link-local, multicast, reserved or unspecified, unless the operator
    allowed the host. A caller connects only to an address returned here."""
    resolve = resolve or socket.getaddrinfo
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeAddress("its host does not resolve") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not allowed and (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
            or not address.is_global
        ):
            raise UnsafeAddress(
                "its host resolves to a private, loopback, link-local, multicast or reserved"
                " address (an operator may allow the host with JOBPING_WEBHOOK_ALLOWED_HOSTS)"
            )
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise UnsafeAddress("its host does not resolve")
    return addresses


def validate_generic_webhook_url(
    url: object, allowed_hosts: Collection[str] = (), resolve=None
) -> str:
    """The generic webhook's URL, or InvalidSetting("webhook_url", ...) without echoing it:
    https to a host whose every address is public; http and any address only for a host the
    operator allowed (JOBPING_WEBHOOK_ALLOWED_HOSTS). Checked again when sending."""
    field = "webhook_url"
    if not isinstance(url, str):
        raise InvalidSetting(field, "must be text")
    url = url.strip()
    if len(url) > 2000 or not _URL_CHARS_RE.fullmatch(url):
        raise InvalidSetting(field, "must be a plain URL without spaces or special characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidSetting(field, "is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSetting(field, "must be an https:// URL")
    if "@" in parts.netloc:
        raise InvalidSetting(field, "must not contain a user name or password")
    if parts.fragment:
        raise InvalidSetting(field, "must not have a #fragment")
    host = parts.hostname.lower()
    port = port or _DEFAULT_PORTS[scheme]
    allowed = _is_allowed(host, port, allowed_hosts)
    if scheme != "https" and not allowed:
        raise InvalidSetting(field, "must use https://")
    try:
        resolve_public(host, port, allowed, resolve)
    except UnsafeAddress as error:
        raise InvalidSetting(field, f"is refused: {error}") from None
    return urlunsplit((scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def mask_url(url: object) -> str:
    """A URL safe to show: scheme and host only ("https://hooks.example.com/…")."""
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname or ""
    except ValueError:
        return "****"
    if parts.scheme.lower() not in ("http", "https") or not re.fullmatch(
        r"[A-Za-z0-9.-]{1,253}", host
    ):
        return "****"
    return f"{parts.scheme.lower()}://{host.lower()}/…"
