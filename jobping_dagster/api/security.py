"""Who is asking, and the headers every answer carries.

A request is signed in by `Authorization: Bearer <token>` (scripts, other front ends) or by
the HttpOnly `jobping_session` cookie (the web page). A cookie is sent by the browser on its
own, so a cookie-signed request that changes something must also carry the `jobping_csrf`
cookie's value in `X-CSRF-Token` (double submit): a page on another site cannot read it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jobping_dagster.api import tokens
from jobping_dagster.users.store import get_user_by_id

SESSION_COOKIE = "jobping_session"
CSRF_COOKIE = "jobping_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Swagger UI at /docs loads its script and style from jsDelivr and starts with an inline
# script; that page shows no untrusted text.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")

_bearer = HTTPBearer(auto_error=False, description="The token from /api/register or /api/login")


def now() -> datetime:
    return datetime.now(UTC)


def start_session(request: Request, response: Response, user) -> dict:
    """Issues a token for `user`, sets the session and CSRF cookies; the login answer."""
    settings = request.app.state.settings
    session = tokens.issue(
        user.id, user.password_hash, request.app.state.jwt_secret, now(), settings.session_hours
    )
    max_age = settings.session_hours * 3600
    secure = settings.secure_cookies
    response.set_cookie(
        SESSION_COOKIE, session.token, max_age=max_age, httponly=True, secure=secure,
        samesite="strict", path="/",
    )  # fmt: skip
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(24), max_age=max_age, httponly=False, secure=secure,
        samesite="strict", path="/",
    )  # fmt: skip
    return {
        "token": session.token,
        "token_type": "bearer",
        "expires_at": session.expires_at.isoformat(),
    }


def end_session(request: Request, response: Response) -> None:
    secure = request.app.state.settings.secure_cookies
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=httponly, samesite="strict")


def current_user(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
):
    """The signed-in user's row, or 401; 403 for a cookie-signed change without CSRF token."""
    token = bearer.credentials if bearer is not None else request.cookies.get(SESSION_COOKIE)
    claims = tokens.read(token, request.app.state.jwt_secret) if token else None
    if claims is None:
        raise HTTPException(401, "not signed in", headers={"WWW-Authenticate": "Bearer"})
    if bearer is None and request.method not in SAFE_METHODS:
        expected = request.cookies.get(CSRF_COOKIE, "")
        given = request.headers.get(CSRF_HEADER, "")
        if not expected or not secrets.compare_digest(expected.encode(), given.encode()):
            raise HTTPException(403, "CSRF token missing or wrong")
    engine: sa.Engine = request.app.state.engine
    with engine.connect() as conn:
        user = get_user_by_id(conn, claims.user_id)
    # A removed user, or a password changed since the token was issued.
    if user is None or tokens.password_fingerprint(user.password_hash) != (
        claims.password_fingerprint
    ):
        raise HTTPException(401, "not signed in", headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[sa.Row, Depends(current_user)]


def client_ip(request: Request) -> str:
    # uvicorn rewrites the client from X-Forwarded-For only for trusted proxies
    # (--forwarded-allow-ips), so this cannot be spoofed by a header.
    return request.client.host if request.client else "unknown"


class SecurityHeaders:
    """Pure ASGI middleware: strict headers on every answer, and no caching of API data."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = DOCS_CONTENT_SECURITY_POLICY if path in DOCS_PATHS else CONTENT_SECURITY_POLICY

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", csp.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                if path.startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Pure ASGI middleware: a request body over `limit` bytes is refused with 413 before it
    is read whole. The limit is above what any field allows (a 1 MB prompt is still read,
    and refused naming the field)."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send) -> None:
        body = b'{"detail":"request body too large (at most %d bytes)"}' % self.limit
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
