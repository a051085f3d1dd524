"""The cascade at the scale the product was designed for, against scoring all pairs.

    .venv/bin/python benchmarks/scale.py [--users 1000] [--per-day 500] [--days 14]

About 1,000 synthetic users with varied wishes and 500 new postings a day (real postings from
../shared/fixtures/jobspy/, given new ids each day) for 14 simulated days, on PostgreSQL for
both the app database and the Dagster instance (fresh databases, dropped at the end). Each
day runs the real selection (`select_day`), then fan-out ticks of the real sensor until the
day's chosen pairs all have a partition. Runs are not executed: each requested pair is
recorded as scored right away (no LLM), so what is measured is the cascade's choice, the
partitions and the sensor's cost. A simulated day passes by moving every stored timestamp
back one day, so retention acts as in production (the bulk of its deletes done at once, see
`_retire_expired`).

Prints LLM calls, input and output tokens and dollars per day (gpt-4o-mini list prices; and
with the Batch API's half price) next to the all-pairs baseline, live pair partitions at the
end, and fan-out tick times. Targets: LLM calls <= 10% of all pairs; live partitions <=
100,000; tick median <= 5 s. Last line JSON. Needs PostgreSQL on 127.0.0.1:5432.
"""

import argparse
import dataclasses
import json
import random
import statistics
import tempfile
import time
import uuid
import warnings
from datetime import timedelta
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from jobping_dagster.companies.store import save_company_info
from jobping_dagster.db.engine import get_engine, utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import companies, jobs, match_candidates, user_job_matches, users
from jobping_dagster.llm.local.scorer import LocalScorer
from jobping_dagster.llm.local.wish_reader import LOCAL_WISHES_PARSER, read_wishes_locally
from jobping_dagster.llm.models import CompanyProfile, JobForScoring
from jobping_dagster.llm.resources import LocalLLMResource
from jobping_dagster.matching.assets import pair_partitions_def
from jobping_dagster.matching.candidates import candidate_jobs, users_with_prompt
from jobping_dagster.matching.cascade import CascadeConfig
from jobping_dagster.matching.costs import scoring_cost
from jobping_dagster.matching.pair_partitions import (
    expired_partitions,
    live_partitions,
    mark_partitions_deleted,
)
from jobping_dagster.matching.pairs import pair_key, parse_pair_key
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.matching.selection import WishReader, select_day
from jobping_dagster.matching.sensors import build_match_fan_out_sensor
from jobping_dagster.postings.csv_import import read_jobspy_csv
from jobping_dagster.postings.normalize import normalize_frame
from jobping_dagster.postings.store import upsert_postings
from jobping_dagster.run_once import apply_partition_requests

PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "jobspy"

ROLES = {
    "backend engineer": ["Python", "Go", "Java", "Postgres", "microservices"],
    "frontend developer": ["React", "TypeScript", "CSS", "Vue"],
    "full stack developer": ["Node", "React", "AWS"],
    "data engineer": ["Spark", "SQL", "Airflow", "dbt"],
    "data scientist": ["Python", "statistics", "machine learning"],
    "machine learning engineer": ["PyTorch", "MLOps", "LLMs"],
    "DevOps engineer": ["Kubernetes", "Terraform", "CI/CD", "AWS"],
    "site reliability engineer": ["Linux", "observability", "on-call"],
    "security engineer": ["application security", "cloud security", "SOC"],
    "embedded software engineer": ["C", "C++", "RTOS", "firmware"],
    "mobile developer": ["iOS", "Swift", "Android", "Kotlin"],
    "QA engineer": ["test automation", "Selenium", "Cypress"],
    "software engineer": ["Java", "C#", ".NET", "Python"],
    "engineering manager": ["people management", "hiring"],
    "product manager": ["B2B SaaS", "roadmaps"],
    "Salesforce developer": ["Apex", "Lightning"],
    "SAP consultant": ["S/4HANA", "ABAP"],
    "nurse": ["ICU", "pediatrics", "RN license"],
    "nursing assistant": ["CNA", "patient care"],
    "physical therapist": ["outpatient", "orthopedics"],
    "pharmacy technician": ["retail pharmacy"],
    "bookkeeper": ["QuickBooks", "accounts payable"],
    "accountant": ["CPA", "tax", "audit"],
    "teacher": ["elementary", "special education", "math"],
    "customer service representative": ["call center", "support"],
    "sales representative": ["B2B", "territory"],
    "warehouse associate": ["forklift", "inventory"],
    "truck driver": ["CDL", "regional"],
    "electrician": ["journeyman", "commercial"],
    "mechanical engineer": ["CAD", "SolidWorks"],
    "manufacturing engineer": ["lean", "process improvement"],
    "administrative assistant": ["scheduling", "Office"],
    "marketing manager": ["SEO", "content", "campaigns"],
    "recruiter": ["technical recruiting", "sourcing"],
    "barber": ["fades", "walk-ins"],
    "real estate agent": ["residential", "commission"],
    "cook": ["line cook", "restaurant"],
    "project manager": ["PMP", "construction"],
}
PLACES = [
    "",
    "",
    " in the US",
    " remote in the US",
    " fully remote",
    " in Chicago",
    " in Texas",
    " in New York",
    " anywhere",
]
LEVELS = ["", "", "Senior ", "Junior ", "Entry-level ", "Lead "]
EXTRAS = [
    "",
    "",
    "",
    " 120k USD or more.",
    " No staffing agencies.",
    " Not management.",
    " 90k+ USD.",
]


