"""Assets materialized on an ephemeral instance with local resources and fakes."""

from datetime import timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from jobping_dagster.companies.assets import company_info, company_partitions_def
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import companies, match_failures, user_job_matches
from jobping_dagster.llm.resources import LocalLLMResource, OpenAIResource
from jobping_dagster.matching.assets import pair_partitions_def
from jobping_dagster.matching.assets import user_job_matches as matches_asset
from jobping_dagster.notify.resources import NotificationOutbox
from jobping_dagster.postings.assets import scraped_jobs
from jobping_dagster.postings.model import SiteScrape
from jobping_dagster.postings.sources import JobSource, SampleJobSource
from jobping_dagster.postings.store import save_raw_scrape
from jobping_dagster_tests.builders import posting, research, store_postings, user
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI, quota_exceeded, status_error
from jobping_dagster_tests.test_hostile_postings import (
    HOSTILE_CLEANED,
    HOSTILE_REJECTED,
    hostile_frame,
)


def _scrape(db_url, instance, day):
    return dg.materialize(
        [scraped_jobs],
        partition_key=day.isoformat(),
        instance=instance,
        resources={"app_db": AppDatabase(url=db_url), "job_source": SampleJobSource()},
        raise_on_error=False,
    )


def test_todays_scrape_counts_every_row_and_passes_its_checks(db_url):
    with dg.DagsterInstance.ephemeral() as instance:
        result = _scrape(db_url, instance, utcnow().date())
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    rows_in = metadata["rows_in"].value
    accounted = (
        metadata["accepted"].value
        + metadata["rejected"].value
        + metadata["duplicates_in_scrape"].value
    )
    assert rows_in == accounted >= 66
    assert sum(metadata["rejected_by_reason"].value.values()) == metadata["rejected"].value
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 3 and all(c.passed for c in checks)


def test_a_past_day_is_rebuilt_from_its_raw_scrape_or_fails_clearly(db_url, engine):
    yesterday = utcnow().date() - timedelta(days=1)
    with dg.DagsterInstance.ephemeral() as instance:
        missing = _scrape(db_url, instance, yesterday)
        source = SampleJobSource()
        with engine.begin() as conn:
            for scrape in source.fetch(yesterday):
                save_raw_scrape(
                    conn,
                    day=yesterday,
                    source="sample",
                    scrape=scrape,
                    fetched_at=utcnow() - timedelta(days=1),
                )
        rebuilt = _scrape(db_url, instance, yesterday)
    assert not missing.success
    failure = missing.get_step_failure_events()[0].event_specific_data.error.message
    assert f"No raw scrape is stored for {yesterday}" in failure
    # The day has nothing to check: its checks say so instead of failing to execute.
    skipped = missing.get_asset_check_evaluations()
    assert len(skipped) == 3
    for evaluation in skipped:
        assert evaluation.passed and evaluation.partition == yesterday.isoformat()
        assert evaluation.description == (
            f"Not checked: no postings for {yesterday} (no raw scrape is stored for it)."
        )
    assert rebuilt.success
    metadata = rebuilt.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["origin"].value.startswith("rebuilt from")
    assert metadata["new_postings"].value >= 60


def test_a_past_day_that_cannot_be_rebuilt_leaves_todays_checks_readable(db_url):
    today, past = utcnow().date(), utcnow().date() - timedelta(days=2)
    with dg.DagsterInstance.ephemeral() as instance:
        assert _scrape(db_url, instance, today).success
        assert not _scrape(db_url, instance, past).success  # no raw scrape kept for it
        keys = list(scraped_jobs.check_keys)
        infos = instance.event_log_storage.get_asset_check_partition_info(keys)
    # Checked per day, and the day without data evaluated (nothing to check), so no check
    # shows "execution failed" and today's results stay today's.
    statuses = {(i.check_key.name, i.partition_key): i.latest_execution_status for i in infos}
    assert {(name, day): status.value for (name, day), status in statuses.items()} == {
        (key.name, day.isoformat()): "SUCCEEDED" for key in keys for day in (today, past)
    }


