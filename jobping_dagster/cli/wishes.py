"""What `jobping users show` prints: a user's settings and the wishes JobPing read from
their prompt, read now (and stored) when none are stored for the current prompt."""

from __future__ import annotations

import sqlalchemy as sa

from jobping_dagster.llm.models import WishProfile
from jobping_dagster.matching.wishes import current_wishes
from jobping_dagster.users.store import get_user
from jobping_dagster.users.validation import mask_webhook


def existing_user(engine: sa.Engine, email: str):
    with engine.connect() as conn:
        user = get_user(conn, email)
    if user is None:
        raise ValueError(f"no user {email}")
    return user


def describe_user(engine: sa.Engine, llm, email: str) -> list[str]:
    user = existing_user(engine, email)
    webhook = mask_webhook(user.discord_webhook_url) if user.discord_webhook_url else "-"
    settings = [
        ("notify at", f"{user.min_score}+"),
        ("discord", webhook),
        ("prompt", (user.prompt or "(none: never matched)").strip()),
    ]
    lines = [f"user {user.id}: {user.email}{'' if user.active else ' (inactive)'}"]
    lines += [_row(name, value) for name, value in settings]
    if not (user.prompt or "").strip():
        return lines
    wishes, reader = current_wishes(engine, llm, user)
    lines.append(f"understood by {reader}:")
    lines += [_row(name, value or "-") for name, value in _wish_rows(wishes)]
    if not wishes.readable:
        lines.append(
            "  JobPing found nothing it can check in this prompt: no posting is ruled out, and "
            "postings are ranked by the whole text. Name roles, skills, places or a salary floor."
        )
    lines += [f"  note: {note}" for note in wishes.notes]
    return lines


def _row(name: str, value: str) -> str:
    return f"  {name:<15} {value}"


def _wish_rows(wishes: WishProfile) -> list[tuple[str, str]]:
    salary = ""
    if wishes.salary_floor is not None:
        currency = wishes.salary_currency or "(no currency)"
        salary = f"{wishes.salary_floor:,.0f} {currency} a year"
    return [
        ("roles", ", ".join(wishes.roles)),
        ("skills", ", ".join(wishes.skills)),
        ("countries", ", ".join(wishes.countries)),
        ("cities", ", ".join(wishes.cities)),
        ("remote only", "yes" if wishes.remote_only else ""),
        ("seniority", ", ".join(wishes.seniority)),
        ("salary floor", salary),
        ("not companies", ", ".join(wishes.excluded_companies)),
        ("not industries", ", ".join(wishes.excluded_industries)),
        ("not roles", ", ".join(wishes.excluded_roles)),
        ("languages", ", ".join(wishes.languages)),
    ]
