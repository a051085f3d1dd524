"""How long a run may take before run monitoring ends it (the `dagster/max_runtime` tag).

A worker that hangs (stopped, deadlocked, waiting on a dead socket) holds its run slot and
its `openai` pool slot until then, and its units wait. One bound for every run (the
instance's `max_runtime_seconds`, an hour) is far too long for a small batch, so LLM runs
are bounded by their batch size: a fixed start-up allowance plus a per-unit allowance that
is several times what a unit takes against OpenAI at the configured concurrency."""

from __future__ import annotations

MAX_RUNTIME_TAG = "dagster/max_runtime"
# Process start, imports, resources and the app database: seconds of CPU on a loaded host.
START_UP_SECONDS = 120
# Scoring one pair takes 2-10 s against OpenAI and runs 8 at a time (JOBPING_LLM_CONCURRENCY),
# so 100 pairs take about two minutes; 3 s a pair leaves more than double that.
SECONDS_PER_PAIR = 3
# Research is a longer answer (about 10-20 s a company, 8 at a time).
SECONDS_PER_COMPANY = 10
# Runs that are not batched by unit. A scrape waits on the job boards.
JOB_MAX_RUNTIME_SECONDS = {
    "scrape_job": 1800,
    "selection_job": 900,
    "notify_job": 900,
}


def max_runtime_tags(seconds: int) -> dict[str, str]:
    return {MAX_RUNTIME_TAG: str(seconds)}


def match_run_tags(pairs: int) -> dict[str, str]:
    return max_runtime_tags(START_UP_SECONDS + SECONDS_PER_PAIR * pairs)


def research_run_tags(companies: int) -> dict[str, str]:
    return max_runtime_tags(START_UP_SECONDS + SECONDS_PER_COMPANY * companies)
