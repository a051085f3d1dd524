"""Checks for a user's delivery settings: channels, instant band, quiet hours, time zone,
daily cap, monthly LLM budget, and the generic webhook (its URL is refused when its host
resolves to a private, loopback or link-local address, here and again at send time).

A webhook URL and its secret are never put into an error message; `mask_url` shows one.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Collection
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobping_dagster.users.validation import (
    _DEFAULT_PORTS,
    _URL_CHARS_RE,
    _WHOLE_NUMBER_RE,
    InvalidSetting,
    _is_allowed,
    _shown,
    validate_min_score,
)

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
