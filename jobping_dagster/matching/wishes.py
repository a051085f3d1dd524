"""Users' structured wishes, read once per version of their prompt and kept in `user_wishes`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from jobping_dagster.concurrency import map_concurrently
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.schema import user_wishes
from jobping_dagster.db.sql import chunks, insert_ignoring_conflicts
from jobping_dagster.llm.ledger import WISHES, record_usage
from jobping_dagster.llm.local.wish_reader import read_wishes_locally
from jobping_dagster.llm.models import LLMError, WishProfile
from jobping_dagster.llm.usage import UsageLog
from jobping_dagster.matching.inputs import prompt_hash


def stored_wishes(
    conn: sa.Connection, prompts: dict[int, str]
) -> dict[int, tuple[WishProfile, str]]:
    """(wishes, parser) of each user whose current prompt has been read already."""
    wanted = {(user_id, prompt_hash(prompt)) for user_id, prompt in prompts.items()}
    found = {}
    for part in chunks(sorted(prompts)):
        query = sa.select(user_wishes).where(user_wishes.c.user_id.in_(part))
        for row in conn.execute(query):
            if (row.user_id, row.prompt_hash) in wanted:
                found[row.user_id] = (WishProfile.model_validate(row.wishes), row.parser)
    return found


def read_missing_wishes(
    engine: sa.Engine,
    prompts: dict[int, str],
    read: Callable[[str, UsageLog], WishProfile],
    parser: str,
    fallback: Callable[[str], WishProfile],
    now: datetime,
    concurrency: int = 4,
) -> tuple[dict[int, WishProfile], int, int]:
    """Every user's wishes: stored ones, else read now (`concurrency` at a time: a first
    selection over a thousand users is a thousand calls) and stored, with what the reading
    cost in the ledger. A prompt the reader fails on is read by `fallback` for this time
    only (not stored, so it is read again next time). Returns (wishes by user, prompts read
    now, prompts that fell back)."""
    with engine.connect() as conn:
        wishes = {user_id: found for user_id, (found, _) in stored_wishes(conn, prompts).items()}
    usage: dict[int, UsageLog] = {user_id: [] for user_id in prompts if user_id not in wishes}
    missing = [(user_id, (prompts[user_id], usage[user_id])) for user_id in usage]
    read_now = fell_back = 0
    for user_id, found, error in map_concurrently(_reading(read), missing, concurrency):
        with engine.begin() as conn:
            record_usage(conn, WISHES, usage[user_id], now, user_id=user_id)
        if error is not None:
            if not isinstance(error, LLMError):
                raise error
            wishes[user_id] = fallback(prompts[user_id])
            fell_back += 1
            continue
        wishes[user_id] = found
        read_now += 1
        with engine.begin() as conn:
            save_wishes(conn, user_id, prompts[user_id], found, parser, now)
    return wishes, read_now, fell_back


def _reading(read: Callable[[str, UsageLog], WishProfile]):
    def read_one(prompt_and_usage: tuple[str, UsageLog]) -> WishProfile:
        prompt, usage = prompt_and_usage
        return read(prompt, usage)

    return read_one


def save_wishes(
    conn: sa.Connection,
    user_id: int,
    prompt: str,
    wishes: WishProfile,
    parser: str,
    now: datetime,
) -> None:
    insert_ignoring_conflicts(
        conn,
        user_wishes,
        [
            {
                "user_id": user_id,
                "prompt_hash": prompt_hash(prompt),
                "parser": parser,
                "wishes": wishes.model_dump(mode="json"),
                "created_at": now,
            }
        ],
        ["user_id", "prompt_hash"],
    )


def current_wishes(engine: sa.Engine, llm, user) -> tuple[WishProfile, str]:
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
    reader = llm.wishes_parser_name
    if fell_back:
        reader = f"the local reader ({reader} failed: tried again next time)"
    return wishes[user.id], reader
