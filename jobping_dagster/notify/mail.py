"""Deliver one notification by email over SMTP and say exactly what happened.

The message is multipart (plain text and HTML) with `List-Unsubscribe` and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the link is the API's
/unsubscribe/<token> page, the token the user's own (never stored in the message row).

Outcomes, as for Discord (model.py):
- sent: the server accepted the message (250 after DATA).
- retry: not delivered, safe to try again: the server is unreachable, the connection
  dropped before the message was handed over, or a 4xx (temporary) answer.
- failed: a 5xx (permanent) answer: the mailbox refuses (550), the sender is refused,
  authentication is refused. Not retried: the reason is recorded for an operator.
- unknown: the connection dropped while the message was being handed over, so the server
  may have it. Not resent automatically (at most once), like Discord's.

Errors carry SMTP codes, the server's text (addresses in it replaced) and exception class
names only: never the password, the unsubscribe link or the recipient's address.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr

from jobping_dagster.notify.channels import UNSUBSCRIBE_URL
from jobping_dagster.notify.model import DeliveryResult
from jobping_dagster.notify.outbox import Recipient

_ADDRESS_RE = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")


def unsubscribe_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/unsubscribe/{token}"


class EmailSender:
    """Sends one email per `send` over a fresh SMTP connection (a drain sends few).
    tls: "starttls", "ssl" (implicit TLS) or "none" (a local relay only)."""

    def __init__(
        self,
        host: str,
        port: int,
        from_address: str,
        public_url: str,
        tls: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 20.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.host = host
        self.port = port
        self.from_address = from_address
        self.public_url = public_url
        self.tls = tls
        self.username = username
        self._password = password
        self.timeout_seconds = timeout_seconds
        self.ssl_context = ssl_context or ssl.create_default_context()

    def __repr__(self) -> str:  # the password stays out of any log or error
        return f"EmailSender(host={self.host!r}, port={self.port}, tls={self.tls!r})"

    def message(self, recipient: Recipient, payload: dict) -> EmailMessage:
        if not recipient.unsubscribe_token:
            raise ValueError("no unsubscribe token")
        link = unsubscribe_url(self.public_url, recipient.unsubscribe_token)
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = recipient.email
        message["Subject"] = payload["subject"]
        message["Date"] = formatdate(localtime=False)
        domain = parseaddr(self.from_address)[1].rpartition("@")[2] or "jobping.invalid"
        message["Message-ID"] = make_msgid("jobping", domain=domain)
        message["List-Unsubscribe"] = f"<{link}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Auto-Submitted"] = "auto-generated"
        # Quoted-printable: SMTP refuses lines over 998 bytes, and the HTML is one line.
        message.set_content(payload["text"].replace(UNSUBSCRIBE_URL, link), cte="quoted-printable")
        message.add_alternative(
            payload["html"].replace(UNSUBSCRIBE_URL, html.escape(link, quote=True)),
            subtype="html",
            cte="quoted-printable",
        )
        return message

    def send(self, recipient: Recipient, payload: dict) -> DeliveryResult:
        try:
            message = self.message(recipient, payload)
        except (KeyError, ValueError, TypeError) as exc:
            return DeliveryResult("failed", error=f"cannot build the email: {type(exc).__name__}")
        phase = "connect"
        try:
            with self._connect() as smtp:
                phase = "envelope"
                smtp.ehlo_or_helo_if_needed()
                code, answer = smtp.mail(parseaddr(self.from_address)[1])
                if code != 250:
                    return _answer(code, answer, "the server refused the sender")
                code, answer = smtp.rcpt(recipient.email)
                if code not in (250, 251):
                    return _answer(code, answer, "the mailbox refused the message")
                phase = "data"
                code, answer = smtp.data(message.as_bytes(policy=SMTP_POLICY))
                if code != 250:
                    return _answer(code, answer, "the server refused the message")
                phase = "done"
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    pass  # accepted already
            return DeliveryResult("sent")
        except smtplib.SMTPAuthenticationError as exc:
            return DeliveryResult("failed", error=f"SMTP authentication refused ({exc.smtp_code})")
        except smtplib.SMTPResponseException as exc:
            if phase == "data":
                return DeliveryResult(
                    "unknown", error=f"SMTP {exc.smtp_code} while handing over: may have it"
                )
            return _answer(exc.smtp_code, exc.smtp_error, "the server refused")
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            name = type(exc).__name__
            if phase == "data":
                return DeliveryResult(
                    "unknown",
                    error=f"{name} while handing the message over: the server may have it",
                )
            if phase == "done":
                return DeliveryResult("sent")
            return DeliveryResult("retry", error=f"SMTP server unreachable or dropped: {name}")

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_seconds, context=self.ssl_context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds)
        try:
            if self.tls == "starttls":
                smtp.ehlo()
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self._password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _answer(code: int, answer: bytes | str, what: str) -> DeliveryResult:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    text = _ADDRESS_RE.sub("<address>", " ".join(text.split()))[:200]
    error = f"{what}: {code} {text}".strip()
    if 400 <= code < 500 or code == -1:
        return DeliveryResult("retry", error=error)
    return DeliveryResult("failed", error=error)
