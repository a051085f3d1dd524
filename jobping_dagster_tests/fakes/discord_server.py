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

Default for any webhook id: POST /api[/v<N>]/webhooks/<id>/<token> persists the JSON body and
answers 200 with a message object (`id`, `channel_id`, `content`, `embeds`) when `wait=true`,
else 204.
Behaviours (see `Behaviour`): `rate_limited(retry_after, global_=False)` (429, JSON body and
`Retry-After` header), `error(status, message=None, persist=False)` (500/502/503/400...;
`persist=True` saves the message first), `persist_then_drop()` (saves, then closes the socket
without answering) and `persist_then_sleep(seconds)` (saves, then answers only after `seconds`,
capped at 10 s and cut short when the server stops).
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


@dataclass(frozen=True)
class Request:
    webhook_id: str
    path: str
    query: dict[str, str]
    json: object
    time: float


class FakeDiscord:
    """A threaded HTTP server that imitates Discord's Execute Webhook. See the module doc."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
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
        """Record the request and decide the answer: (behaviour, persisted message or None)."""
        with self._lock:
            self.requests.append(Request(webhook_id, path, query, payload, time.monotonic()))
            if webhook_id in self._gone:
                return Behaviour("status", 404, "Unknown Webhook"), None
            queue = self._queued.get(webhook_id)
            behaviour = queue.popleft() if queue else Behaviour("status", 200, persist=True)
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
            return behaviour, message


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
            behaviour, message = fake._receive(webhook_id, parts.path, query, payload)
            wait = query.get("wait", "").lower() == "true"

            if behaviour.kind == "drop":
                self.close_connection = True  # the server closes the socket, no answer
                return
            if behaviour.kind == "sleep":
                fake._stopping.wait(behaviour.seconds)
            if behaviour.status == 404:
                self._answer(404, {"message": "Unknown Webhook", "code": 10015})
            elif behaviour.status == 429:
                retry_after = behaviour.retry_after or 0.0
                body = {
                    "message": behaviour.message,
                    "retry_after": retry_after,
                    "global": behaviour.is_global,
                }
                headers = {"Retry-After": str(math.ceil(retry_after))}
                if behaviour.is_global:
                    headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
                self._answer(429, body, headers)
            elif behaviour.status >= 300:
                self._answer(behaviour.status, {"message": behaviour.message, "code": 0})
            elif wait:
                self._answer(200, message)
            else:
                self._answer(204, None)

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


def _webhook_id(path: str) -> str | None:
    match = _WEBHOOK_PATH_RE.fullmatch(path)
    return match[1] if match else None