def synthetic_wish(rng: random.Random) -> str:
    role, skills = rng.choice(list(ROLES.items()))
    picked = rng.sample(skills, k=min(len(skills), rng.randint(0, 3)))
    wish = f"{rng.choice(LEVELS)}{role}"
    if picked:
        wish += f" ({', '.join(picked)})"
    return wish + rng.choice(PLACES) + "." + rng.choice(EXTRAS)


def fixture_postings():
    postings = []
    for path in sorted(FIXTURES.glob("*.csv")):
        postings += normalize_frame(read_jobspy_csv(path)).postings
    return postings


def create_database(admin: sa.Engine, name: str) -> str:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def dagster_instance(home: Path, db: str) -> dg.DagsterInstance:
    (home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_db:\n      username: postgres\n"
        f"      password: ''\n      hostname: 127.0.0.1\n      db_name: {db}\n      port: 5432\n"
        "      scheme: postgresql+psycopg2\n"
    )
    return dg.DagsterInstance.from_config(str(home))


def run(users_count: int, per_day: int, days: int, prefilter: PrefilterResource) -> dict:
    rng = random.Random(7)
    pool = fixture_postings()
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:8]
    app_name, dagster_name = f"jobping_scale_app_{suffix}", f"jobping_scale_dagster_{suffix}"
    app_url = create_database(admin, app_name)
    create_database(admin, dagster_name)
    try:
        with tempfile.TemporaryDirectory() as home:
            with dagster_instance(Path(home), dagster_name) as instance:
                dagster_engine = sa.create_engine(f"{PG}/{dagster_name}")
                try:
                    return simulate(
                        rng,
                        pool,
                        app_url,
                        instance,
                        dagster_engine,
                        users_count,
                        per_day,
                        days,
                        prefilter,
                    )
                finally:
                    dagster_engine.dispose()
    finally:
        get_engine(app_url).dispose()
        with admin.connect() as conn:
            for name in (app_name, dagster_name):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def simulate(
    rng, pool, app_url, instance, dagster_engine, users_count, per_day, days, prefilter
) -> dict:
    engine = get_engine(app_url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [
                {
                    "email": f"user{n}@example.com",
                    "prompt": synthetic_wish(rng),
                    "min_score": 70,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(users_count)
            ],
        )
    config = prefilter.cascade_config()
    reader = WishReader(LocalLLMResource().read_wishes, LOCAL_WISHES_PARSER, read_wishes_locally)
    resources = {"app_db": AppDatabase(url=app_url), "prefilter": prefilter}
    tick_seconds, per_day_calls, selection_seconds = [], [], []
    today = now.date()
    cursor = None
    for day_number in range(days):
        day = today
        batch = [
            dataclasses.replace(
                posting,
                source_id=f"{posting.source_id}-d{day_number}-{i}",
                dedup_key=f"{posting.dedup_key}|d{day_number}-{i}",
                url=f"{posting.url}#d{day_number}-{i}",
                date_posted=day,  # new today: the fixtures' own dates are years old
            )
            # Fewer distinct fixture postings than a day needs: some come back as reposts.
            for i, posting in enumerate(
                rng.sample(pool, k=len(pool)) + rng.choices(pool, k=per_day)
            )
            if i < per_day
        ]
        with engine.begin() as conn:
            upsert_postings(conn, batch, day=day, now=utcnow())
            _research_new_companies(conn)
        started = time.perf_counter()
        chosen = select_day(engine, day, reader, config, utcnow())
        selection_seconds.append(time.perf_counter() - started)
        per_day_calls.append((chosen.selection.kept, chosen.selection.shadow, chosen.postings))
        if day_number == 0:
            proxy = proxy_recall(engine, day, rng)
        while True:
            started = time.perf_counter()
            context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources)
            result = build_match_fan_out_sensor(interval_seconds=30)(context)
            apply_partition_requests(instance, result.dynamic_partitions_requests)
            tick_seconds.append(time.perf_counter() - started)
            cursor = result.cursor
            _score_instantly(engine, result)
            if not result.run_requests:
                break
        # The end of the day: retention has deleted what is older than its age.
        _retire_expired(engine, dagster_engine, prefilter.pair_retention_days)
        with engine.connect() as conn:
            live = live_partitions(conn)
        _one_day_passes(engine)
        kept, shadow, postings = per_day_calls[-1]
        print(
            f"day {day_number + 1:>2}: {postings} postings x {users_count} users, "
            f"{kept} kept + {shadow} shadow, selection {selection_seconds[-1]:.1f} s, "
            f"live pair partitions {live}",
            flush=True,
        )
    live = len(instance.get_dynamic_partitions(pair_partitions_def.name))  # Dagster's own count
    figures = summary(per_day_calls, users_count, tick_seconds, selection_seconds, live, config)
    figures.update(proxy)
    return figures


