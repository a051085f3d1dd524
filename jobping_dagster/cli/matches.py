"""`jobping matches`, `jobping rerun` and `jobping eval`: an operator's hand on scoring."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import click

from jobping_dagster.cli.context import (
    app_engine,
    dagster_instance,
    definitions,
    normalized_email,
    scorer_name,
    with_settings,
)
from jobping_dagster.llm.resources import llm_outside_dagster
from jobping_dagster.settings import Settings


@click.command("matches")
@click.argument("email")
@click.option(
    "--limit", type=click.IntRange(min=1), default=10, show_default=True, help="How many."
)
@click.option("--score", is_flag=True, help="Score them now.")
@with_settings
def matches(settings: Settings, email: str, limit: int, score: bool) -> None:
    """A user's best unscored recent postings.

    The postings the pre-filter did not send to scoring, best first, with the wish each
    breaks; --score scores them now."""
    # Imported when run: they load the matching assets, and so Dagster's definitions.
    from jobping_dagster.cli.pairs import pull_list, score_now

    engine = app_engine(settings)
    defs = definitions(settings)
    email = normalized_email(email)
    user_id, pulled, lines = pull_list(engine, llm_outside_dagster(settings), email, limit)
    click.echo("\n".join(lines))
    if score and pulled:
        with dagster_instance(settings) as instance:
            click.echo("\n".join(score_now(engine, defs, instance, user_id, pulled)))


@click.command("rerun")
@click.argument("key")
@with_settings
def rerun(settings: Settings, key: str) -> int:
    """Score one user x job pair again now.

    KEY is u<user id>-j<job id>, as in the run summary. Re-adds the pair's partition if
    retention deleted it, and runs it in this process on the configured Dagster instance."""
    from jobping_dagster.cli import pairs

    with dagster_instance(settings) as instance:
        lines, ok = pairs.rerun(app_engine(settings), definitions(settings), instance, key)
    click.echo("\n".join(lines))
    return 0 if ok else 1


@click.command("eval")
@click.option("--jobs", required=True, type=Path, help="Postings, JSON lines.")
@click.option("--prompts", required=True, type=Path, help="Wishes, a JSON list.")
@click.option("--labels", required=True, type=Path, help="CSV job_key,prompt_id,score.")
@click.option("--shadow-rate", type=float, help="Override JOBPING_PREFILTER_SHADOW_RATE.")
@click.option(
    "--all-pairs",
    is_flag=True,
    help="Score every labeled pair, not only those the pre-filter keeps (measures the scorer).",
)
@with_settings
def evaluate(
    settings: Settings,
    jobs: Path,
    prompts: Path,
    labels: Path,
    shadow_rate: float | None,
    all_pairs: bool,
) -> None:
    """Backtest the pre-filter and the scorer on a labeled set."""
    from jobping_dagster.matching.evaluation import evaluate, report_lines
    from jobping_dagster.matching.labeled_set import load_labeled_set

    resources = definitions(settings).resources
    llm = llm_outside_dagster(settings)
    config = resources["prefilter"].cascade_config()  # the configured pre-filter
    if shadow_rate is not None:
        config = dataclasses.replace(config, shadow_rate=shadow_rate)
    figures = evaluate(
        load_labeled_set(jobs, prompts, labels),
        config,
        llm.read_wishes,
        lambda job, prompt: llm.score(job, prompt, None),
        all_pairs=all_pairs,
        concurrency=llm.max_concurrency,
    )
    click.echo("\n".join(report_lines(figures, scorer_name(settings), config)))
    click.echo(json.dumps(figures, sort_keys=True))
