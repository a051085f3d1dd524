"""The seeker's web page: `GET /` answers index.html and `GET /static/<name>` the page's
own files (CSS and ES modules) from jobping_dagster/api/static. Only the files that ship
in that folder are served, by name: no path from the request ever reaches the file system.

The page is plain HTML, CSS and JavaScript with no build step. It talks to the JSON API
under /api on the same origin, signed in by the HttpOnly session cookie, and sends the CSRF
cookie's value in X-CSRF-Token with every change. The strict Content-Security-Policy
(security.py) allows no inline script or style, so everything lives in these files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent / "static"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# Revalidated on every load (ETag / Last-Modified), so a new release is picked up at once.
CACHE_HEADERS = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def _shipped_files() -> dict[str, Path]:
    """The files the page may load, by name; read once at import."""
    if not STATIC_DIR.is_dir():
        return {}
    return {
        path.name: path
        for path in STATIC_DIR.iterdir()
        if path.is_file() and path.suffix in MEDIA_TYPES and path.name != "index.html"
    }


STATIC_FILES = _shipped_files()


@router.get("/")
def index() -> FileResponse:
    return FileResponse(
        STATIC_DIR / "index.html", media_type=MEDIA_TYPES[".html"], headers=CACHE_HEADERS
    )


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    path = STATIC_FILES.get(name)
    if path is None:
        raise HTTPException(404, "no such file")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=CACHE_HEADERS)
