"""Deliver one message to a Discord webhook and say exactly what happened.

Discord's Execute Webhook has no idempotency key, so the sender follows these rules:

- Always `?wait=true`: Discord then answers only after saving the message and returns its id.
  Without it a message that was not saved gives no error (lost silently).
- Retried inline, within one `send`, only when the message was certainly not posted: a 429
  (after waiting `retry_after`, if that fits the inline wait budget), a 5xx, or a connection
  that was refused or timed out before the request went out. Otherwise the result is "retry"
  and the caller schedules the next attempt (`retry_after_seconds` when Discord named one).
- Paced by Discord's rate limit headers: each answer says how many requests the webhook's
  bucket has left and when it resets (`X-RateLimit-Remaining`, `X-RateLimit-Reset-After`).
  With none left, the next request to that webhook waits for the reset, or, if that does not
  fit the inline wait budget, is not sent and the result is "retry". Waiting beforehand avoids
  the 429s, which count towards Cloudflare's invalid-request ban.
- 404 means the webhook was deleted: "dead", never retried. Other 4xx: "failed", never retried
  (repeated 401/403/429 count towards Cloudflare's invalid-request ban).

Ambiguous outcomes are at-most-once. When the request was sent and no answer came back (read
timeout, connection reset or closed mid-answer) Discord may or may not have posted the message.
The sender returns "unknown" at once and never resends it itself; the caller records the row as
unknown and surfaces it for review rather than risk a duplicate alert.

A 5xx is treated as "not posted" and retried, as Discord asks; in the rare case Discord saved
the message before failing, that retry can post a duplicate.

The webhook URL holds a secret token: it never appears in a result's `error`, which is built
from status codes, Discord's own message and exception class names only (the text of a
`requests` exception contains the URL).
"""

from __future__ import annotations

import json
import math
import socket
import ssl
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, ProtocolError, ReadTimeoutError
from urllib3.exceptions import ProxyError as ProxyConnectError

from jobping_dagster.notify.model import DeliveryResult
from jobping_dagster.users.validation import InvalidSetting, validate_webhook_url

USER_AGENT = "JobPing (https://github.com/jobping/jobping, 0.1.0)"
_DEFAULT_RETRY_AFTER = 1.0  # a 429 without any hint: Discord's buckets reset within seconds
_MAX_BACKOFF_SECONDS = 4.0

# NewConnectionError (refused, unreachable) and NameResolutionError subclass
# ConnectTimeoutError. urllib3 raises its ProxyError only while the connection to the proxy
# is not yet established.
_NOT_SENT = (
    requests.ConnectTimeout,
    ConnectTimeoutError,
    ProxyConnectError,
    ConnectionRefusedError,
    socket.gaierror,
    ssl.SSLCertVerificationError,
)
_MAYBE_SENT = (requests.ReadTimeout, ReadTimeoutError, ProtocolError)
_CHAIN_LIMIT = 32  # exceptions looked at: chains are short, but args may nest arbitrarily
# Past this many webhooks tracked, buckets that have reset are forgotten (a long-lived sender).
_MAX_TRACKED_ROUTES = 1000


@dataclass
class _Bucket:
    """What Discord's last answer on one webhook said about its rate limit bucket."""

    bucket_id: str  # X-RateLimit-Bucket: the same for every webhook, the count is not
    limit: int | None
    remaining: int
    reset_at: float  # on the sender's clock


