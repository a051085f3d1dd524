"""user_job_matches: how well each job fits each user, one partition per user x job pair."""

from datetime import datetime

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.llm.ledger import SCORE
from jobping_dagster.llm.models import LLMError, MatchAnalysis
from jobping_dagster.llm.prompts import MATCH_PROMPT_VERSION
from jobping_dagster.llm.resources import LLM_POOL, LLMResource
from jobping_dagster.llm.usage import UsageLog
from jobping_dagster.llm_batch import LLMBatch, fail_if_any, run_llm_batch
from jobping_dagster.matching.batch import batch_row
from jobping_dagster.matching.high_scores import HighScoreOutbox
from jobping_dagster.matching.metadata import match_metadata, score_distribution
from jobping_dagster.matching.store import (
    PairInput,
    load_pair_inputs,
    record_match_failure,
    save_match,
    up_to_date_keys,
)
from jobping_dagster.wording import plural

pair_partitions_def = dg.DynamicPartitionsDefinition(name="user_job_pairs")


class MatchConfig(dg.Config):
    # Score again pairs already scored with this model and prompt. A run of one single
    # pair always scores again: that is an operator asking for it.
    rescore: bool = False
    # Take the scores from this batch (llm_batches.id) of the Batch API: no new LLM call.
    batch_id: int | None = None


@dg.asset(
    partitions_def=pair_partitions_def,
    deps=[dg.AssetDep("company_info", partition_mapping=dg.AllPartitionMapping())],
    group_name="matching",
    kinds={"sql"},  # plus the LLM's kind, from the settings (definitions.py)
    backfill_policy=dg.BackfillPolicy.single_run(),
    # No in-run retry: a failed pair is requested again by the fan-out sensor after a
    # cool-down (retries.py), so a short outage does not use up its attempts.
    pool=LLM_POOL,
    output_required=False,
)
def user_job_matches(
    context: dg.AssetExecutionContext,
    config: MatchConfig,
    app_db: AppDatabase,
    llm: LLMResource,
    outbox: HighScoreOutbox,
):
    """A 0-100 score of one job against one user's prompt, with explanation, pros, cons and
    a recommendation, stored in `user_job_matches`. Partition keys are `u<user>-j<job>`.
    Runs are batched: many pairs per run, scored concurrently; each pair is written on its
    own, so a retried batch only scores what is missing. A score at or above the user's
    threshold has its notification added by the `outbox` in the same transaction."""
    keys = list(context.partition_keys)
    engine = app_db.engine()
    with engine.connect() as conn:
        # Unusable pairs are not retried: the fan-out only re-drives pairs of existing
        # users with a prompt.
        inputs, failures = load_pair_inputs(conn, keys)
        skip = (
            set()
            if config.rescore or len(keys) == 1 or config.batch_id is not None
            else up_to_date_keys(
                conn, inputs, model=llm.model_name, prompt_version=MATCH_PROMPT_VERSION
            )
        )
    to_score = {key: pair for key, pair in inputs.items() if key not in skip}
    if skip:
        context.log.info(
            f"{plural(len(skip), 'pair')} already scored with this model and prompt: skipped"
        )
    saver = _MatchSaver(model=llm.model_name, outbox=outbox)
    batch = LLMBatch(
        noun="pairs",
        call=_scorer(llm)
        if config.batch_id is None
        else _batch_scores(llm, engine, config.batch_id),
        save=saver.save,
        record_failure=record_match_failure,
        stage=SCORE,
        about=lambda _key, pair: {"user_id": pair.user_id, "job_id": pair.job_id},
    )
    yield from run_llm_batch(context, engine, batch, to_score, llm.max_concurrency, failures)
    context.log.info(
        f"{plural(saver.saved, 'pair')} scored, {plural(saver.notified, 'new notification')}, "
        f"{len(failures)} failed"
    )
    if saver.scores:
        # The run as a whole (many partitions): an observation of the asset, not of a pair.
        yield dg.AssetObservation(
            asset_key=context.asset_key, metadata=score_distribution(saver.scores)
        )
    fail_if_any(failures, len(keys), "pairs")


def _scorer(llm: LLMResource):
    def score(pair: PairInput, usage: UsageLog):
        return llm.score(pair.job, pair.prompt, pair.company, usage)

    return score


def _batch_scores(llm: LLMResource, engine: sa.Engine, batch_id: int):
    """Reads the answers of batch `batch_id` from its output file once; each pair's call
    returns its answer (or raises why it has none) and logs its usage, marked batch."""
    with engine.connect() as conn:
        row = batch_row(conn, batch_id)
    if row is None or row.status != "completed":
        raise dg.Failure(f"batch {batch_id} is not a completed batch", allow_retries=False)
    results = llm.batch_client().batch_results(row.output_file_id, row.error_file_id)

    def score(pair: PairInput, usage: UsageLog):
        answer, used = results.get(pair.key, (None, None))
        if used is not None:
            usage.append(used)
        if answer is None:
            raise LLMError(f"no answer in batch {batch_id}", retryable=True)
        if isinstance(answer, LLMError):
            raise answer
        return answer

    return score


class _MatchSaver:
    """Writes each scored pair (and its notification) and counts what it wrote."""

    def __init__(self, model: str, outbox: HighScoreOutbox):
        self.model = model
        self.outbox = outbox
        self.saved = self.notified = 0
        self.scores: list[int] = []

    def save(
        self, conn: sa.Connection, key: str, pair: PairInput, analysis: MatchAnalysis, now: datetime
    ) -> dict:
        saved = save_match(
            conn,
            pair,
            analysis,
            model=self.model,
            prompt_version=MATCH_PROMPT_VERSION,
            now=now,
            outbox=self.outbox,
        )
        self.saved += 1
        self.notified += saved.notification_created
        self.scores.append(analysis.score)
        return match_metadata(pair, analysis, saved.match_id, self.model)
