"""Deliver one notification to a user's generic webhook: a signed JSON POST.

Signature: HMAC-SHA256 with the user's secret over `timestamp + "." + body` (the exact
bytes sent), hex, in `X-JobPing-Signature: v1=<hex>`; the timestamp (Unix seconds) in
`X-JobPing-Timestamp`. `X-JobPing-Delivery` (also the body's `id`) is the same on every
retry of one notification, so a receiver can drop a repeat. README shows the check.

Where it may go is checked again here, not only when the URL was saved (DNS may have
changed since): https only unless the operator allowed the host; the host is resolved and
every address checked (no private, loopback, link-local, multicast or reserved address
unless allowed), and the connection goes to one of the checked addresses, never to a
fresh lookup. Redirects are not followed.

Outcomes: 2xx sent; 408, 429 and 5xx, a refused or timed-out connection, or no answer:
retry (the outbox backs off; a receiver that saw the first attempt drops the repeat by
its delivery id); another status: failed. Errors hold status codes and exception class
names only: never the URL (it may carry a token) or the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from urllib.parse import urlsplit

from jobping_dagster.notify.model import DeliveryResult
from jobping_dagster.notify.outbox import Recipient
from jobping_dagster.users.delivery_settings import (
    UnsafeAddress,
    resolve_public,
    validate_generic_webhook_url,
)
from jobping_dagster.users.validation import InvalidSetting, _is_allowed

USER_AGENT = "JobPing-Webhook/1"
_RETRY_STATUSES = {408, 425, 429}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-JobPing-Signature for `body` sent at `timestamp`."""
    signed = timestamp.encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to a checked address, whatever the host resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float, context):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class SignedWebhookSender:
    def __init__(
        self,
        allowed_hosts: Collection[str] = (),
        timeout_seconds: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.allowed_hosts = frozenset(allowed_hosts)
        self.timeout_seconds = timeout_seconds
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.resolve: Callable = socket.getaddrinfo
        self.clock: Callable[[], float] = time.time

    def send(self, recipient: Recipient, payload: dict) -> DeliveryResult:
        if not recipient.webhook_url or not recipient.webhook_secret:
            return DeliveryResult("failed", error="no webhook_url or webhook_secret", attempts=0)
        try:
            # Syntax and scheme; the address check below is the one connected with.
            url = validate_generic_webhook_url(
                recipient.webhook_url, self.allowed_hosts, resolve=_no_lookup
            )
        except InvalidSetting as exc:
            return DeliveryResult("failed", error=str(exc), attempts=0)
        parts = urlsplit(url)
        https = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        try:
            addresses = resolve_public(
                host, port, _is_allowed(host, port, self.allowed_hosts), self.resolve
            )
        except UnsafeAddress as exc:
            return DeliveryResult("failed", error=f"webhook_url is refused: {exc}", attempts=0)

        delivery_id = f"jobping-{recipient.notification_id}"
        sent_at = datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="seconds")
        body = json.dumps(
            {"id": delivery_id, "sent_at": sent_at, **payload},
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        ).encode()
        timestamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-JobPing-Timestamp": timestamp,
            "X-JobPing-Signature": signature(recipient.webhook_secret, timestamp, body),
            "X-JobPing-Delivery": delivery_id,
        }
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        last_error = "no address answered"
        for address in addresses:
            if https:
                conn: http.client.HTTPConnection = _PinnedHTTPS(
                    host, port, address, self.timeout_seconds, self.ssl_context
                )
            else:
                conn = _PinnedHTTP(host, port, address, self.timeout_seconds)
            try:
                try:
                    conn.connect()
                except (OSError, ssl.SSLError) as exc:
                    last_error = f"{type(exc).__name__}: could not connect"
                    continue  # not sent: the next checked address, if any
                try:
                    conn.request("POST", target, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read(64 * 1024)
                except (OSError, http.client.HTTPException) as exc:
                    return DeliveryResult(
                        "retry", error=f"{type(exc).__name__}: no answer from the receiver"
                    )
            finally:
                conn.close()
            return _outcome(response)
        return DeliveryResult("retry", error=last_error)


def _outcome(response: http.client.HTTPResponse) -> DeliveryResult:
    status = response.status
    if 200 <= status < 300:
        return DeliveryResult("sent")
    if status >= 500 or status in _RETRY_STATUSES:
        retry_after = None
        try:
            retry_after = float(response.getheader("Retry-After") or "")
        except ValueError:
            pass
        return DeliveryResult("retry", retry_after_seconds=retry_after, error=f"HTTP {status}")
    if 300 <= status < 400:
        return DeliveryResult("failed", error=f"HTTP {status}: redirects are not followed")
    return DeliveryResult("failed", error=f"HTTP {status}")


def _no_lookup(host, port, type=0):  # noqa: A002 - getaddrinfo's keyword
    """For the syntax check: say the host is a public address (the real check follows)."""
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
