"""What `jobping matches` and `jobping rerun` do with user x job pairs: the pull half of the
fan-out (a user's best recent postings the pre-filter did not send to scoring, scored on
demand) and one pair scored again. Runs execute in this process on the configured Dagster
instance, so they show in the UI like any other run."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.cli.wishes import existing_user
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import user_job_matches
from jobping_dagster.matching.assets import pair_partitions_def
from jobping_dagster.matching.cascade import PULLED
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.matching.pull import record_pulled, rerun_pair
from jobping_dagster.matching.selection import PullCandidate, pull_candidates
from jobping_dagster.matching.wishes import current_wishes
from jobping_dagster.partition_status import batched_run_requests
from jobping_dagster.run_once import PassReport, execute_run


def pull_list(
    engine: sa.Engine, llm, email: str, limit: int
) -> tuple[int, list[PullCandidate], list[str]]:
    """(user id, the candidates, the lines that list them) for the user's best `limit`
    recent postings not yet scored."""
    user = existing_user(engine, email)
    if not (user.prompt or "").strip():
        raise ValueError(f"{email} has no prompt: nothing to match")
    wishes, _ = current_wishes(engine, llm, user)
    pulled = pull_candidates(engine, user.id, user.prompt, wishes, utcnow(), limit)
    if not pulled:
        return user.id, [], [f"no recent posting left to pull for {email}"]
    lines = [f"best recent postings not yet scored for {email}:"]
    for rank, candidate in enumerate(pulled, start=1):
        gate = f"  (breaks your wish: {candidate.gate})" if candidate.gate else ""
        lines.append(
            f"{rank:>3}. {candidate.relevance:.3f}  {pair_key(user.id, candidate.job_id):<14} "
            f"{candidate.title} @ {candidate.company}{gate}"
        )
    return user.id, pulled, lines


def score_now(
    engine: sa.Engine,
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    user_id: int,
    pulled: list[PullCandidate],
) -> list[str]:
    """Scores the pulled candidates in one match run; lines of scores, then failures."""
    now = utcnow()
    keys = [pair_key(user_id, candidate.job_id) for candidate in pulled]
    [request] = batched_run_requests(keys, len(keys), f"pull:{now:%Y%m%dT%H%M%S}")
    with engine.begin() as conn:
        record_pulled(conn, [(user_id, c.job_id) for c in pulled], PULLED, request.run_key, now)
    return _execute(engine, defs, instance, request, keys)


def rerun(
    engine: sa.Engine, defs: dg.Definitions, instance: dg.DagsterInstance, key: str
) -> tuple[list[str], bool]:
    """Scores the pair `key` again; (lines, whether the run succeeded)."""
    now = utcnow()
    request = dg.RunRequest(partition_key=key, run_key=f"rerun:{key}:{now:%Y%m%dT%H%M%S}")
    with engine.begin() as conn:
        rerun_pair(conn, key, request.run_key, now)
    lines = _execute(engine, defs, instance, request, [key])
    return lines, not any(line.startswith("FAILED") for line in lines)


def _execute(engine, defs, instance, request: dg.RunRequest, keys: list[str]) -> list[str]:
    # Re-adds partitions that retention deleted; adding an existing key does nothing.
    instance.add_dynamic_partitions(pair_partitions_def.name, keys)
    report = PassReport()
    run_config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    execute_run(defs, instance, "match_job", request, report, run_config)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(user_job_matches.c.partition_key, user_job_matches.c.score)
            .where(user_job_matches.c.partition_key.in_(keys))
            .order_by(user_job_matches.c.score.desc())
        ).all()
    lines = [f"{row.score:>3}  {row.partition_key}" for row in rows]
    lines += [f"FAILED {failure}" for failure in report.failed_runs]
    return lines
