"""Real servers on 127.0.0.1 for the email and webhook channels.

`FakeSMTP`: an aiosmtpd server; `.messages` holds every accepted message (email.message
objects), `.refuse_rcpt` answers every RCPT with that line (e.g. "550 5.1.1 ...").
`FakeReceiver`: an HTTP server that checks the JobPing signature with the `verify` it is
given (the README's) and keeps what it accepted; `.script` holds statuses to answer first
(e.g. [503, 503]), `.delay` seconds to wait before answering."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _SMTPHandler:
    def __init__(self, fake: FakeSMTP):
        self.fake = fake

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.fake.refuse_rcpt:
            return self.fake.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.fake.messages.append(message)
        self.fake.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


class FakeSMTP:
    def __init__(self):
        self.messages: list = []
        self.envelopes: list = []
        self.refuse_rcpt: str | None = None
        self.port = free_port()
        self._controller = Controller(_SMTPHandler(self), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> FakeSMTP:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


class FakeReceiver:
    def __init__(self, secret: str, verify):
        self.secret = secret
        self.verify = verify
        self.accepted: list[tuple[dict, bytes]] = []
        self.refused_signatures = 0
        self.requests = 0
        self.script: deque[int] = deque()
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                fake.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name: value for name, value in self.headers.items()}
                if fake.delay:
                    time.sleep(fake.delay)
                status = fake.script.popleft() if fake.script else 200
                if status == 200:
                    if not fake.verify(fake.secret, headers, body):
                        fake.refused_signatures += 1
                        status = 401
                    else:
                        fake.accepted.append((headers, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://127.0.0.1:{self.port}/hooks/jobping?source=test"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