class DiscordWebhookSender:
    """Posts JSON payloads to Discord webhooks. Not thread-safe: use one sender per thread.

    `max_attempts` bounds the HTTP requests of one `send`; `max_inline_wait_seconds` bounds the
    total time one `send` sleeps for 429s, backoff and used-up rate limit buckets. The sender
    remembers each webhook's bucket between sends. `sleep` and `clock` may be replaced (tests
    record waits instead of sleeping).
    """

    def __init__(
        self,
        timeout_seconds: float = 10.0,
        max_attempts: int = 3,
        max_inline_wait_seconds: float = 30.0,
        allowed_hosts: Collection[str] = (),
    ):
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max(1, max_attempts)
        self.max_inline_wait_seconds = max_inline_wait_seconds
        self.allowed_hosts = frozenset(allowed_hosts)
        self.sleep: Callable[[float], None] = time.sleep
        self.clock: Callable[[], float] = time.monotonic
        # After a global 429 every send from this sender waits until then, not just the one hit.
        self._global_pause_until = 0.0
        # Per webhook (host and path, the token included: Discord counts per webhook id and
        # token, not per bucket id) its bucket as last reported.
        self._buckets: dict[str, _Bucket] = {}
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": USER_AGENT})

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> DiscordWebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, webhook_url: str, payload: dict) -> DeliveryResult:
        try:
            url = _with_wait(validate_webhook_url(webhook_url, self.allowed_hosts))
        except InvalidSetting as exc:
            return DeliveryResult("failed", error=str(exc), attempts=0)
        try:
            body = json.dumps(payload, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return DeliveryResult("failed", error=f"payload is not JSON: {exc}", attempts=0)

        wait_budget = self.max_inline_wait_seconds
        pause = self._global_pause_until - self.clock()
        if pause > 0:
            if pause > wait_budget:
                return DeliveryResult(
                    "retry", retry_after_seconds=pause, error="global rate limit", attempts=0
                )
            self.sleep(pause)
            wait_budget -= pause

        route = _route(url)
        attempts = 0
        while True:
            pace = self._bucket_wait(route)
            if pace > 0:
                if pace > wait_budget:
                    return DeliveryResult(
                        "retry",
                        retry_after_seconds=pace,
                        error="rate limited: the webhook's bucket is used up",
                        attempts=attempts,
                    )
                self._wait_for_reset(route, pace)
                wait_budget -= pace
            attempts += 1
            result = self._post_once(url, route, body)
            if result.status != "retry":
                return replace(result, attempts=attempts)
            wait = result.retry_after_seconds
            if wait is None:
                wait = min(0.5 * 2 ** (attempts - 1), _MAX_BACKOFF_SECONDS)
            if attempts >= self.max_attempts or wait > wait_budget:
                return replace(result, attempts=attempts)
            if result.retry_after_seconds is not None:
                # A 429's retry_after is Discord's word on when the bucket frees up.
                self._wait_for_reset(route, wait)
            else:
                self.sleep(wait)
            wait_budget -= wait

    def _bucket_wait(self, route: str) -> float:
        bucket = self._buckets.get(route)
        if bucket is None or bucket.remaining > 0:
            return 0.0
        return max(bucket.reset_at - self.clock(), 0.0)

    def _wait_for_reset(self, route: str, seconds: float) -> None:
        self.sleep(seconds)
        bucket = self._buckets.get(route)
        if bucket is not None:
            # Reset: full until the next answer says otherwise.
            bucket.remaining = max(bucket.limit or 1, 1)

    def _record_bucket(self, route: str, response: requests.Response) -> None:
        headers = response.headers
        remaining = _header_number(headers.get("X-RateLimit-Remaining"))
        reset_after = _header_number(headers.get("X-RateLimit-Reset-After"))
        if remaining is None or reset_after is None:
            return  # no bucket information (e.g. a relay that drops the headers)
        limit = _header_number(headers.get("X-RateLimit-Limit"))
        if len(self._buckets) >= _MAX_TRACKED_ROUTES and route not in self._buckets:
            now = self.clock()
            self._buckets = {r: b for r, b in self._buckets.items() if b.reset_at > now}
        self._buckets[route] = _Bucket(
            bucket_id=headers.get("X-RateLimit-Bucket", "")[:100],
            limit=int(limit) if limit is not None else None,
            remaining=int(remaining),
            reset_at=self.clock() + reset_after,
        )

    def _post_once(self, url: str, route: str, body: str) -> DeliveryResult:
        try:
            response = self._session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=self.timeout_seconds,
                # A redirect would carry the token to wherever it points.
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            name = type(exc).__name__
            if _not_sent(exc):
                return DeliveryResult("retry", error=f"{name}: request not sent")
            return DeliveryResult("unknown", error=f"{name}: sent but no answer; may have posted")

        self._record_bucket(route, response)
        status = response.status_code
        data = _json_body(response)
        if 200 <= status < 300:
            message_id = data.get("id")
            return DeliveryResult("sent", message_id=str(message_id) if message_id else None)
        if status == 429:
            retry_after = _retry_after(data, response)
            is_global = response.headers.get("X-RateLimit-Global", "").lower() == "true"
            if data.get("global") is True or is_global:
                self._global_pause_until = self.clock() + retry_after
                error = "HTTP 429: global rate limit"
            else:
                error = "HTTP 429: rate limited"
            return DeliveryResult("retry", retry_after_seconds=retry_after, error=error)
        error = f"HTTP {status}"
        if data.get("message"):
            error += f": {str(data['message'])[:200]}"
        if status >= 500:
            return DeliveryResult("retry", error=error)
        if status == 404:
            return DeliveryResult("dead", error=error)
        if 300 <= status < 400:
            error += ": unexpected redirect"
        return DeliveryResult("failed", error=error)


def _with_wait(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "wait"]
    query.append(("wait", "true"))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def _route(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _not_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (safe to resend).

    Refused or unreachable connects, connect timeouts, DNS failures, a proxy that could not be
    reached and certificate errors all happen before a byte of the request is written. The
    cause sits anywhere in the chain: requests wraps urllib3's MaxRetryError, whose `reason`
    may be a ProxyError holding the NewConnectionError in its second arg, with the OSError as
    `__cause__`. A read timeout or a dropped connection anywhere in the chain means the request
    may have gone out, and wins: resending could post twice.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    not_sent = False
    while pending and len(seen) < _CHAIN_LIMIT:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, _MAYBE_SENT):
            return False
        not_sent = not_sent or isinstance(error, _NOT_SENT)
        linked = [*error.args, getattr(error, "reason", None), error.__cause__, error.__context__]
        pending += [e for e in linked if isinstance(e, BaseException)]
    return not_sent


def _json_body(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _header_number(value: str | None) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _retry_after(data: dict, response: requests.Response) -> float:
    for value in (data.get("retry_after"), response.headers.get("Retry-After")):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return _DEFAULT_RETRY_AFTER
