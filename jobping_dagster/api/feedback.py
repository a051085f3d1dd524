"""A seeker's verdict on a match (good or bad, with an optional reason), kept for later
tuning of the scorer and the pre-filter. Giving it again replaces it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.dialects import postgresql, sqlite

from jobping_dagster.api.listings import match_of
from jobping_dagster.api.security import CurrentUser
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import match_feedback

router = APIRouter(prefix="/api", tags=["feedback"])
MAX_REASON_CHARS = 1000


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Literal["good", "bad"]
    reason: str | None = Field(None, max_length=MAX_REASON_CHARS)


class FeedbackSaved(BaseModel):
    match_id: int
    verdict: str
    reason: str | None
    updated_at: datetime


@router.post(
    "/matches/{match_id}/feedback",
    response_model=FeedbackSaved,
    responses={404: {"description": "no such match of yours"}},
)
def give_feedback(match_id: int, body: Feedback, user: CurrentUser, request: Request) -> dict:
    reason = (body.reason or "").strip().replace("\x00", "") or None
    now = utcnow()
    with request.app.state.engine.begin() as conn:
        if match_of(conn, user.id, match_id) is None:
            raise HTTPException(404, "no such match")
        values = {
            "user_id": user.id,
            "match_id": match_id,
            "verdict": body.verdict,
            "reason": reason,
            "created_at": now,
            "updated_at": now,
        }
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(match_feedback).values(**values)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "match_id"],
                set_={"verdict": body.verdict, "reason": reason, "updated_at": now},
            )
        )
    return {"match_id": match_id, "verdict": body.verdict, "reason": reason, "updated_at": now}
