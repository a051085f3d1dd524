"""`jobping redrive` and `jobping notifications redrive`: work an operator fixed, due now."""

from __future__ import annotations

import click

from jobping_dagster.cli.context import app_engine, user_id_of, with_settings
from jobping_dagster.companies.store import redrive_companies
from jobping_dagster.db.engine import utcnow
from jobping_dagster.matching.candidates import companies_chosen_for
from jobping_dagster.matching.pair_partitions import redrive_pairs
from jobping_dagster.notify.outbox import redrive as redrive_notifications
from jobping_dagster.settings import Settings
from jobping_dagster.wording import plural


@click.command("redrive")
@click.argument("what", type=click.Choice(["companies", "matches"]))
@click.option(
    "--user", help="Only this user's pairs, or the companies of this user's chosen postings."
)
@with_settings
def redrive(settings: Settings, what: str, user: str | None) -> None:
    """Try failed company research or pair scores again now.

    Parked or cooling-down failures become due now with a fresh attempt count."""
    with app_engine(settings).begin() as conn:
        user_id = user_id_of(conn, user)
        if what == "matches":
            count = redrive_pairs(conn, utcnow(), user_id)
            due = "the fan-out sensor scores them on its next tick"
            click.echo(f"{plural(count, 'failed pair')} due now: {due}")
        else:
            keys = None if user_id is None else companies_chosen_for(conn, user_id)
            count = redrive_companies(conn, utcnow(), keys)
            failed = plural(count, "failed company", "failed companies")
            click.echo(f"{failed} due now: the research sensor runs them next")


@click.group("notifications", no_args_is_help=False)
def notifications() -> None:
    """Re-drive notifications an operator fixed."""


@notifications.command("redrive")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    required=True,
    help="failed, dead, unknown or retry (repeatable); unknown ones may be posted twice.",
)
@click.option("--user", help="Only this user's notifications (email).")
@with_settings
def notifications_redrive(settings: Settings, statuses: tuple[str, ...], user: str | None) -> None:
    """Send failed, dead, unknown or retrying notifications again."""
    with app_engine(settings).begin() as conn:
        user_id = user_id_of(conn, user)
        count = redrive_notifications(conn, list(statuses), user_id)
    click.echo(
        f"{plural(count, 'notification')} back to pending: the notification sensor sends them next"
    )
