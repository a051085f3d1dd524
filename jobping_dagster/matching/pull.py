"""The pull half of the fan-out and single-pair reruns: an operator or a user asks for pairs
the cascade did not push (or for one pair again), and they are scored now."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.db.schema import jobs, match_candidates, users
from jobping_dagster.matching.cascade import RERUN
from jobping_dagster.matching.inputs import prompt_hash
from jobping_dagster.matching.pair_partitions import mark_fanned_out
from jobping_dagster.matching.pairs import pair_key, parse_pair_key


def record_pulled(
    conn: sa.Connection,
    pairs: list[tuple[int, int]],
    decision: str,
    run_key: str,
    now: datetime,
) -> list[str]:
    """Records the pairs as chosen on demand (`pulled` or `rerun`) with their partition as
    added by `run_key`; a pair chosen before keeps its first decision. Returns the keys.
    Raises ValueError naming the user or posting that does not exist."""
    for user_id, job_id in pairs:
        user = conn.execute(sa.select(users.c.prompt).where(users.c.id == user_id)).first()
        if user is None:
            raise ValueError(f"no user {user_id}")
        if conn.execute(sa.select(jobs.c.id).where(jobs.c.id == job_id)).first() is None:
            raise ValueError(f"no posting {job_id}")
        exists = conn.execute(
            sa.select(match_candidates.c.user_id).where(
                match_candidates.c.user_id == user_id, match_candidates.c.job_id == job_id
            )
        ).first()
        if exists is None:
            conn.execute(
                match_candidates.insert().values(
                    user_id=user_id,
                    job_id=job_id,
                    day=now.date(),
                    decision=decision,
                    relevance=0.0,
                    weight=1.0,
                    prompt_hash=prompt_hash(user.prompt or ""),
                    created_at=now,
                )
            )
    mark_fanned_out(conn, pairs, run_key, now)
    return [pair_key(*pair) for pair in pairs]


def rerun_pair(conn: sa.Connection, key: str, run_key: str, now: datetime) -> tuple[int, int]:
    """Validates a pair key for a rerun and records it; returns (user id, job id)."""
    pair = parse_pair_key(key)
    record_pulled(conn, [pair], RERUN, run_key, now)
    return pair
