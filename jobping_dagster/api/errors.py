"""Errors in one shape: a refused field is FastAPI's own 422 shape (`detail` a list of
{loc, msg, type}, loc naming the field), anything else `{"detail": "..."}`. Messages come
from the validators, which never echo a secret (webhook token, password)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from jobping_dagster.users.validation import InvalidSetting


def field_error(field: str, message: str, where: str = "body") -> RequestValidationError:
    return RequestValidationError([{"loc": (where, field), "msg": message, "type": "value_error"}])


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidSetting)
    async def invalid_setting(_request: Request, error: InvalidSetting) -> JSONResponse:
        detail = [{"loc": ["body", error.field], "msg": error.message, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's default handler echoes each rejected value as `input`: a password or a
        # webhook URL would come back in the response, so only where and why are kept.
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in error.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)
