"""What `jobping users show`, `jobping matches` and `jobping rerun` do: the wishes JobPing
understood, the pull half of the fan-out, and one pair scored again. Runs execute in this
process on the configured Dagster instance, so they show in the UI like any other run."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import user_job_matches
from jobping_dagster.llm.local.wish_reader import read_wishes_locally
from jobping_dagster.llm.models import WishProfile
from jobping_dagster.matching.assets import pair_partitions_def
from jobping_dagster.matching.cascade import PULLED
from jobping_dagster.matching.pairs import pair_key
from jobping_dagster.matching.pull import record_pulled, rerun_pair
from jobping_dagster.matching.selection import PullCandidate, pull_candidates
from jobping_dagster.matching.wishes import read_missing_wishes, stored_wishes
from jobping_dagster.partition_status import batched_run_requests
from jobping_dagster.run_once import PassReport, execute_run
from jobping_dagster.users.store import get_user
from jobping_dagster.users.validation import mask_webhook


def _user(engine: sa.Engine, email: str):
    with engine.connect() as conn:
        user = get_user(conn, email)
    if user is None:
        raise ValueError(f"no user {email}")
    return user


def wishes_of(engine: sa.Engine, llm, user) -> tuple[WishProfile, str]:
    """The user's wishes for the current prompt and who read them: stored, else read now
    (and stored), as the selection does."""
    with engine.connect() as conn:
        found = stored_wishes(conn, {user.id: user.prompt}).get(user.id)
    if found is not None:
        return found
    prompts = {user.id: user.prompt}
    wishes, _, fell_back = read_missing_wishes(
        engine, prompts, llm.read_wishes, llm.wishes_parser_name, read_wishes_locally, utcnow()
    )
    if fell_back:
        return wishes[
            user.id
        ], f"the local reader ({llm.wishes_parser_name} failed: tried again next time)"
    return wishes[user.id], llm.wishes_parser_name


def show_user(engine: sa.Engine, llm, email: str) -> list[str]:
    user = _user(engine, email)
    webhook = mask_webhook(user.discord_webhook_url) if user.discord_webhook_url else "-"
    lines = [
        f"user {user.id}: {user.email}{'' if user.active else ' (inactive)'}",
        f"  notify at     {user.min_score}+",
        f"  discord       {webhook}",
        f"  prompt        {(user.prompt or '(none: never matched)').strip()}",
    ]
    if not (user.prompt or "").strip():
        return lines
    wishes, parser = wishes_of(engine, llm, user)
    lines.append(f"understood by {parser}:")
    rows = [
        ("roles", ", ".join(wishes.roles)),
        ("skills", ", ".join(wishes.skills)),
        ("countries", ", ".join(wishes.countries)),
        ("cities", ", ".join(wishes.cities)),
        ("remote only", "yes" if wishes.remote_only else ""),
        ("seniority", ", ".join(wishes.seniority)),
        (
            "salary floor",
            f"{wishes.salary_floor:,.0f} {wishes.salary_currency or '(no currency)'} a year"
            if wishes.salary_floor is not None
            else "",
        ),
        ("not companies", ", ".join(wishes.excluded_companies)),
        ("not industries", ", ".join(wishes.excluded_industries)),
        ("not roles", ", ".join(wishes.excluded_roles)),
        ("languages", ", ".join(wishes.languages)),
    ]
    lines += [f"  {name:<14}{value or '-'}" for name, value in rows]
    if not wishes.readable:
        lines.append(
            "  JobPing found nothing it can check in this prompt: no posting is ruled out, and "
            "postings are ranked by the whole text. Name roles, skills, places or a salary floor."
        )
    lines += [f"  note: {note}" for note in wishes.notes]
    return lines


def pull_list(
    engine: sa.Engine, llm, email: str, limit: int
) -> tuple[int, list[PullCandidate], list[str]]:
    user = _user(engine, email)
    if not (user.prompt or "").strip():
        raise ValueError(f"{email} has no prompt: nothing to match")
    wishes, _ = wishes_of(engine, llm, user)
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
    now = utcnow()
    keys = [pair_key(user_id, candidate.job_id) for candidate in pulled]
    [request] = batched_run_requests(keys, len(keys), f"pull:{now:%Y%m%dT%H%M%S}")
    with engine.begin() as conn:
        record_pulled(conn, [(user_id, c.job_id) for c in pulled], PULLED, request.run_key, now)
    return _execute(engine, defs, instance, request, keys)


def rerun(
    engine: sa.Engine, defs: dg.Definitions, instance: dg.DagsterInstance, key: str
) -> tuple[list[str], bool]:
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