def proxy_recall(engine, day, rng, sample_users: int = 30) -> dict:
    """No labels at this scale: the local keyword scorer stands in as the judge. Every pair of
    a sample of users x the day's postings is scored; the share of its 70+ pairs that the
    cascade kept (or sampled as shadow) is the proxy recall."""
    with engine.connect() as conn:
        prompts = users_with_prompt(conn)
        day_jobs = candidate_jobs(conn, day=day)
        chosen = {
            (row.user_id, row.job_id)
            for row in conn.execute(
                sa.select(match_candidates.c.user_id, match_candidates.c.job_id)
            )
        }
    scorer = LocalScorer()
    hits = found = 0
    for user_id in rng.sample(sorted(prompts), k=min(sample_users, len(prompts))):
        for job in day_jobs:
            posting = JobForScoring(
                title=job.title,
                company=job.company,
                description=job.description,
                location=job.location,
            )
            if scorer.score(posting, prompts[user_id], None).score >= 70:
                hits += 1
                found += (user_id, job.id) in chosen
    recall = found / hits if hits else None
    print(
        f"proxy recall (local scorer as judge, {sample_users} users): {found} of {hits} 70+ pairs"
    )
    return {"proxy_recall": recall, "proxy_hits": hits}


def _research_new_companies(conn):
    profile = CompanyProfile(
        summary="(benchmark)",
        industry=None,
        size=None,
        headquarters=None,
        website=None,
        culture=[],
        red_flags=[],
    )
    keys = conn.execute(
        sa.select(companies.c.key).where(companies.c.info_updated_at.is_(None))
    ).scalars()
    for key in list(keys):
        save_company_info(conn, key, profile, model="benchmark", now=utcnow())


def _score_instantly(engine, result):
    """Stands in for the match runs: every pair a request covers gets a (fake) score. A
    range covers keys this tick added, in order."""
    added = [
        key
        for request in result.dynamic_partitions_requests or []
        if isinstance(request, dg.AddDynamicPartitionsRequest)
        for key in request.partition_keys
    ]
    position = {key: index for index, key in enumerate(added)}
    keys = []
    for request in result.run_requests or []:
        if request.partition_key:
            keys.append(request.partition_key)
            continue
        start = position[request.tags["dagster/asset_partition_range_start"]]
        end = position[request.tags["dagster/asset_partition_range_end"]]
        keys += added[start : end + 1]
    if not keys:
        return
    now = utcnow()
    rows = []
    for key in keys:
        user_id, job_id = parse_pair_key(key)
        rows.append(
            {
                "user_id": user_id,
                "job_id": job_id,
                "partition_key": key,
                "score": 10,
                "analysis": {},
                "model": "benchmark",
                "prompt_version": "-",
                "user_prompt_hash": "-",
                "notify_threshold": 70,
                "created_at": now,
                "updated_at": now,
            }
        )
    with engine.begin() as conn:
        conn.execute(user_job_matches.insert(), rows)


