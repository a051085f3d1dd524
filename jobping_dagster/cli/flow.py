"""`jobping run-once` (what `make run` runs): the whole flow once in this process, on
today's scrape, then a summary of what this pass changed."""

from __future__ import annotations

import json
import time
from importlib import resources

import click
import sqlalchemy as sa

from jobping_dagster.cli.context import (
    app_engine,
    dagster_instance,
    definitions,
    scorer_name,
    with_settings,
)
from jobping_dagster.db.engine import utcnow
from jobping_dagster.settings import Settings
from jobping_dagster.status import changed_since, status_counts, top_matches
from jobping_dagster.users.store import UserChanges, add_user, list_users
from jobping_dagster.wording import plural


@click.command("run-once")
@click.option(
    "--no-demo-users", is_flag=True, help="Do not add the demo users when there are no users."
)
@with_settings
def run_once_command(settings: Settings, no_demo_users: bool) -> int:
    """The whole flow once, in this process (`make run`).

    Today's scrape, candidate selection, company research, fan-out, matches and
    notifications, then a summary."""
    from jobping_dagster.run_once import run_once  # loads every stage's sensors

    started = time.monotonic()
    since = utcnow()
    engine = app_engine(settings)
    seeded = 0 if no_demo_users else seed_demo_users(engine)
    if seeded:
        click.echo(
            f"no users were configured: added {plural(seeded, 'demo user')} "
            "(see `jobping users list`)"
        )
    with dagster_instance(settings) as instance:
        report = run_once(
            definitions(settings),
            instance,
            utcnow().date(),
            on_step=click.echo,
            log_level="WARNING",
        )
    with engine.connect() as conn:
        changed = changed_since(conn, since)
        totals = status_counts(conn)
        best = top_matches(conn, since)
    seconds = time.monotonic() - started
    click.echo()
    click.echo(
        "\n".join(summary_lines(scorer_name(settings), seconds, report, changed, totals, best))
    )
    return 1 if report.failed_runs else 0


def seed_demo_users(engine: sa.Engine) -> int:
    """Adds the demo users when there are no users; how many it added."""
    with engine.begin() as conn:
        if list_users(conn):
            return 0
        demo = json.loads(
            resources.files("jobping_dagster.users").joinpath("sample_users.json").read_text()
        )
        for user in demo:
            add_user(
                conn,
                user["email"],
                UserChanges(prompt=user["prompt"] or "", min_score=user["min_score"]),
            )
    return len(demo)


def summary_lines(
    scorer: str, seconds: float, report, changed: dict, totals: dict, best: list
) -> list[str]:
    """The run summary: what this pass changed, next to what is stored."""
    delivered = changed["notifications_delivered"]
    by_channel = ", ".join(f"{k} {v}" for k, v in sorted(delivered.items())) or "none"
    lines = [
        f"JobPing run summary ({seconds:.1f} s, {plural(sum(report.runs.values()), 'run')}, "
        f"{scorer})",
        f"  postings        {changed['new_postings']} new today, {totals['postings']} stored",
        f"  companies       {changed['companies_researched']} researched, "
        f"{totals['companies_researched']} of {totals['companies']} with a fresh profile",
        f"  users           {totals['users']} ({totals['users_without_prompt']} without a "
        "prompt: skipped)",
        f"  matches         {changed['matches_scored']} scored, "
        f"{changed['high_score_matches']} at or above the user's threshold, "
        f"{totals['matches']} stored",
        f"  notifications   {sum(delivered.values())} delivered ({by_channel}), "
        f"{totals['pending_outbox']} waiting",
    ]
    for row in best:
        job = f"{row.title} @ {row.company}"
        lines.append(f"    {row.score:>3}  {row.email:<28} {job}  [{row.partition_key}]")
    lines += [f"  FAILED {failure}" for failure in report.failed_runs]
    return lines
