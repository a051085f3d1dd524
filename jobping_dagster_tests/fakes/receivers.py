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
    """`login`: (user, password) makes the server require STARTTLS and AUTH, with a
    self-signed certificate for 127.0.0.1 (`client_context` trusts it); `implicit_tls`
    serves TLS from the first byte instead."""

    def __init__(
        self, login: tuple[str, str] | None = None, tmp_dir=None, implicit_tls: bool = False
    ):
        self.messages: list = []
        self.envelopes: list = []
        self.refuse_rcpt: str | None = None
        self.port = free_port()
        self.client_context = None
        options: dict = {}
        if login is not None:
            server_context, self.client_context = _tls_contexts(tmp_dir)

            def authenticator(server, session, envelope, mechanism, data):
                from aiosmtpd.smtp import AuthResult, LoginPassword

                ok = (
                    isinstance(data, LoginPassword)
                    and (
                        data.login.decode(),
                        data.password.decode(),
                    )
                    == login
                )
                return AuthResult(success=ok, handled=False)

            options = {
                "tls_context": server_context,
                "require_starttls": True,
                "auth_required": True,
                "authenticator": authenticator,
            }
        controller_options: dict = {}
        if implicit_tls:  # "ssl": TLS from the first byte (port 465 style)
            server_context, self.client_context = _tls_contexts(tmp_dir)
            controller_options["ssl_context"] = server_context
        self._controller = Controller(
            _SMTPHandler(self),
            hostname="127.0.0.1",
            port=self.port,
            **options,
            **controller_options,
        )

    def __enter__(self) -> FakeSMTP:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


def _tls_contexts(tmp_dir):
    """A self-signed certificate for 127.0.0.1: the server's context and a client's that
    trusts it."""
    import datetime
    import ipaddress
    import ssl
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = Path(tmp_dir)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


class FakeReceiver:
    """`tls_dir`: serve https with a self-signed certificate for 127.0.0.1 written there
    (`client_context` trusts it)."""

    def __init__(self, secret: str, verify, tls_dir=None):
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
        self.client_context = None
        scheme = "http"
        if tls_dir is not None:
            server_context, self.client_context = _tls_contexts(tls_dir)
            self._server.socket = server_context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.port = self._server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"{scheme}://127.0.0.1:{self.port}/hooks/jobping?source=test"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
