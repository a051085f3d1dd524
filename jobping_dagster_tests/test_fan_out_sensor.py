"""The fan-out sensor: chosen pairs -> partitions and batched runs, read from the app
database; first-tick and per-tick caps, backpressure, stranded and failed pairs retried in
batches, retention."""

import json
from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import jobs, match_candidates, match_failures, users
from jobping_dagster.db.schema import user_job_matches as matches_table
from jobping_dagster.llm.ledger import SCORE, record_usage
from jobping_dagster.llm.resources import LocalLLMResource
from jobping_dagster.llm.usage import Usage
from jobping_dagster.matching.assets import pair_partitions_def, user_job_matches
from jobping_dagster.matching.candidates import save_chosen
from jobping_dagster.matching.cascade import KEPT, SHADOW, Chosen
from jobping_dagster.matching.pair_partitions import redrive_pairs
from jobping_dagster.matching.pairs import parse_pair_key
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.matching.sensors import (
    FIRST_TICK_MAX_PAIRS,
    PAIRS_PER_RUN,
    STRANDED_AFTER,
    build_match_fan_out_sensor,
    match_job,
)
from jobping_dagster.notify.resources import NotificationOutbox
from jobping_dagster_tests.builders import (
    age_partitions,
    evaluate_sensor,
    posting,
    research,
    store_postings,
    user,
)

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def _tick(instance, db_url, cursor=None, **prefilter):
    resources = {"app_db": AppDatabase(url=db_url), "prefilter": PrefilterResource(**prefilter)}
    defs = dg.Definitions(
        assets=[user_job_matches],
        jobs=[match_job],
        resources={**resources, "llm": LocalLLMResource(), "outbox": NotificationOutbox()},
    )
    return evaluate_sensor(
        build_match_fan_out_sensor(interval_seconds=30), instance, resources, cursor, defs
    )


def _requested_keys(instance, result) -> list[str]:
    """Every pair a tick's run requests cover, resolving ranges like Dagster does."""
    all_keys = instance.get_dynamic_partitions(pair_partitions_def.name)
    covered = []
    for request in result.run_requests:
        if request.partition_key:
            covered.append(request.partition_key)
        else:
            start = all_keys.index(request.tags[RANGE_START])
            end = all_keys.index(request.tags[RANGE_END])
            covered.extend(all_keys[start : end + 1])
    return covered


def _choose(engine, user_ids, decision=KEPT, company_key=None):
    """Records every (user, job) pair as chosen by the cascade."""
    now = utcnow()
    with engine.begin() as conn:
        query = sa.select(jobs.c.id)
        if company_key:
            query = query.where(jobs.c.company_key == company_key)
        job_ids = conn.execute(query).scalars().all()
        chosen = [Chosen(u, j, decision, 0.5, 1.0) for u in user_ids for j in job_ids]
        save_chosen(conn, now.date(), chosen, {u: "h" for u in user_ids}, now)
    return len(chosen)


def _queue_runs(instance, db_url, requests):
    """Creates the requested runs as the daemon would, without executing them."""
    defs = dg.Definitions(
        assets=[user_job_matches],
        jobs=[match_job],
        resources={
            "app_db": AppDatabase(url=db_url),
            "llm": LocalLLMResource(),
            "outbox": NotificationOutbox(),
        },
    )
    job = defs.resolve_job_def("match_job")
    for request in requests:
        tags = {**(request.tags or {}), "dagster/run_key": request.run_key}
        if request.partition_key:
            tags["dagster/partition"] = request.partition_key
        instance.create_run_for_job(job, tags=tags)  # NOT_STARTED: counts as active


def test_chosen_pairs_with_fresh_research_become_batched_runs(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n, "Acme") for n in range(10)], now)
    store_postings(engine, [posting(n, "Unresearched Co") for n in range(10, 14)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    bob = user(engine, "bob@example.com")
    _choose(engine, [alice, bob])

    with dg.DagsterInstance.ephemeral() as instance:
        result = _tick(instance, db_url)
        keys = _requested_keys(instance, result)

    pairs = [parse_pair_key(key) for key in keys]
    assert len(keys) == len(set(keys)) == 20  # 10 researched jobs x 2 users
    assert {user_id for user_id, _ in pairs} == {alice, bob}
    assert len(result.run_requests) == 1
    assert json.loads(result.cursor)["waiting"] == 8  # unresearched: wait for research
    with engine.connect() as conn:
        added = conn.execute(
            sa.select(sa.func.count()).where(match_candidates.c.partition_added_at.is_not(None))
        ).scalar_one()
    assert added == 20


def test_first_tick_is_capped_and_the_rest_follows(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(90)], now)
    research(engine, "acme", now)
    users = [user(engine, f"user{n}@example.com") for n in range(3)]
    _choose(engine, users)

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)
        first_keys = _requested_keys(instance, first)
        second = _tick(instance, db_url, cursor=first.cursor)
        second_keys = _requested_keys(instance, second)

    assert len(first_keys) == FIRST_TICK_MAX_PAIRS
    assert all(int(r.tags["jobping/batch_size"]) <= PAIRS_PER_RUN for r in first.run_requests)
    assert json.loads(first.cursor)["waiting"] == 270 - FIRST_TICK_MAX_PAIRS
    assert len(second_keys) == 270 - FIRST_TICK_MAX_PAIRS
    assert not set(first_keys) & set(second_keys)


