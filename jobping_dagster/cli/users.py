"""`jobping users`: add, update, list, show and remove users. Webhooks are shown masked."""

from __future__ import annotations

import click

from jobping_dagster.cli.context import (
    app_engine,
    normalized_email,
    user_id_of,
    with_settings,
)
from jobping_dagster.cli.wishes import describe_user
from jobping_dagster.llm.resources import llm_outside_dagster
from jobping_dagster.notify.policy import chosen_channels
from jobping_dagster.settings import Settings
from jobping_dagster.users.delivery_settings import mask_url
from jobping_dagster.users.passwords import hash_password, validate_password
from jobping_dagster.users.store import (
    UserChanges,
    add_user,
    get_user,
    list_users,
    remove_user,
    set_password_hash,
    update_user,
)
from jobping_dagster.users.validation import mask_webhook

PROMPT_SHOWN_CHARS = 110


@click.group("users", no_args_is_help=False)
def users() -> None:
    """Add, list, update or remove users."""


def user_settings(command):
    """The options `users add` and `users update` share; validated by the users store,
    which names the field it refuses."""
    options = [
        click.option(
            "--prompt", help="What the user is looking for, in their own words ('' clears)."
        ),
        click.option("--min-score", help="Notify at or above this score, 0-100 (default 70)."),
        click.option("--discord-webhook", help="Discord webhook URL ('' removes it)."),
        click.option(
            "--channels",
            help="Where to send: any of discord,email,webhook ('' none: the table only).",
        ),
        click.option(
            "--instant-score",
            help="Send at once at or above this score, 0-100; below it (down to min-score) "
            "the daily digest ('' : min-score, everything at once).",
        ),
        click.option(
            "--quiet-hours", help="HH:MM-HH:MM in the user's time zone, e.g. 22:00-07:00 ('' none)."
        ),
        click.option("--timezone", help="IANA time zone, e.g. Europe/Berlin ('' : UTC)."),
        click.option(
            "--daily-cap", help="Instant messages a day at most; more go to the digest ('' none)."
        ),
        click.option("--webhook-url", help="Generic webhook URL, https ('' removes it)."),
        click.option(
            "--webhook-secret", help="HMAC secret the webhook is signed with, 16+ characters."
        ),
        click.option(
            "--llm-budget-usd",
            help="LLM dollars a month at most; past it, pairs wait for a pull ('' no limit).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _changes(prompt, min_score, discord_webhook, **policy) -> UserChanges:
    return UserChanges(
        prompt=prompt, min_score=min_score, discord_webhook=discord_webhook, **policy
    )


@users.command("add")
@click.argument("email")
@user_settings
@with_settings
def add(settings: Settings, email: str, prompt, min_score, discord_webhook, **policy) -> None:
    """Add a user."""
    changes = _changes(prompt, min_score, discord_webhook, **policy)
    with app_engine(settings).begin() as conn:
        user_id = add_user(conn, email, changes, settings.webhook_allowed_hosts)
    click.echo(f"added user {user_id}: {normalized_email(email)}")


@users.command("update")
@click.argument("email")
@user_settings
@with_settings
def update(settings: Settings, email: str, prompt, min_score, discord_webhook, **policy) -> None:
    """Update a user."""
    changes = _changes(prompt, min_score, discord_webhook, **policy)
    with app_engine(settings).begin() as conn:
        update_user(conn, email, changes, settings.webhook_allowed_hosts)
    click.echo(f"updated {normalized_email(email)}")


@users.command("remove")
@click.argument("email")
@with_settings
def remove(settings: Settings, email: str) -> None:
    """Remove a user with their matches and notifications."""
    with app_engine(settings).begin() as conn:
        remove_user(conn, email)
    click.echo(f"removed {normalized_email(email)}")


@users.command("password")
@click.argument("email")
@click.password_option(prompt="New password", help="Read from the terminal if not given.")
@with_settings
def password(settings: Settings, email: str, password: str) -> None:
    """Set a user's password for the web page and the API (ends their earlier sessions)."""
    email = normalized_email(email)
    password_hash = hash_password(validate_password(password, email))
    with app_engine(settings).begin() as conn:
        user_id = user_id_of(conn, email)
        set_password_hash(conn, user_id, password_hash)
    click.echo(f"password set for {email}: earlier sessions are signed out")


@users.command("list")
@with_settings
def list_(settings: Settings) -> None:
    """List users (webhooks masked)."""
    with app_engine(settings).connect() as conn:
        rows = list_users(conn)
    if not rows:
        click.echo("no users yet: add one with `jobping users add EMAIL --prompt '...'`")
    for user in rows:
        webhook = mask_webhook(user.discord_webhook_url) if user.discord_webhook_url else "-"
        if user.webhook_dead_at:
            webhook += " (dead: Discord answered 404)"
        prompt = (user.prompt or "(no prompt: not matched)").replace("\n", " ")
        cut = "…" if len(prompt) > PROMPT_SHOWN_CHARS else ""
        click.echo(f"{user.id:>4}  {user.email}  min {user.min_score}  discord {webhook}")
        click.echo(f"      {describe_policy(user)}")
        click.echo(f"      {prompt[:PROMPT_SHOWN_CHARS]}{cut}")


@users.command("show")
@click.argument("email")
@with_settings
def show(settings: Settings, email: str) -> None:
    """A user's settings and what JobPing understood of the prompt."""
    llm = llm_outside_dagster(settings)
    engine = app_engine(settings)
    for line in describe_user(engine, llm, normalized_email(email)):
        click.echo(line)
    with engine.connect() as conn:
        user = get_user(conn, normalized_email(email))
    if user is not None:
        click.echo(f"delivery: {describe_policy(user)}")


def describe_policy(user) -> str:
    """One line of the user's delivery policy, secrets masked."""
    channels = ",".join(chosen_channels(user)) or "none (table only)"
    parts = [f"channels {channels}"]
    if user.email_unsubscribed_at:
        parts.append("email unsubscribed")
    instant = user.instant_score if user.instant_score is not None else user.min_score
    parts.append(f"instant >= {instant}")
    if user.daily_cap is not None:
        parts.append(f"cap {user.daily_cap}/day")
    if user.quiet_hours:
        parts.append(f"quiet {user.quiet_hours}")
    parts.append(f"tz {user.timezone or 'UTC'}")
    if user.llm_budget_usd is not None:
        parts.append(f"budget ${user.llm_budget_usd:g}/month")
    if user.webhook_url:
        secret = "secret set" if user.webhook_secret else "no secret"
        parts.append(f"webhook {mask_url(user.webhook_url)} ({secret})")
    return "  ".join(parts)