class HostileJobSource(JobSource):
    """One board returning the rows of the fault tests: bad dates, salaries, markup, URLs."""

    @property
    def name(self) -> str:
        return "hostile"

    def fetch(self, day):
        return [SiteScrape(site="indeed", frame=hostile_frame())]


def test_cleaned_fields_are_counted_in_the_metadata_live_and_rebuilt(db_url, engine):
    today = utcnow().date()
    yesterday = today - timedelta(days=1)
    with engine.begin() as conn:
        for scrape in HostileJobSource().fetch(yesterday):
            save_raw_scrape(
                conn, day=yesterday, source="hostile", scrape=scrape, fetched_at=utcnow()
            )
    resources = {"app_db": AppDatabase(url=db_url), "job_source": HostileJobSource()}
    with dg.DagsterInstance.ephemeral() as instance:
        results = [
            dg.materialize(
                [scraped_jobs],
                partition_key=day.isoformat(),
                instance=instance,
                resources=resources,
            )
            for day in (today, yesterday)
        ]
    for result in results:
        metadata = result.get_asset_materialization_events()[0].materialization.metadata
        assert metadata["rejected_by_reason"].value == HOSTILE_REJECTED
        assert metadata["cleaned_by_reason"].value == HOSTILE_CLEANED
        assert "<" not in metadata["preview"].value


def _researched_or_failed(engine):
    with engine.connect() as conn:
        return {
            row.key: (row.info is not None, row.research_attempts, row.last_error)
            for row in conn.execute(sa.select(companies))
        }


def test_one_failing_company_is_a_failed_partition_and_the_others_are_researched(db_url, engine):
    now = utcnow()
    store_postings(
        engine, [posting(n, company) for n, company in enumerate(["Alpha", "Beta", "Gamma"])], now
    )
    with FakeOpenAI() as fake, dg.DagsterInstance.ephemeral() as instance:
        fake.enqueue(status_error(400, "invalid_request_error", "bad"))
        instance.add_dynamic_partitions(company_partitions_def.name, ["alpha", "beta", "gamma"])
        llm = OpenAIResource(api_key="sk-test", base_url=fake.base_url, max_concurrency=1)
        result = dg.materialize(
            [company_info],
            instance=instance,
            raise_on_error=False,
            tags={
                "dagster/asset_partition_range_start": "alpha",
                "dagster/asset_partition_range_end": "gamma",
            },
            resources={"app_db": AppDatabase(url=db_url), "llm": llm},
        )
        status = instance.get_status_by_partition(
            company_info.key, ["alpha", "beta", "gamma"], company_partitions_def
        )
    state = _researched_or_failed(engine)
    failed = [key for key, (done, _, _) in state.items() if not done]
    assert not result.success
    assert len(failed) == 1 and state[failed[0]][1] == 1 and "400" in state[failed[0]][2]
    assert status[failed[0]] == dg.AssetPartitionStatus.FAILED
    assert [s for k, s in status.items() if k != failed[0]] == [
        dg.AssetPartitionStatus.MATERIALIZED
    ] * 2
    assert "sk-test" not in result.get_step_failure_events()[0].event_specific_data.error.message