def test_backpressure_requests_no_run_while_enough_are_queued(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(100)], now)
    research(engine, "acme", now)
    users = [user(engine, f"user{n}@example.com") for n in range(5)]
    _choose(engine, users)  # 500 pairs: 5 runs' worth

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url, cursor="{}", max_active_match_runs=2)
        _queue_runs(instance, db_url, first.run_requests)
        blocked = _tick(instance, db_url, cursor=first.cursor, max_active_match_runs=2)
        for run in instance.get_runs():
            instance.delete_run(run.run_id)  # the queue drained
        resumed = _tick(instance, db_url, cursor=blocked.cursor, max_active_match_runs=2)

    assert len(first.run_requests) == 2  # room for 2 runs, not 5
    assert blocked.run_requests == []
    assert json.loads(blocked.cursor)["waiting"] == 300
    assert len(resumed.run_requests) == 2


def test_pairs_in_flight_are_not_requested_again(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(PAIRS_PER_RUN + 5)], now)
    research(engine, "acme", now)
    _choose(engine, [user(engine, "alice@example.com")])

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)
        _queue_runs(instance, db_url, first.run_requests)
        age_partitions(engine, STRANDED_AFTER * 2)
        second = _tick(instance, db_url, cursor=first.cursor)

    assert len(first.run_requests) == 2
    assert second.run_requests == []


def test_pairs_added_but_never_run_are_retried_together_after_the_stranded_delay(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(3)], now)
    research(engine, "acme", now)
    _choose(engine, [user(engine, "alice@example.com")])

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)  # partitions added, runs lost (never created)
        first_keys = _requested_keys(instance, first)
        too_soon = _tick(instance, db_url, cursor=first.cursor)
        age_partitions(engine, STRANDED_AFTER * 2)
        sent_back = _tick(instance, db_url, cursor=first.cursor)
        gone = instance.get_dynamic_partitions(pair_partitions_def.name)
        again = _tick(instance, db_url, cursor=sent_back.cursor)
        again_keys = _requested_keys(instance, again)
        partitions = instance.get_dynamic_partitions(pair_partitions_def.name)

    assert too_soon.run_requests == []  # its run may just not be created yet
    # Sent back: partitions deleted this tick, added again (after all others) the next.
    assert sent_back.run_requests == [] and gone == []
    assert json.loads(sent_back.cursor)["sent_back"] == 3
    # One batched run over the three, as one partition range.
    assert [r.run_key.split(":")[0] for r in again.run_requests] == ["match-retry"]
    assert sorted(again_keys) == sorted(first_keys)
    assert sorted(partitions) == sorted(first_keys)  # moved, not duplicated
    assert again.run_requests[0].tags["dagster/max_runtime"]


def _end_runs(instance, db_url, requests, will_retry=None):
    """Creates the requested runs and marks them failed, as a killed worker's runs end."""
    _queue_runs(instance, db_url, requests)
    for run in instance.get_runs(dg.RunsFilter(job_name="match_job")):
        if run.status == dg.DagsterRunStatus.NOT_STARTED:
            instance.report_run_failed(run, "worker killed")
            if will_retry is not None:
                instance.add_run_tags(run.run_id, {"dagster/will_retry": will_retry})


def test_pairs_of_a_run_that_ended_without_them_are_retried_at_once(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(4)], now)
    research(engine, "acme", now)
    _choose(engine, [user(engine, "alice@example.com")])

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)
        first_keys = _requested_keys(instance, first)
        _end_runs(instance, db_url, first.run_requests, will_retry="true")
        waits_for_dagster_retry = _tick(instance, db_url, cursor=first.cursor)
        for run in instance.get_runs(dg.RunsFilter(job_name="match_job")):
            instance.add_run_tags(run.run_id, {"dagster/will_retry": "false"})
        sent_back = _tick(instance, db_url, cursor=first.cursor)
        retried = _tick(instance, db_url, cursor=sent_back.cursor)
        retried_keys = _requested_keys(instance, retried)

    assert waits_for_dagster_retry.run_requests == []
    assert len(retried.run_requests) == 1
    assert sorted(retried_keys) == sorted(first_keys)


