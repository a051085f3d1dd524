"""A seeker's notifications, newest first, with their delivery status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from jobping_dagster.api.errors import field_error
from jobping_dagster.api.listings import BadCursor, notifications_page
from jobping_dagster.api.security import CurrentUser

router = APIRouter(prefix="/api", tags=["notifications"])


@router.get("/notifications")
def list_notifications(
    user: CurrentUser,
    request: Request,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    """Status: pending, sending, sent (Discord), recorded (no channel but the table),
    retry, failed, dead (the webhook is gone) or unknown (Discord may have it)."""
    with request.app.state.engine.connect() as conn:
        try:
            return notifications_page(conn, user.id, cursor, limit)
        except BadCursor as error:
            raise field_error("cursor", str(error), where="query") from None
