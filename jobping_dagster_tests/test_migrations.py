import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from jobping_dagster.db.engine import (
    create_app_engine,
    head_revision,
    migrate,
    migrations_dir,
    utcnow,
)
from jobping_dagster.db.schema import metadata, notifications, user_job_matches
from jobping_dagster_tests.builders import posting, research, store_postings, user


def test_migrations_create_exactly_the_declared_schema(db_url):
    engine = create_app_engine(db_url)
    before, after = migrate(engine)
    assert before is None
    assert after == head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_migrating_twice_changes_nothing(db_url):
    engine = create_app_engine(db_url)
    migrate(engine)
    before, after = migrate(engine)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert before == after == head_revision()
    assert {"users", "jobs", "companies", "user_job_matches", "notifications"} <= tables


def _upgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def test_notifications_still_to_send_are_rendered_when_payloads_arrive(db_url):
    """0004: rows written before messages were rendered at commit get the Discord message
    delivery would have built; delivered rows get none. 0005 then drops two `jobs` columns
    without recreating the table (on SQLite that would cascade to these rows)."""
    engine = create_app_engine(db_url)
    _upgrade(engine, "0003")
    now = utcnow()
    store_postings(engine, [posting(1), posting(2)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    analysis = {
        "explanation": "fits @everyone",
        "pros": ["python"],
        "cons": [],
        "recommendation": "apply",
    }
    with engine.begin() as conn:
        for job_id, status in ((1, "retry"), (2, "sent")):
            match = conn.execute(
                user_job_matches.insert().values(
                    user_id=alice,
                    job_id=job_id,
                    partition_key=f"u{alice}-j{job_id}",
                    score=90,
                    analysis=analysis,
                    model="test",
                    prompt_version="v",
                    user_prompt_hash="h",
                    notify_threshold=70,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                notifications.insert().values(
                    match_id=match.inserted_primary_key[0],
                    user_id=alice,
                    job_id=job_id,
                    score=90,
                    message="90/100 Backend Engineer",
                    status=status,
                    attempts=1,
                    created_at=now,
                )
            )
    _upgrade(engine, "head")
    with engine.connect() as conn:
        payloads = dict(
            conn.execute(sa.select(notifications.c.job_id, notifications.c.payloads)).all()
        )
    engine.dispose()

    discord = payloads[1]["discord"]
    assert discord["embeds"][0]["title"] == "Backend Engineer 1 — Acme"
    assert discord["embeds"][0]["description"] == "fits @\u200beveryone"
    assert discord["allowed_mentions"] == {"parse": []}
    assert {"name": "Company", "value": "acme builds software.", "inline": False} in (
        discord["embeds"][0]["fields"]
    )
    assert payloads[2] == {}


def test_upgrading_a_database_with_data_from_the_first_revision_keeps_every_row(db_url):
    """Batch migrations on SQLite recreate a table by dropping the old one, which cascades
    to every row referencing it (foreign keys are on): 0002 used to empty user_job_matches
    and notifications that way."""
    engine = create_app_engine(db_url)
    _upgrade(engine, "0001")
    old = sa.MetaData()
    old.reflect(engine)  # the schema as it was at 0001, not as declared today
    tables = old.tables
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            tables["companies"].insert(),
            {"key": "acme", "name": "Acme", "research_attempts": 0, "created_at": now},
        )
        user_id = conn.execute(
            tables["users"].insert(),
            {"email": "ada@example.com", "created_at": now, "updated_at": now},
        ).inserted_primary_key[0]
        job_id = conn.execute(
            tables["jobs"].insert(),
            {
                "site": "indeed",
                "source_id": "1",
                "dedup_key": "acme|engineer|remote",
                "company_key": "acme",
                "title": "Engineer",
                "company": "Acme",
                "url": "https://example.com/1",
                "description": "Python",
                "company_fields": {},
                "first_seen_day": now.date(),
                "first_seen_at": now,
                "last_seen_at": now,
            },
        ).inserted_primary_key[0]
        match_id = conn.execute(
            tables["user_job_matches"].insert(),
            {
                "user_id": user_id,
                "job_id": job_id,
                "partition_key": f"u{user_id}-j{job_id}",
                "score": 90,
                "analysis": {"explanation": "fits", "pros": [], "cons": []},
                "model": "test",
                "prompt_version": "v",
                "user_prompt_hash": "h",
                "notify_threshold": 70,
                "created_at": now,
                "updated_at": now,
            },
        ).inserted_primary_key[0]
        conn.execute(
            tables["notifications"].insert(),
            {
                "match_id": match_id,
                "user_id": user_id,
                "job_id": job_id,
                "score": 90,
                "message": "90/100 Engineer",
                "status": "sent",
                "created_at": now,
            },
        )
    _upgrade(engine, "head")
    with engine.connect() as conn:
        counts = {
            name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar()
            for name in ("companies", "users", "jobs", "user_job_matches", "notifications")
        }
    engine.dispose()
    assert counts == dict.fromkeys(counts, 1)


def test_0008_keeps_every_notification_and_gives_waiting_ones_their_channel(db_url):
    """0008 rebuilds `notifications` (one row per match and channel) and adds the policy
    columns to `users` in place: every row is kept, with its id, and a row still waiting
    without a channel gets the one delivery would have chosen."""
    engine = create_app_engine(db_url)
    _upgrade(engine, "0007")
    old = sa.MetaData()
    old.reflect(engine)
    tables = old.tables
    now = utcnow()
    store_postings(engine, [posting(1), posting(2), posting(3)], now)
    research(engine, "acme", now)
    with engine.begin() as conn:
        hook = conn.execute(
            tables["users"].insert(),
            {
                "email": "hook@example.com",
                "discord_webhook_url": "https://discord.com/api/webhooks/1/t",
                "created_at": now,
                "updated_at": now,
            },
        ).inserted_primary_key[0]
        plain = conn.execute(
            tables["users"].insert(),
            {"email": "plain@example.com", "created_at": now, "updated_at": now},
        ).inserted_primary_key[0]
        for user_id, job_id, status, channel in [
            (hook, 1, "pending", None),
            (hook, 2, "sent", "discord"),
            (plain, 3, "retry", None),
        ]:
            match_id = conn.execute(
                tables["user_job_matches"].insert(),
                {
                    "user_id": user_id,
                    "job_id": job_id,
                    "partition_key": f"u{user_id}-j{job_id}",
                    "score": 90,
                    "analysis": {"explanation": "fits", "pros": [], "cons": []},
                    "model": "test",
                    "prompt_version": "v",
                    "user_prompt_hash": "h",
                    "notify_threshold": 70,
                    "created_at": now,
                    "updated_at": now,
                },
            ).inserted_primary_key[0]
            conn.execute(
                tables["notifications"].insert(),
                {
                    "id": 10 * job_id,
                    "match_id": match_id,
                    "user_id": user_id,
                    "job_id": job_id,
                    "score": 90,
                    "message": "90/100",
                    "payloads": {},
                    "status": status,
                    "channel": channel,
                    "attempts": 1,
                    "created_at": now,
                },
            )
    _upgrade(engine, "head")
    with engine.begin() as conn:
        kept = conn.execute(
            sa.select(
                notifications.c.id, notifications.c.status, notifications.c.channel,
                notifications.c.kind,
            ).order_by(notifications.c.id)
        ).all()  # fmt: skip
        users_kept = conn.execute(sa.select(sa.func.count()).select_from(sa.table("users")))
        assert users_kept.scalar() == 2
        # New rows continue after the copied ids (PostgreSQL's sequence was moved on).
        new_id = conn.execute(
            notifications.insert().values(
                user_id=plain, kind="notice", channel="table", dedup_key="notice:x",
                message="m", payloads={}, status="pending", created_at=now,
            )
        ).inserted_primary_key[0]  # fmt: skip
    engine.dispose()
    assert [tuple(row) for row in kept] == [
        (10, "pending", "discord", "instant"),
        (20, "sent", "discord", "instant"),
        (30, "retry", "table", "instant"),
    ]
    assert new_id > 30
