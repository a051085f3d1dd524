"""The email unsubscribe link: /unsubscribe/<token>, the token the user's own (unguessable,
256 bits, users.unsubscribe_token).

GET shows a small confirmation page (no script) with a button, and changes nothing: mail
scanners and link previews open links. POST unsubscribes: it is the RFC 8058 one-click
request mail providers send (`List-Unsubscribe=One-Click` in the body, no cookie) and what
the page's button sends. Unsubscribing stops email only; choosing the email channel again
(PATCH /api/me or `jobping users update --channels`) turns it back on.

The token never appears in an answer, and pages are not cached nor sent as a referrer."""

from __future__ import annotations

import html
import logging
import re

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import users
from jobping_dagster.users.validation import mask_email

router = APIRouter(tags=["unsubscribe"])
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_IN_PATH_RE = re.compile(r"/unsubscribe/[^/?#\s\"]+")


class _RedactTokens(logging.Filter):
    """Keeps unsubscribe tokens out of uvicorn's access log: the path is logged with the
    token replaced (the access line is written after the answer, so installing this in the
    first request's handler covers that request too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _IN_PATH_RE.sub("/unsubscribe/****", a) if isinstance(a, str) else a
                for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = _IN_PATH_RE.sub("/unsubscribe/****", record.msg)
        return True


def _redact_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactTokens) for f in access.filters):
        access.addFilter(_RedactTokens())


def _user(request: Request, token: str):
    if not _TOKEN_RE.fullmatch(token):
        return None
    with request.app.state.engine.connect() as conn:
        return conn.execute(
            sa.select(users.c.id, users.c.email, users.c.email_unsubscribed_at).where(
                users.c.unsubscribe_token == token
            )
        ).first()


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<main><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status_code=status,
        headers=_HEADERS,
    )


def _unknown() -> HTMLResponse:
    return _page(
        "This link does not work",
        "<p>This unsubscribe link is not valid (any more). You can change how JobPing "
        'reaches you on <a href="/#account">your account page</a>.</p>',
        status=404,
    )


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def confirm(token: str, request: Request) -> HTMLResponse:
    """A confirmation page; changes nothing."""
    _redact_access_log()
    user = _user(request, token)
    if user is None:
        return _unknown()
    who = html.escape(mask_email(user.email))
    if user.email_unsubscribed_at is not None:
        return _page("You are unsubscribed", f"<p>JobPing sends no more email to {who}.</p>")
    return _page(
        "Unsubscribe from JobPing emails?",
        f"<p>JobPing will stop emailing job alerts to {who}. Your account, matches and "
        "other channels stay as they are.</p>"
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>',
    )


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(token: str, request: Request) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe (and the confirmation page's button)."""
    _redact_access_log()
    user = _user(request, token)
    if user is None:
        return _unknown()
    if user.email_unsubscribed_at is None:
        with request.app.state.engine.begin() as conn:
            conn.execute(
                users.update()
                .where(users.c.id == user.id)
                .where(users.c.email_unsubscribed_at.is_(None))
                .values(email_unsubscribed_at=utcnow())
            )
    who = html.escape(mask_email(user.email))
    return _page("You are unsubscribed", f"<p>JobPing sends no more email to {who}.</p>")
