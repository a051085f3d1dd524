"""Postings as one seeker sees them: their matches best first, one posting, the unscored
postings worth a look, and scoring one now (the pull half of the fan-out). Scoring runs in
Dagster, launched through its GraphQL API, never in this process."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request

from jobping_dagster.api.dagster_runs import LaunchRefused, SchedulerUnreachable
from jobping_dagster.api.errors import field_error
from jobping_dagster.api.listings import BadCursor, MatchFilter, job_with_match, matches_page
from jobping_dagster.api.security import CurrentUser
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import jobs, user_job_matches
from jobping_dagster.matching.cascade import PULLED, RERUN
from jobping_dagster.matching.inputs import prompt_hash
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.matching.pull import record_pulled
from jobping_dagster.matching.selection import pull_candidates
from jobping_dagster.matching.wishes import current_wishes

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("")
def list_jobs(
    user: CurrentUser,
    request: Request,
    min_score: Annotated[int | None, Query(ge=0, le=100)] = None,
    since: Annotated[date | None, Query(description="First seen on or after (YYYY-MM-DD)")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in title, company or place")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict:
    """Postings with your match (score, recommendation, explanation, pros, cons, company
    research), best first; `next_cursor` fetches the next page."""
    where = MatchFilter(min_score, datetime.combine(since, time()) if since else None, q)
    with request.app.state.engine.connect() as conn:
        try:
            return matches_page(conn, user, where, cursor, limit)
        except BadCursor as error:
            raise field_error("cursor", str(error), where="query") from None


@router.get("/candidates")
def list_candidates(
    user: CurrentUser,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict:
    """Recent postings not scored for you, most relevant first: score any of them now."""
    if not (user.prompt or "").strip():
        return {"items": []}
    engine = request.app.state.engine
    wishes, _ = current_wishes(engine, request.app.state.llm, user)
    found = pull_candidates(engine, user.id, user.prompt, wishes, utcnow(), limit)
    with engine.connect() as conn:
        rows = {
            row.id: row
            for row in conn.execute(sa.select(jobs).where(jobs.c.id.in_([c.job_id for c in found])))
        }
    items = []
    for candidate in found:
        job = rows[candidate.job_id]
        items.append(
            {
                "job": {
                    "id": job.id,
                    "title": job.title,
                    "company": job.company,
                    "location": job.location,
                    "url": job.url,
                    "first_seen_at": job.first_seen_at,
                },
                "relevance": candidate.relevance,
                "gate": candidate.gate,
            }
        )
    return {"items": items}


@router.get("/{job_id}", responses={404: {"description": "no such posting"}})
def get_job(job_id: int, user: CurrentUser, request: Request) -> dict:
    """One posting with its description (markdown from the job board: untrusted text) and
    your match, if it was scored for you."""
    with request.app.state.engine.connect() as conn:
        item = job_with_match(conn, user, job_id)
    if item is None:
        raise HTTPException(404, "no such posting")
    return item


@router.post(
    "/{job_id}/score",
    status_code=202,
    responses={
        404: {"description": "no such posting"},
        409: {"description": "already scored, or no wish to score against"},
        429: {"description": "too many on-demand scores this hour"},
        503: {"description": "the scheduler (Dagster) is unreachable"},
    },
)
def score_job(job_id: int, user: CurrentUser, request: Request) -> dict:
    """Scores the posting for you now: records the pair as pulled and launches its run in
    Dagster. The match appears in GET /api/jobs when the run is done."""
    state = request.app.state
    if not (user.prompt or "").strip():
        raise HTTPException(409, "write your wish first: there is nothing to score against")
    engine = state.engine
    with engine.connect() as conn:
        if conn.execute(sa.select(jobs.c.id).where(jobs.c.id == job_id)).first() is None:
            raise HTTPException(404, "no such posting")
        scored = conn.execute(
            sa.select(user_job_matches.c.user_prompt_hash).where(
                user_job_matches.c.user_id == user.id, user_job_matches.c.job_id == job_id
            )
        ).first()
    if scored is not None and scored.user_prompt_hash == prompt_hash(user.prompt):
        raise HTTPException(409, "already scored against your current wish")
    wait = state.score_by_user.retry_after(str(user.id))
    if wait is not None:
        raise HTTPException(
            429, f"too many on-demand scores; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )  # fmt: skip
    key = pair_key(user.id, job_id)
    now = utcnow()
    run_key = f"pull:{key}:{now:%Y%m%dT%H%M%S}"
    try:
        # Launched inside the transaction: a refused launch leaves nothing recorded.
        with engine.begin() as conn:
            decision = PULLED if scored is None else RERUN
            record_pulled(conn, [(user.id, job_id)], decision, run_key, now)
            run_id = state.launch_pair_run(state.settings.dagster_graphql_url, key, run_key)
    except SchedulerUnreachable:
        raise HTTPException(503, "the scheduler is unreachable; try again later") from None
    except LaunchRefused as error:
        raise HTTPException(502, f"the scheduler refused the run: {error}") from None
    state.score_by_user.hit(str(user.id))
    return {"pair": key, "run_id": run_id, "status": "queued"}
