import dagster as dg

from jobping_dagster.postings.assets import scraped_jobs
from jobping_dagster.run_limits import JOB_MAX_RUNTIME_SECONDS, max_runtime_tags

scrape_job = dg.define_asset_job(
    "scrape_job",
    selection=[scraped_jobs],
    tags=max_runtime_tags(JOB_MAX_RUNTIME_SECONDS["scrape_job"]),
)


def build_scrape_schedule(cron: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        job=scrape_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def scrape_schedule(context: dg.ScheduleEvaluationContext):
        """Refreshes today's (UTC) scraped_jobs partition; new postings flow on through the
        sensors."""
        day = context.scheduled_execution_time.date().isoformat()
        return dg.RunRequest(
            partition_key=day,
            run_key=f"scrape:{context.scheduled_execution_time.isoformat()}",
        )

    return scrape_schedule