def test_quota_exhaustion_fails_the_batch_without_retrying(db_url, engine):
    now = utcnow()
    store_postings(engine, [posting(1)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    key = f"u{alice}-j1"
    with FakeOpenAI() as fake, dg.DagsterInstance.ephemeral() as instance:
        fake.enqueue(quota_exceeded(), times=5)
        instance.add_dynamic_partitions(pair_partitions_def.name, [key])
        llm = OpenAIResource(api_key="sk-test", base_url=fake.base_url)
        result = dg.materialize(
            [matches_asset],
            instance=instance,
            partition_key=key,
            raise_on_error=False,
            resources={
                "app_db": AppDatabase(url=db_url),
                "llm": llm,
                "outbox": NotificationOutbox(),
            },
        )
        requests = len(fake.requests)
    assert not result.success
    assert requests == 1  # neither the SDK nor the asset's retry policy tried again
    with engine.connect() as conn:
        failure = conn.execute(sa.select(match_failures)).one()
    assert failure.attempts == 1 and "quota" in failure.last_error


@pytest.mark.parametrize("rescore", [False, True])
def test_a_retried_batch_scores_only_what_is_missing(db_url, engine, rescore):
    now = utcnow()
    store_postings(engine, [posting(n) for n in range(1, 4)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    keys = [f"u{alice}-j{n}" for n in range(1, 4)]
    resources = {
        "app_db": AppDatabase(url=db_url),
        "llm": LocalLLMResource(),
        "outbox": NotificationOutbox(),
    }
    tags = {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(pair_partitions_def.name, keys)
        dg.materialize([matches_asset], instance=instance, tags=tags, resources=resources)
        with engine.begin() as conn:
            conn.execute(user_job_matches.update().values(updated_at=now - timedelta(days=1)))
        config = {"ops": {"user_job_matches": {"config": {"rescore": rescore}}}}
        again = dg.materialize(
            [matches_asset], instance=instance, tags=tags, resources=resources, run_config=config
        )
    assert again.success
    with engine.connect() as conn:
        rescored = conn.execute(
            sa.select(sa.func.count()).where(user_job_matches.c.updated_at >= now)
        ).scalar_one()
    assert rescored == (3 if rescore else 0)


HOSTILE_TITLE = "Engineer [click here](https://evil.example/x) ![pixel](https://evil.example/p.png)"


def test_each_scored_pair_explains_itself_and_the_run_shows_its_scores(db_url, engine):
    now = utcnow()
    store_postings(engine, [posting(1, title=HOSTILE_TITLE), posting(2), posting(3)], now)
    research(engine, "acme", now)
    alice = user(engine, "alice@example.com")
    keys = [f"u{alice}-j{n}" for n in range(1, 4)]
    tags = {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(pair_partitions_def.name, keys)
        result = dg.materialize(
            [matches_asset],
            instance=instance,
            tags=tags,
            resources={
                "app_db": AppDatabase(url=db_url),
                "llm": LocalLLMResource(),
                "outbox": NotificationOutbox(),
            },
        )
    materializations = {
        m.partition: m.metadata for m in result.asset_materializations_for_node("user_job_matches")
    }
    assert set(materializations) == set(keys)
    hostile = materializations[keys[0]]
    assert hostile["posting"].value.startswith("Engineer [click here]")
    assert hostile["posting"].value.endswith(" @ Acme")
    assert hostile["user"].value == f"user {alice} · a***@example.com"
    assert hostile["job_url"].value == "https://jobs.example.com/1"
    analysis = hostile["analysis"].value
    # Shown as written, but no link or image: every bracket and parenthesis is escaped.
    assert "\\[click here\\]\\(https\\:\\/\\/evil\\.example\\/x\\)" in analysis
    assert "](" not in analysis and "![" not in analysis
    score = hostile["score"].value
    assert 0 <= score <= 100 and f"**{score}/100**" in analysis
    assert hostile["notify"].value == (score >= hostile["threshold"].value)
    for metadata in materializations.values():
        assert "alice@example.com" not in str(metadata)
    [observation] = [
        event.event_specific_data.asset_observation
        for event in result.all_events
        if event.event_type_value == "ASSET_OBSERVATION"
    ]
    assert observation.partition is None
    assert observation.metadata["pairs_scored"].value == 3
    histogram = observation.metadata["score_histogram"].value
    assert sum(int(line.split("|")[2]) for line in histogram.splitlines()[2:]) == 3
