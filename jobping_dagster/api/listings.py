"""What a seeker reads: their matches with the posting and company, and their notifications,
as plain dicts for the API. Every query is scoped to one user id: another user's rows are
never found, so they answer 404 like rows that do not exist."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.db.schema import (
    companies,
    jobs,
    match_feedback,
    notifications,
    user_job_matches,
)
from jobping_dagster.matching.inputs import prompt_hash

JOB_COLUMNS = (
    "id", "title", "company", "location", "is_remote", "date_posted", "job_type",
    "salary_min", "salary_max", "salary_currency", "url", "site", "first_seen_at",
)  # fmt: skip
COMPANY_FIELDS = ("summary", "industry", "size", "headquarters", "website")
COMPANY_LISTS = ("culture", "red_flags")


class BadCursor(ValueError):
    pass


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadCursor("is not a cursor this API gave") from None
    if not isinstance(values, list) or len(values) != size:
        raise BadCursor("is not a cursor this API gave")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise BadCursor("is not a cursor this API gave")
    return values


@dataclass(frozen=True)
class MatchFilter:
    min_score: int | None = None
    since: datetime | None = None
    text: str | None = None


def _match_query(user_id: int) -> sa.Select:
    feedback = match_feedback.alias("feedback")
    return (
        sa.select(
            *(jobs.c[name].label(f"job_{name}") for name in JOB_COLUMNS),
            companies.c.info.label("company_info"),
            user_job_matches.c.id.label("match_id"),
            user_job_matches.c.score,
            user_job_matches.c.analysis,
            user_job_matches.c.user_prompt_hash,
            user_job_matches.c.updated_at.label("scored_at"),
            feedback.c.verdict,
            feedback.c.reason,
        )
        .select_from(user_job_matches)
        .join(jobs, jobs.c.id == user_job_matches.c.job_id)
        .outerjoin(companies, companies.c.key == jobs.c.company_key)
        .outerjoin(
            feedback,
            sa.and_(feedback.c.match_id == user_job_matches.c.id, feedback.c.user_id == user_id),
        )
        .where(user_job_matches.c.user_id == user_id)
    )


def matches_page(
    conn: sa.Connection, user, where: MatchFilter, cursor: str | None, limit: int
) -> dict:
    """The user's scored postings, best first (newest match first among equal scores)."""
    query = _match_query(user.id)
    if where.min_score is not None:
        query = query.where(user_job_matches.c.score >= where.min_score)
    if where.since is not None:
        query = query.where(jobs.c.first_seen_at >= where.since)
    if where.text:
        needle = where.text.strip().lower()
        query = query.where(
            sa.or_(
                *(
                    sa.func.lower(sa.func.coalesce(column, "")).contains(needle, autoescape=True)
                    for column in (jobs.c.title, jobs.c.company, jobs.c.location)
                )
            )
        )
    if cursor:
        score, match_id = decode_cursor(cursor, 2)
        query = query.where(
            sa.or_(
                user_job_matches.c.score < score,
                sa.and_(user_job_matches.c.score == score, user_job_matches.c.id < match_id),
            )
        )
    query = query.order_by(user_job_matches.c.score.desc(), user_job_matches.c.id.desc())
    rows = conn.execute(query.limit(limit + 1)).all()
    current = prompt_hash(user.prompt or "")
    items = [_job_item(row, current) for row in rows[:limit]]
    next_cursor = (
        encode_cursor([rows[limit - 1].score, rows[limit - 1].match_id])
        if len(rows) > limit
        else None
    )
    return {"items": items, "next_cursor": next_cursor}


def job_with_match(conn: sa.Connection, user, job_id: int) -> dict | None:
    """One posting with its description, and the user's match if there is one."""
    job = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
    if job is None:
        return None
    row = conn.execute(_match_query(user.id).where(jobs.c.id == job_id)).first()
    if row is not None:
        item = _job_item(row, prompt_hash(user.prompt or ""))
    else:
        info = conn.execute(
            sa.select(companies.c.info).where(companies.c.key == job.company_key)
        ).scalar_one_or_none()
        item = {
            "job": {name: getattr(job, name) for name in JOB_COLUMNS},
            "match": None,
            "company": _company(job.company, info),
        }
    return {**item, "description": job.description}


def _job_item(row, current_prompt_hash: str) -> dict:
    job = {name: getattr(row, f"job_{name}") for name in JOB_COLUMNS}
    analysis = row.analysis or {}
    match = {
        "id": row.match_id,
        "score": row.score,
        "recommendation": analysis.get("recommendation"),
        "explanation": analysis.get("explanation", ""),
        "pros": list(analysis.get("pros", [])),
        "cons": list(analysis.get("cons", [])),
        "scored_at": row.scored_at,
        # False: scored against an earlier version of the wish.
        "current": row.user_prompt_hash == current_prompt_hash,
        "feedback": {"verdict": row.verdict, "reason": row.reason} if row.verdict else None,
    }
    return {"job": job, "match": match, "company": _company(job["company"], row.company_info)}


def _company(name: str, info: dict | None) -> dict:
    info = info or {}
    return {
        "name": name,
        "researched": bool(info),
        **{field: info.get(field) for field in COMPANY_FIELDS},
        **{field: list(info.get(field) or []) for field in COMPANY_LISTS},
    }


def notifications_page(conn: sa.Connection, user_id: int, cursor: str | None, limit: int) -> dict:
    """The user's outbox rows, newest first, with delivery status: one per match and
    channel, a daily digest per channel (`kind` digest, its best match's posting), or a
    notice (`kind` notice, no posting: its `message` says it)."""
    query = (
        sa.select(
            notifications.c.id,
            notifications.c.match_id,
            notifications.c.kind,
            notifications.c.message,
            notifications.c.score,
            notifications.c.status,
            notifications.c.channel,
            notifications.c.attempts,
            notifications.c.created_at,
            notifications.c.delivered_at,
            jobs.c.id.label("job_id"),
            jobs.c.title,
            jobs.c.company,
            jobs.c.url,
        )
        .outerjoin(jobs, jobs.c.id == notifications.c.job_id)
        .where(notifications.c.user_id == user_id)
    )
    if cursor:
        (before,) = decode_cursor(cursor, 1)
        query = query.where(notifications.c.id < before)
    rows = conn.execute(query.order_by(notifications.c.id.desc()).limit(limit + 1)).all()
    items = [
        {
            "id": row.id,
            "match_id": row.match_id,
            "kind": row.kind,
            "message": row.message if row.kind == "notice" else None,
            "score": row.score,
            "status": row.status,
            "channel": row.channel,
            "attempts": row.attempts,
            "created_at": row.created_at,
            "delivered_at": row.delivered_at,
            "job": {"id": row.job_id, "title": row.title, "company": row.company, "url": row.url}
            if row.job_id is not None
            else None,
        }
        for row in rows[:limit]
    ]
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor}


def match_of(conn: sa.Connection, user_id: int, match_id: int):
    return conn.execute(
        sa.select(user_job_matches.c.id, user_job_matches.c.job_id).where(
            user_job_matches.c.id == match_id, user_job_matches.c.user_id == user_id
        )
    ).first()