def _fail(engine, keys, attempts, next_attempt_at):
    now = utcnow()
    with engine.begin() as conn:
        for key in keys:
            user_id, job_id = parse_pair_key(key)
            conn.execute(
                match_failures.insert().values(
                    user_id=user_id,
                    job_id=job_id,
                    partition_key=key,
                    attempts=attempts,
                    last_error="OpenAI unreachable",
                    last_attempt_at=now,
                    next_attempt_at=next_attempt_at,
                )
            )


def test_failed_pairs_come_back_after_their_cool_down_and_parked_ones_after_redrive(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(4)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    _choose(engine, [alice])

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)
        keys = _requested_keys(instance, first)
        _end_runs(instance, db_url, first.run_requests, will_retry="false")
        cooling, parked = keys[:2], keys[2:]
        _fail(engine, cooling, 1, now + timedelta(minutes=2))
        _fail(engine, parked, 5, None)
        during_cool_down = _tick(instance, db_url, cursor=first.cursor)
        with engine.begin() as conn:
            conn.execute(
                match_failures.update()
                .where(match_failures.c.next_attempt_at.is_not(None))
                .values(next_attempt_at=now - timedelta(seconds=1))
            )
        _tick(instance, db_url, cursor=first.cursor)  # sent back
        retry = _tick(instance, db_url, cursor=first.cursor)
        after_cool_down = _requested_keys(instance, retry)
        _end_runs(instance, db_url, retry.run_requests, will_retry="false")
        with engine.begin() as conn:  # the retry failed again: cooling down once more
            conn.execute(
                match_failures.update().values(
                    attempts=2, last_attempt_at=utcnow(), next_attempt_at=utcnow() + timedelta(1)
                )
            )
        with engine.begin() as conn:
            assert redrive_pairs(conn, utcnow(), alice) == 4
        _tick(instance, db_url, cursor=first.cursor)  # sent back
        after_redrive = _requested_keys(instance, _tick(instance, db_url, cursor=first.cursor))

    assert during_cool_down.run_requests == []
    assert sorted(after_cool_down) == sorted(cooling)
    assert sorted(after_redrive) == sorted(keys)


def _scored(engine, keys):
    now = utcnow()
    rows = [
        dict(
            zip(("user_id", "job_id"), parse_pair_key(key), strict=True),
            partition_key=key,
            score=50,
            analysis={},
            model="test",
            prompt_version="-",
            user_prompt_hash="-",
            notify_threshold=70,
            created_at=now,
            updated_at=now,
        )
        for key in keys
    ]
    with engine.begin() as conn:
        conn.execute(matches_table.insert(), rows)


def test_retention_deletes_old_pair_partitions_and_keeps_their_rows(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(4)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    _choose(engine, [alice])

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)
        keys = _requested_keys(instance, first)
        _scored(engine, keys)
        age_partitions(engine, timedelta(days=15))
        later = _tick(instance, db_url, cursor=first.cursor, pair_retention_days=14)
        left = instance.get_dynamic_partitions(pair_partitions_def.name)

    assert len(keys) == 4
    assert left == []
    assert json.loads(later.cursor)["deleted"] == 4
    with engine.connect() as conn:
        rows = conn.execute(sa.select(match_candidates)).all()
    assert len(rows) == 4 and all(row.partition_deleted_at is not None for row in rows)


def test_shadow_pairs_fan_out_like_kept_ones(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(3)], now)
    research(engine, "acme", now)
    _choose(engine, [user(engine, "alice@example.com")], decision=SHADOW)

    with dg.DagsterInstance.ephemeral() as instance:
        keys = _requested_keys(instance, _tick(instance, db_url))
    assert len(keys) == 3


def test_stale_company_research_and_unchosen_pairs_are_not_matched(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(1, "Old Research")], now)
    store_postings(engine, [posting(2, "Acme")], now)
    research(engine, "old-research", now - timedelta(days=181))
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    user(engine, "bob@example.com")  # nothing chosen for bob
    _choose(engine, [alice], company_key="old-research")

    with dg.DagsterInstance.ephemeral() as instance:
        result = _tick(instance, db_url)

    assert result.run_requests == []
    assert result.dynamic_partitions_requests == []


def test_pairs_of_a_user_past_their_monthly_budget_wait_and_others_run(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n, "Acme") for n in range(5)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    bob = user(engine, "bob@example.com")
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.id == alice).values(llm_budget_usd=0.01))
        # 0.15 USD of gpt-4o-mini input this month: past Alice's 0.01.
        record_usage(conn, SCORE, [Usage("gpt-4o-mini", 1_000_000)], now, user_id=alice)
    _choose(engine, [alice, bob])

    with dg.DagsterInstance.ephemeral() as instance:
        result = _tick(instance, db_url)
        keys = _requested_keys(instance, result)

    assert {parse_pair_key(key)[0] for key in keys} == {bob}
    assert json.loads(result.cursor)["users_over_budget"] == 1
    assert json.loads(result.cursor)["waiting"] == 5, "Alice's pairs wait for a pull"
