"""What the batch path costs against the instant path, in the same run.

    .venv/bin/python benchmarks/batch_vs_instant.py [--shadow-rate 0.3]

Runs the whole flow once (sample source) with OpenAI, the real SDK against the fake OpenAI
server (jobping_dagster_tests/fakes/openai_server.py: OpenAI's usage shape, about four
characters a token, its prompt cache), with JOBPING_BATCH_API=shadow and a high shadow rate
so that many pairs go through the Batch API, on a fresh SQLite app database. Then prints,
from the cost ledger (llm_calls, stage score), calls, tokens and dollars per path (at
JOBPING_LLM_PRICES' defaults: gpt-4o-mini list prices, the Batch API at half), dollars per
call of each and their ratio, and one line of JSON with these figures."""

import argparse
import json
import os
import sys
import tempfile
import warnings

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.db.engine import get_engine, utcnow
from jobping_dagster.db.schema import llm_batches, llm_calls
from jobping_dagster.definitions import build_definitions
from jobping_dagster.llm.prices import DEFAULT_PRICES, dollars, parse_prices, price_for
from jobping_dagster.run_once import run_once
from jobping_dagster.settings import Settings
from jobping_dagster.users.store import UserChanges, add_user
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI

PROMPTS = [
    "Senior backend engineer, Python or Go, remote",
    "Data engineer: SQL, dbt, Airflow, Spark",
    "Frontend developer, React, TypeScript",
    "Machine learning engineer, PyTorch, MLOps",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shadow-rate", type=float, default=0.3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as home, FakeOpenAI() as fake:
        url = f"sqlite:///{home}/bench.db"
        env = {
            "JOBPING_HOME": home,
            "JOBPING_DATABASE_URL": url,
            "OPENAI_API_KEY": "fake-benchmark-key",
            "OPENAI_BASE_URL": fake.base_url,
            "JOBPING_BATCH_API": "shadow",
            "JOBPING_PREFILTER_SHADOW_RATE": str(args.shadow_rate),
        }
        os.environ.update(env)  # the resources read the key and URL as EnvVars
        engine = get_engine(url)
        with engine.begin() as conn:
            for n, prompt in enumerate(PROMPTS):
                add_user(conn, f"user{n}@example.com", UserChanges(prompt=prompt))
        settings = Settings.from_env(env)
        with dg.DagsterInstance.ephemeral() as instance:
            report = run_once(
                build_definitions(settings),
                instance,
                utcnow().date(),
                on_step=lambda _: None,
                log_level="ERROR",
            )
        with engine.connect() as conn:
            calls = conn.execute(sa.select(llm_calls).where(llm_calls.c.stage == "score")).all()
            batches = conn.execute(sa.select(llm_batches)).all()
        engine.dispose()
    if report.failed_runs:
        print("failed runs:", *report.failed_runs, sep="\n  ")
    prices = parse_prices(DEFAULT_PRICES)
    figures = {}
    for path, batch in (("instant", False), ("batch", True)):
        rows = [c for c in calls if bool(c.batch) is batch]
        cost = sum(
            dollars(
                price_for(c.model, prices), c.input_tokens, c.cached_tokens, c.output_tokens, batch
            )
            for c in rows
        )
        at_instant_price = sum(
            dollars(
                price_for(c.model, prices), c.input_tokens, c.cached_tokens, c.output_tokens, False
            )
            for c in rows
        )
        figures[path] = {
            "calls": len(rows),
            "input_tokens": sum(c.input_tokens for c in rows),
            "cached_tokens": sum(c.cached_tokens for c in rows),
            "output_tokens": sum(c.output_tokens for c in rows),
            "dollars": round(cost, 6),
            "dollars_at_instant_price": round(at_instant_price, 6),
            "dollars_per_call": round(cost / len(rows), 8) if rows else None,
        }
    instant, batch = figures["instant"], figures["batch"]
    ratio = (
        batch["dollars_per_call"] / instant["dollars_per_call"]
        if instant["dollars_per_call"] and batch["dollars_per_call"]
        else None
    )
    print(f"one pass, sample postings, {len(PROMPTS)} users, shadow rate {args.shadow_rate}")
    print(f"batches: {[(b.status, b.pair_count) for b in batches]}")
    for path, f in figures.items():
        print(
            f"{path:<8} {f['calls']:>4} calls  in {f['input_tokens']:>8} tok "
            f"(cached {f['cached_tokens']})  out {f['output_tokens']:>6} tok  "
            f"${f['dollars']:.6f}  ${f['dollars_per_call'] or 0:.8f}/call"
        )
    print(f"batch / instant dollars per call: {ratio:.3f}" if ratio else "no ratio")
    print(
        f"the batch pairs would have cost ${batch['dollars_at_instant_price']:.6f} instantly: "
        f"${batch['dollars_at_instant_price'] - batch['dollars']:.6f} saved"
    )
    print(json.dumps({**figures, "batch_to_instant_per_call": round(ratio, 4) if ratio else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