def _retire_expired(engine, dagster_engine, retention_days: int) -> None:
    """What the sensor's retention does over a day of ticks (at most 200 deletes each, about
    2 s of daemon time), done at once: Dagster deletes one partition per call (about 11 ms),
    which would make this benchmark run for hours, so the expired keys are deleted from
    Dagster's `dynamic_partitions` table directly. The ticks above still delete their share
    through Dagster's API."""
    cutoff = utcnow() - timedelta(days=retention_days)
    with engine.begin() as conn:
        expired = expired_partitions(conn, cutoff, limit=10_000_000)
        mark_partitions_deleted(conn, expired, utcnow())
    keys = [pair_key(*pair) for pair in expired]
    table = sa.table("dynamic_partitions", sa.column("partitions_def_name"), sa.column("partition"))
    with dagster_engine.begin() as conn:
        for start in range(0, len(keys), 5000):
            conn.execute(
                table.delete()
                .where(table.c.partitions_def_name == pair_partitions_def.name)
                .where(table.c.partition.in_(keys[start : start + 5000]))
            )


def _one_day_passes(engine):
    """Moves what time-based rules read back one day. Pairs whose partition retention
    already deleted are left alone: nothing reads their times again here."""
    with engine.begin() as conn:
        day = timedelta(days=1)
        conn.execute(
            match_candidates.update()
            .where(match_candidates.c.partition_deleted_at.is_(None))
            .values(
                partition_added_at=match_candidates.c.partition_added_at - day,
                created_at=match_candidates.c.created_at - day,
                day=match_candidates.c.day - day,
            )
        )
        conn.execute(
            jobs.update().values(
                first_seen_day=jobs.c.first_seen_day - day,
                first_seen_at=jobs.c.first_seen_at - day,
                last_seen_at=jobs.c.last_seen_at - day,
            )
        )


def summary(per_day_calls, users_count, ticks, selections, live, config: CascadeConfig) -> dict:
    days = len(per_day_calls)
    calls = sum(kept + shadow for kept, shadow, _ in per_day_calls) / days
    all_pairs = sum(postings * users_count for _, _, postings in per_day_calls) / days
    cascade = scoring_cost(round(calls))
    baseline = scoring_cost(round(all_pairs))
    tick_median, tick_max = statistics.median(ticks), max(ticks)
    print(f"\nper day (mean of {days} days)      cascade      all pairs")
    for label, name, fmt in (
        ("LLM calls", "calls", ",.0f"),
        ("input tokens", "input_tokens", ",.0f"),
        ("output tokens", "output_tokens", ",.0f"),
        ("dollars (gpt-4o-mini)", "dollars", ".2f"),
        ("dollars with Batch API", "dollars_batch_api", ".2f"),
    ):
        print(f"  {label:<26} {cascade[name]:>10{fmt}} {baseline[name]:>12{fmt}}")
    share = calls / all_pairs
    print(f"LLM calls / all pairs: {share:.3%} (target <= 10%)")
    print(f"live pair partitions at the end: {live:,} (target <= 100,000)")
    per_day = calls
    print(
        f"  at {per_day:,.0f} pairs a day, live partitions are about the retention age x that: "
        f"{100_000 / per_day:.1f} days or less keeps them under 100,000"
    )
    print(
        f"fan-out ticks (evaluation + the daemon applying its partition adds and deletes): "
        f"{len(ticks)}, median {tick_median:.2f} s, max {tick_max:.2f} s "
        "(target median <= 5 s)"
    )
    print(f"selection per day: median {statistics.median(selections):.1f} s")
    return {
        "days": days,
        "users": users_count,
        "llm_calls_per_day": cascade["calls"],
        "all_pairs_per_day": baseline["calls"],
        "llm_calls_share": round(share, 5),
        "input_tokens_per_day": cascade["input_tokens"],
        "output_tokens_per_day": cascade["output_tokens"],
        "dollars_per_day": cascade["dollars"],
        "dollars_per_day_batch_api": cascade["dollars_batch_api"],
        "baseline_dollars_per_day": baseline["dollars"],
        "live_pair_partitions": live,
        "retention_days_for_100k": round(100_000 / calls, 1),
        "tick_median_seconds": round(tick_median, 3),
        "tick_max_seconds": round(tick_max, 3),
        "ticks": len(ticks),
        "selection_median_seconds": round(statistics.median(selections), 2),
        "config": dataclasses.asdict(config),
        "targets_met": {
            "calls_share": share <= 0.10,
            "live_partitions": live <= 100_000,
            "tick_median": tick_median <= 5,
        },
    }


def main():
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=500)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a PrefilterResource default, e.g. --set max_users_per_posting=50",
    )
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = type(PrefilterResource.model_fields[name].default)(value)
    started = time.perf_counter()
    figures = run(args.users, args.per_day, args.days, PrefilterResource(**overrides))
    figures["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
