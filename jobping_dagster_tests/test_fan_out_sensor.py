import json
from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import jobs
from jobping_dagster.llm.resources import LocalLLMResource
from jobping_dagster.matching.assets import pair_partitions_def, user_job_matches
from jobping_dagster.matching.pairs import parse_pair_key
from jobping_dagster.matching.sensors import (
    FIRST_TICK_MAX_PAIRS,
    PAIRS_PER_RUN,
    match_fan_out_sensor,
    match_job,
)
from jobping_dagster_tests.builders import posting, research, store_postings, user

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def _tick(instance, db_url, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"app_db": AppDatabase(url=db_url)}
    )
    result = match_fan_out_sensor(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


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


def test_pairs_of_fresh_jobs_and_prompted_users_become_batched_runs(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n, "Acme") for n in range(10)], now)
    store_postings(engine, [posting(n, "Unresearched Co") for n in range(10, 14)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    bob = user(engine, "bob@example.com")
    user(engine, "nobody@example.com", prompt=None)

    with dg.DagsterInstance.ephemeral() as instance:
        result = _tick(instance, db_url)
        keys = _requested_keys(instance, result)

    pairs = [parse_pair_key(key) for key in keys]
    assert len(keys) == len(set(keys)) == 20  # 10 researched jobs x 2 users with a prompt
    assert {user_id for user_id, _ in pairs} == {alice, bob}
    assert len(result.run_requests) == -(-20 // PAIRS_PER_RUN)
    with engine.connect() as conn:
        unresearched = (
            conn.execute(sa.select(jobs.c.id).where(jobs.c.company_key == "unresearched-co"))
            .scalars()
            .all()
        )
    assert not {job_id for _, job_id in pairs} & set(unresearched)


def test_first_tick_is_capped_and_the_rest_follows(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(90)], now)
    research(engine, "acme", now)
    for n in range(3):
        user(engine, f"user{n}@example.com")

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)
        first_keys = _requested_keys(instance, first)
        _queue_runs(instance, db_url, first.run_requests)
        second = _tick(instance, db_url, cursor=first.cursor)
        second_keys = _requested_keys(instance, second)

    assert len(first_keys) == FIRST_TICK_MAX_PAIRS
    assert all(int(r.tags["jobping/batch_size"]) <= PAIRS_PER_RUN for r in first.run_requests)
    assert json.loads(first.cursor)["waiting"] == 270 - FIRST_TICK_MAX_PAIRS
    assert len(second_keys) == 270 - FIRST_TICK_MAX_PAIRS
    assert not set(first_keys) & set(second_keys)


def _queue_runs(instance, db_url, requests):
    """Creates the requested runs as the daemon would, without executing them."""
    defs = dg.Definitions(
        assets=[user_job_matches],
        jobs=[match_job],
        resources={"app_db": AppDatabase(url=db_url), "llm": LocalLLMResource()},
    )
    job = defs.resolve_job_def("match_job")
    for request in requests:
        tags = dict(request.tags or {})
        if request.partition_key:
            tags["dagster/partition"] = request.partition_key
        instance.create_run_for_job(job, tags=tags)


def test_pairs_in_flight_are_not_requested_again(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(PAIRS_PER_RUN + 5)], now)
    research(engine, "acme", now)
    user(engine, "alice@example.com")

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)
        _queue_runs(instance, db_url, first.run_requests)
        second = _tick(instance, db_url, cursor=first.cursor)

    assert len([r.run_key for r in first.run_requests]) == 2
    assert second.run_requests == []


def test_pairs_added_but_never_run_get_one_single_pair_run(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(3)], now)
    research(engine, "acme", now)
    user(engine, "alice@example.com")

    with dg.DagsterInstance.ephemeral() as instance:
        first = _tick(instance, db_url)  # partitions added, runs lost (never created)
        first_keys = _requested_keys(instance, first)
        second = _tick(instance, db_url, cursor=first.cursor)

    assert [r.run_key.split(":")[0] for r in second.run_requests] == ["match-retry"] * 3
    assert {r.partition_key for r in second.run_requests} == set(first_keys)


def test_stale_company_research_and_old_postings_are_not_matched(engine, db_url):
    now = utcnow()
    store_postings(engine, [posting(1, "Old Research")], now)
    store_postings(engine, [posting(2, "Acme", date_posted=(now - timedelta(days=60)).date())], now)
    research(engine, "old-research", now - timedelta(days=181))
    research(engine, "acme", now)
    user(engine, "alice@example.com")

    with dg.DagsterInstance.ephemeral() as instance:
        result = _tick(instance, db_url)

    assert result.run_requests == []
    assert result.dynamic_partitions_requests == []
