"""`jobping stats [--days N]`: the daily account of the last N UTC days, today included:
the funnel, the LLM calls and their cost per stage and per user, delivery latency."""

from __future__ import annotations

from datetime import timedelta

import click

from jobping_dagster.account.daily import day_account
from jobping_dagster.account.recorded import recorded_counts
from jobping_dagster.account.report import report_lines
from jobping_dagster.cli.context import app_engine, dagster_instance, with_settings
from jobping_dagster.db.engine import utcnow
from jobping_dagster.settings import Settings


@click.command("stats")
@click.option(
    "--days", type=click.IntRange(1, 366), default=1, show_default=True, help="Days back."
)
@with_settings
def stats(settings: Settings, days: int) -> None:
    """The daily account: funnel, LLM calls and dollars, delivery latency."""
    today = utcnow().date()
    engine = app_engine(settings)
    with dagster_instance(settings) as instance, engine.connect() as conn:
        for back in range(days - 1, -1, -1):
            day = today - timedelta(days=back)
            account = day_account(conn, day, settings.llm_prices, recorded_counts(instance, day))
            click.echo("\n".join(report_lines(account)))
