"""A stored posting as the LLM sees it, for company research and match scoring alike."""

from __future__ import annotations

from jobping_dagster.llm.models import JobForScoring


def job_for_scoring(job) -> JobForScoring:
    """`job` is a row of the `jobs` table."""
    return JobForScoring(
        title=job.title,
        company=job.company,
        description=job.description or "",
        location=job.location,
        is_remote=job.is_remote,
        job_type=job.job_type,
        salary_min=job.salary_min,
        salary_max=job.salary_max,
        salary_currency=job.salary_currency,
        date_posted=job.date_posted.isoformat() if job.date_posted else None,
        url=job.url,
    )
