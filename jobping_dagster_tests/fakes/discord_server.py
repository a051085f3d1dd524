"""A fake Discord webhook server on 127.0.0.1, for tests that must not reach the internet.

    from jobping_dagster_tests.fakes.discord_server import Behaviour, FakeDiscord

    with FakeDiscord() as fake:
        sender = DiscordWebhookSender(allowed_hosts={fake.host})
        fake.enqueue("1001", Behaviour.rate_limited(0.2))     # next request to webhook 1001
        result = sender.send(fake.webhook_url("1001"), payload)
        assert len(fake.messages("1001")) == 1

API:
- `fake.host`: "127.0.0.1:PORT", to pass as an allowed webhook host.
- `fake.webhook_url(webhook_id="1001", token="tok")`: "http://127.0.0.1:PORT/api/webhooks/1001/tok".
- `fake.requests`: every POST received, in order, as `Request(webhook_id, path, query, json,
  time)`; `query` maps each parameter to its first value, `time` is `time.monotonic()`.
- `fake.messages(webhook_id)`: the payloads persisted for that webhook, in order.
- `fake.set_gone(webhook_id)`: from now on 404 {"message": "Unknown Webhook", "code": 10015}.
- `fake.enqueue(webhook_id, behaviour, times=1)`: script the next request(s) to that webhook;
  queued behaviours are used first-in first-out, then the default applies again.
- `fake.answered_429`: how many 429s the fake has answered (bucket and scripted).

Default for any webhook id: POST /api[/v<N>]/webhooks/<id>/<token> persists the JSON body and
answers 200 with a message object (`id`, `channel_id`, `content`, `embeds`) when `wait=true`,
else 204.
Behaviours (see `Behaviour`): `rate_limited(retry_after, global_=False)` (429, JSON body and
`Retry-After` header; unless global, bucket headers with 0 remaining for `retry_after`),
`error(status, message=None, persist=False)` (500/502/503/400...; `persist=True` saves the
message first), `persist_then_drop()` (saves, then closes the socket without answering) and
`persist_then_sleep(seconds)` (saves, then answers only after `seconds`, capped at 10 s and cut
short when the server stops).

Rate limit buckets, as Discord's: `FakeDiscord(bucket_limit=5, bucket_window_seconds=2.0)` (the
default, Discord's real limit per webhook) lets each webhook take `bucket_limit` requests per
window; the window starts with the first request after the previous one ended. Every answer
(but a gone webhook's 404) carries `X-RateLimit-Limit`, `-Remaining`, `-Reset`, `-Reset-After`
and `-Bucket` (one bucket hash shared by all webhooks, as on Discord: the count is per webhook).
A request beyond the limit is listed in `requests` but answered 429 (`retry_after` JSON,
`Retry-After`, `X-RateLimit-Scope: user`) before any scripted behaviour, and saves nothing.
Every answer but a 429 counts against the bucket. `bucket_limit=None` turns buckets off.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_MAX_SLEEP_SECONDS = 10.0
BUCKET_HASH = "3e1b9c6d2f8a47c5b0e4d7a9c2f61b58"
_WEBHOOK_PATH_RE = re.compile(r"/api(?:/v\d+)?/webhooks/(\d+)/[^/]+/?")


@dataclass(frozen=True)
class Behaviour:
    """How the fake answers one request. Build with the class methods."""

    kind: str  # "status", "drop" or "sleep"
    status: int = 200
    message: str | None = None
    retry_after: float | None = None
    is_global: bool = False
    persist: bool = False
    seconds: float = 0.0

    @classmethod
    def rate_limited(cls, retry_after: float, global_: bool = False) -> Behaviour:
        return cls("status", 429, "You are being rate limited.", retry_after, global_)

    @classmethod
    def error(cls, status: int, message: str | None = None, persist: bool = False) -> Behaviour:
        return cls("status", status, message or f"fake error {status}", persist=persist)

    @classmethod
    def persist_then_drop(cls) -> Behaviour:
        return cls("drop", persist=True)

    @classmethod
    def persist_then_sleep(cls, seconds: float) -> Behaviour:
        return cls("sleep", persist=True, seconds=min(seconds, _MAX_SLEEP_SECONDS))


@dataclass
class _Window:
    started: float
    used: int = 0


@dataclass(frozen=True)
class Request:
    webhook_id: str
    path: str
    query: dict[str, str]
    json: object
    time: float


class FakeDiscord:
    """A threaded HTTP server that imitates Discord's Execute Webhook. See the module doc."""

    def __init__(self, bucket_limit: int | None = 5, bucket_window_seconds: float = 2.0) -> None:
        self.bucket_limit = bucket_limit
        self.bucket_window_seconds = bucket_window_seconds
        self.requests: list[Request] = []
        self._windows: dict[str, _Window] = {}
        self._answered_429 = 0
        self._messages: dict[str, list[dict]] = defaultdict(list)
        self._queued: dict[str, deque[Behaviour]] = defaultdict(deque)
        self._gone: set[str] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1_300_000_000_000_000_000)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval makes shutdown (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def webhook_url(self, webhook_id: str = "1001", token: str = "tok") -> str:
        return f"http://{self.host}/api/webhooks/{webhook_id}/{token}"

    def messages(self, webhook_id: str) -> list[dict]:
        with self._lock:
            return list(self._messages.get(webhook_id, []))

    @property
    def answered_429(self) -> int:
        with self._lock:
            return self._answered_429

    def set_gone(self, webhook_id: str) -> None:
        with self._lock:
            self._gone.add(webhook_id)

    def enqueue(self, webhook_id: str, behaviour: Behaviour, times: int = 1) -> None:
        with self._lock:
            self._queued[webhook_id].extend([behaviour] * times)

    def start(self) -> FakeDiscord:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeDiscord:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Called from handler threads.

    def _receive(self, webhook_id: str, path: str, query: dict[str, str], payload: dict):
        """Record the request and decide the answer: (behaviour, persisted message or None,
        rate limit headers)."""
        with self._lock:
            now = time.monotonic()
            self.requests.append(Request(webhook_id, path, query, payload, now))
            if webhook_id in self._gone:
                return Behaviour("status", 404, "Unknown Webhook"), None, {}
            window = self._window(webhook_id, now)
            if window is not None and window.used >= self.bucket_limit:
                self._answered_429 += 1
                reset_after = window.started + self.bucket_window_seconds - now
                behaviour = Behaviour.rate_limited(_round_up(reset_after))
                return behaviour, None, self._bucket_headers(0, reset_after)
            queue = self._queued.get(webhook_id)
            behaviour = queue.popleft() if queue else Behaviour("status", 200, persist=True)
            headers: dict[str, str] = {}
            if behaviour.status == 429:
                self._answered_429 += 1
                if not behaviour.is_global:
                    headers = self._bucket_headers(0, behaviour.retry_after or 0.0)
            elif window is not None:
                window.used += 1
                reset_after = window.started + self.bucket_window_seconds - now
                headers = self._bucket_headers(self.bucket_limit - window.used, reset_after)
            message = None
            if behaviour.persist:
                self._messages[webhook_id].append(payload)
                message = {
                    "id": str(next(self._ids)),
                    "channel_id": f"9{webhook_id}",
                    "webhook_id": webhook_id,
                    "content": payload.get("content", ""),
                    "embeds": payload.get("embeds", []),
                }
            return behaviour, message, headers

    def _window(self, webhook_id: str, now: float) -> _Window | None:
        if self.bucket_limit is None:
            return None
        window = self._windows.get(webhook_id)
        if window is None or now >= window.started + self.bucket_window_seconds:
            window = self._windows[webhook_id] = _Window(now)
        return window

    def _bucket_headers(self, remaining: int, reset_after: float) -> dict[str, str]:
        # Rounded up, so a client that waits exactly this long is never early.
        reset_after = _round_up(reset_after)
        return {
            "X-RateLimit-Limit": str(self.bucket_limit or 1),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": BUCKET_HASH,
        }


def _handler_for(fake: FakeDiscord) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # the default writes every request line (with the token) to stderr

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            webhook_id = _webhook_id(parts.path)
            if webhook_id is None:
                self._answer(404, {"message": "404: Not Found", "code": 0})
                return
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if not isinstance(payload, dict):
                self._answer(400, {"message": "Cannot send an empty message", "code": 50006})
                return
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            behaviour, message, rate_headers = fake._receive(webhook_id, parts.path, query, payload)
            wait = query.get("wait", "").lower() == "true"

            if behaviour.kind == "drop":
                self.close_connection = True  # the server closes the socket, no answer
                return
            if behaviour.kind == "sleep":
                fake._stopping.wait(behaviour.seconds)
            if behaviour.status == 404:
                self._answer(404, {"message": "Unknown Webhook", "code": 10015}, rate_headers)
            elif behaviour.status == 429:
                retry_after = behaviour.retry_after or 0.0
                body = {
                    "message": behaviour.message,
                    "retry_after": retry_after,
                    "global": behaviour.is_global,
                }
                headers = {"Retry-After": str(math.ceil(retry_after)), **rate_headers}
                if behaviour.is_global:
                    headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
                else:
                    headers["X-RateLimit-Scope"] = "user"
                self._answer(429, body, headers)
            elif behaviour.status >= 300:
                error = {"message": behaviour.message, "code": 0}
                self._answer(behaviour.status, error, rate_headers)
            elif wait:
                self._answer(200, message, rate_headers)
            else:
                self._answer(204, None, rate_headers)

        def _answer(self, status: int, body: object, headers: dict[str, str] | None = None):
            data = b"" if body is None else json.dumps(body).encode()
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (e.g. after its read timeout)

    return Handler


def _round_up(seconds: float) -> float:
    return math.ceil(max(seconds, 0.0) * 1000) / 1000


def _webhook_id(path: str) -> str | None:
    match = _WEBHOOK_PATH_RE.fullmatch(path)
    return match[1] if match else None
