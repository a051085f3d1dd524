"""Deliver one message to a Discord webhook and say exactly what happened.

Discord's Execute Webhook has no idempotency key, so the sender follows these rules:

- Always `?wait=true`: Discord then answers only after saving the message and returns its id.
  Without it a message that was not saved gives no error (lost silently).
- Retried inline, within one `send`, only when the message was certainly not posted: a 429
  (after waiting `retry_after`, if that fits the inline wait budget), a 5xx, or a connection
  that was refused or timed out before the request went out. Otherwise the result is "retry"
  and the caller schedules the next attempt (`retry_after_seconds` when Discord named one).
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
import ssl
import time
from collections.abc import Callable, Collection
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ConnectTimeoutError

from jobping_dagster.notify.model import DeliveryResult
from jobping_dagster.users.validation import InvalidSetting, validate_webhook_url

USER_AGENT = "JobPing (https://github.com/jobping/jobping, 0.1.0)"
_DEFAULT_RETRY_AFTER = 1.0  # a 429 without any hint: Discord's buckets reset within seconds
_MAX_BACKOFF_SECONDS = 4.0


class DiscordWebhookSender:
    """Posts JSON payloads to Discord webhooks. Not thread-safe: use one sender per thread.

    `max_attempts` bounds the HTTP requests of one `send`; `max_inline_wait_seconds` bounds the
    total time one `send` sleeps for 429s and backoff. `sleep` and `clock` may be replaced
    (tests record waits instead of sleeping).
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

        attempts = 0
        while True:
            attempts += 1
            result = self._post_once(url, body)
            if result.status != "retry":
                return replace(result, attempts=attempts)
            wait = result.retry_after_seconds
            if wait is None:
                wait = min(0.5 * 2 ** (attempts - 1), _MAX_BACKOFF_SECONDS)
            if attempts >= self.max_attempts or wait > wait_budget:
                return replace(result, attempts=attempts)
            self.sleep(wait)
            wait_budget -= wait

    def _post_once(self, url: str, body: str) -> DeliveryResult:
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


def _not_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (safe to resend).

    Connect timeouts, refused connections, DNS failures and certificate errors all happen
    before a byte of the request is written. Any other TLS or connection error may come
    after, while waiting for the answer, so it counts as ambiguous.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    # requests wraps urllib3's MaxRetryError, whose `reason` wraps the underlying error.
    pending: list[object] = [exc]
    for _ in range(8):
        if not pending:
            break
        error = pending.pop()
        # NewConnectionError (refused, DNS) is a subclass of ConnectTimeoutError.
        if isinstance(error, ConnectTimeoutError | ssl.SSLCertVerificationError):
            return True
        if isinstance(error, BaseException):
            pending += [getattr(error, "reason", None), *error.args[:1]]
    return False


def _json_body(response: requests.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(data: dict, response: requests.Response) -> float:
    for value in (data.get("retry_after"), response.headers.get("Retry-After")):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds):
            return max(seconds, 0.0)
    return _DEFAULT_RETRY_AFTER
