"""`jobping status` and `jobping migrate`: what the app database holds, and its schema."""

from __future__ import annotations

import json

import click
import sqlalchemy as sa

from jobping_dagster.cli.context import app_engine, with_settings
from jobping_dagster.db.engine import DatabaseUnavailable, create_app_engine, describe_url, migrate
from jobping_dagster.settings import Settings
from jobping_dagster.status import status_counts
from jobping_dagster.wording import plural


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_settings
def status(settings: Settings, as_json: bool) -> None:
    """Counts of postings, companies, users, matches, outbox."""
    with app_engine(settings).connect() as conn:
        counts = status_counts(conn)
    if as_json:
        click.echo(json.dumps(counts, indent=2))
        return
    click.echo("\n".join(status_lines(settings, counts)))


def status_lines(settings: Settings, counts: dict) -> list[str]:
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(counts["notifications_by_status"].items()))
    return [
        f"app database     {describe_url(settings.database_url)}",
        f"postings         {counts['postings']}",
        f"companies        {counts['companies']} ({counts['companies_researched']} researched, "
        f"{counts['companies_failing']} failing, {counts['companies_parked']} parked)",
        f"users            {counts['users']} ({counts['users_without_prompt']} without a prompt)",
        f"chosen pairs     {counts['pairs_chosen']} ({counts['pairs_waiting_for_a_partition']} "
        f"waiting for research or a run, "
        f"{plural(counts['live_pair_partitions'], 'live partition')})",
        f"matches          {counts['matches']} ({plural(counts['failed_pairs'], 'pair')} "
        f"failing, {counts['parked_pairs']} parked: `jobping redrive` tries them again)",
        f"notifications    {counts['notifications']} ({by_status or 'none'})",
        f"pending outbox   {counts['pending_outbox']}",
    ]


@click.command("migrate")
@with_settings
def migrate_command(settings: Settings) -> None:
    """Apply the app database migrations."""
    engine = create_app_engine(settings.database_url)
    try:
        before, after = migrate(engine)
    except sa.exc.OperationalError:
        raise DatabaseUnavailable(
            f"cannot reach the app database {describe_url(settings.database_url)} "
            "(JOBPING_DATABASE_URL)"
        ) from None
    click.echo(f"app database {describe_url(settings.database_url)}: revision {before} -> {after}")
