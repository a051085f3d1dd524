"""The code location: assembles each stage's definitions with the resources that the
settings choose. Holds no logic of its own."""

import dagster as dg

from jobping_dagster import code_server
from jobping_dagster.account.assets import account_job, build_daily_account, daily_account_schedule
from jobping_dagster.companies.assets import company_info
from jobping_dagster.companies.checks import company_info_in_use_is_fresh
from jobping_dagster.companies.sensors import build_company_research_sensor, research_job
from jobping_dagster.db.engine import utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.prices import format_prices
from jobping_dagster.llm.resources import llm_from_settings
from jobping_dagster.matching.assets import user_job_matches
from jobping_dagster.matching.batch_sensor import build_batch_scoring_sensor
from jobping_dagster.matching.candidate_assets import match_candidates, prefilter_recall_estimate
from jobping_dagster.matching.checks import matches_have_valid_scores_and_analysis
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.matching.selection_sensor import (
    build_candidate_selection_sensor,
    selection_job,
)
from jobping_dagster.matching.sensors import build_match_fan_out_sensor, match_job
from jobping_dagster.notify.assets import notifications
from jobping_dagster.notify.checks import (
    high_score_matches_notified_exactly_once,
    notifications_are_flowing,
)
from jobping_dagster.notify.resources import (
    DeliveryChannelsResource,
    DiscordResource,
    NotificationOutbox,
)
from jobping_dagster.notify.sensors import build_notification_sensor, notify_job
from jobping_dagster.postings.assets import build_scraped_jobs
from jobping_dagster.postings.partitions import daily_partitions, scrape_first_day, with_partitions
from jobping_dagster.postings.schedules import build_scrape_schedule, scrape_job
from jobping_dagster.postings.sources import JobSource, JobSpySource, SampleJobSource
from jobping_dagster.settings import Settings

# The code server imports this module before it serves: a hung run worker must not hang it.
code_server.install()


def build_resources(settings: Settings) -> dict:
    return {
        "app_db": AppDatabase(
            url=dg.EnvVar("JOBPING_DATABASE_URL")
            if settings.database_url_from_env
            else settings.database_url
        ),
        "job_source": _job_source(settings),
        "llm": llm_from_settings(settings),
        "discord": DiscordResource(allowed_hosts=list(settings.webhook_allowed_hosts)),
        "outbox": NotificationOutbox(),
        "delivery": DeliveryChannelsResource(
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_tls=settings.smtp_tls,
            smtp_username=settings.smtp_username,
            smtp_password=dg.EnvVar("JOBPING_SMTP_PASSWORD") if settings.smtp_password else None,
            smtp_from=settings.smtp_from,
            public_url=settings.public_url,
            webhook_allowed_hosts=list(settings.webhook_allowed_hosts),
        ),
        "prefilter": PrefilterResource(
            user_share=settings.prefilter_user_share,
            max_per_user=settings.prefilter_max_per_user,
            max_users_per_posting=settings.prefilter_max_users_per_posting,
            shadow_rate=settings.prefilter_shadow_rate,
            min_relevance=settings.prefilter_min_relevance,
            pair_retention_days=settings.pair_retention_days,
            max_active_match_runs=settings.max_active_match_runs,
            llm_prices=format_prices(settings.llm_prices),
            batch_api=batch_mode(settings),
        ),
    }


def _job_source(settings: Settings) -> JobSource:
    if settings.job_source == "jobspy":
        return JobSpySource(
            sites=list(settings.jobspy_sites),
            search_terms=list(settings.search_terms),
            location=settings.location,
            results_wanted=settings.results_wanted,
            hours_old=settings.hours_old,
        )
    return SampleJobSource()


CHECKS = [
    company_info_in_use_is_fresh,
    prefilter_recall_estimate,
    matches_have_valid_scores_and_analysis,
    high_score_matches_notified_exactly_once,
    notifications_are_flowing,
]
# The data checks that query the app database as a whole, runnable on their own (CI, cron).
asset_checks_job = dg.define_asset_job(
    "asset_checks_job", selection=dg.AssetSelection.checks(*CHECKS)
)


def _llm_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """The assets that call the LLM, each with the kind of the LLM it really calls: "openai",
    or "python" for the local scorer and researcher (no network, no key)."""
    kind = "openai" if settings.openai_enabled else "python"
    return dg.map_asset_specs(
        lambda spec: spec.merge_attributes(kinds={kind}), [company_info, user_job_matches]
    )


def batch_mode(settings: Settings) -> str:
    """JOBPING_BATCH_API, off unless OpenAI scores (the local scorer has no batch path)."""
    return settings.batch_api if settings.openai_enabled else "off"


def build_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    interval = settings.sensor_interval_seconds
    # The batch sensor only exists with the batch path on.
    batch = (
        [build_batch_scoring_sensor(interval_seconds=interval)]
        if batch_mode(settings) != "off"
        else []
    )
    return [
        build_candidate_selection_sensor(interval_seconds=interval),
        build_company_research_sensor(interval_seconds=interval),
        build_match_fan_out_sensor(interval_seconds=interval),
        *batch,
        build_notification_sensor(
            interval_seconds=interval, llm_prices=format_prices(settings.llm_prices)
        ),
    ]


def build_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    first_day = scrape_first_day(settings.scrape_start_date, settings.home, utcnow().date())
    days = daily_partitions(first_day)
    return [
        build_scraped_jobs(days),  # its per-day checks need the same days as the asset
        *with_partitions([match_candidates], days),
        notifications,
        *_llm_assets(settings),
        build_daily_account(days, format_prices(settings.llm_prices)),
    ]


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=build_assets(settings),
        asset_checks=CHECKS,
        jobs=[
            scrape_job,
            research_job,
            selection_job,
            match_job,
            notify_job,
            account_job,
            asset_checks_job,
        ],
        schedules=[build_scrape_schedule(settings.scrape_cron), daily_account_schedule],
        sensors=build_sensors(settings),
        resources=build_resources(settings),
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
