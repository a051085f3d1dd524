"""Candidate selection in the app database and through Dagster: the match_candidates asset,
a fan-out tick at the designed scale, the shadow sample end to end, retention and rerun,
and the `users show`, `matches`, `rerun` and `eval` commands."""

import json
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from jobping_dagster.cli import main
from jobping_dagster.companies.sensors import build_company_research_sensor
from jobping_dagster.db.engine import get_engine, utcnow
from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import (
    match_candidates,
    notifications,
    user_job_matches,
    user_wishes,
    users,
)
from jobping_dagster.definitions import build_definitions
from jobping_dagster.llm.local.wish_reader import LOCAL_WISHES_PARSER, read_wishes_locally
from jobping_dagster.llm.resources import LocalLLMResource, OpenAIResource
from jobping_dagster.matching.assets import pair_partitions_def
from jobping_dagster.matching.candidate_assets import match_candidates as match_candidates_asset
from jobping_dagster.matching.candidates import scored_candidates
from jobping_dagster.matching.recall import estimate_recall
from jobping_dagster.matching.resources import PrefilterResource
from jobping_dagster.matching.selection import WishReader, select_day
from jobping_dagster.matching.sensors import PAIRS_PER_RUN, build_match_fan_out_sensor
from jobping_dagster.run_once import run_once
from jobping_dagster.settings import Settings
from jobping_dagster_tests.builders import (
    age_partitions,
    evaluate_sensor,
    posting,
    research,
    store_postings,
    user,
)
from jobping_dagster_tests.fakes.openai_server import FakeOpenAI, unauthorized

TITLES = [
    "Python Backend Engineer",
    "Registered Nurse",
    "Barber",
    "React Frontend Developer",
    "Data Engineer",
    "Truck Driver",
]


def _postings(count: int, start: int = 0):
    return [
        posting(
            n,
            "Acme",
            title=TITLES[n % len(TITLES)],
            description=f"We are hiring a {TITLES[n % len(TITLES)].lower()}. Work on-site.",
            location="Austin, TX, US",
            is_remote=False,
        )
        for n in range(start, start + count)
    ]


def _materialize(instance, db_url, day, **prefilter):
    return dg.materialize(
        [match_candidates_asset],
        partition_key=day.isoformat(),
        instance=instance,
        resources={
            "app_db": AppDatabase(url=db_url),
            "llm": LocalLLMResource(),
            "prefilter": PrefilterResource(**prefilter),
        },
        selection=[match_candidates_asset],
    )


def _chosen(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(match_candidates)).all()


def test_selection_keeps_few_counts_every_other_pair_and_tops_up_for_new_users(engine, db_url):
    now = utcnow()
    store_postings(engine, _postings(60), now)
    user(engine, "ada@example.com", "Python backend engineer")
    user(engine, "bob@example.com", "Registered nurse, remote only")

    with dg.DagsterInstance.ephemeral() as instance:
        first = _materialize(instance, db_url, now.date(), shadow_rate=0.0)
        again = _materialize(instance, db_url, now.date(), shadow_rate=0.0)
        user(engine, "cy@example.com", "Barber")
        later = _materialize(instance, db_url, now.date(), shadow_rate=0.0)

    meta = first.asset_materializations_for_node("match_candidates")[0].metadata
    kept, gated = meta["kept"].value, meta["gated"].value
    assert meta["pairs_considered"].value == 120
    assert kept + gated + meta["ranked_out"].value + meta["over_posting_cap"].value == 120
    assert kept == 5  # ada: ceil(8% of 60 postings); the nurse's are all gated
    assert gated == 60  # the remote-only nurse and on-site postings: all gated
    assert meta["gated_by_reason"].value == {"onsite_for_remote_only": 60}
    assert meta["wishes_read"].value == 2
    # The kept pairs' relevance, in bins of ten: five pairs counted once each.
    histogram = meta["kept_relevance_histogram"].value.splitlines()[2:]
    assert len(histogram) == 10
    assert sum(int(line.split("|")[2]) for line in histogram) == kept
    assert again.asset_materializations_for_node("match_candidates")[0].metadata["kept"].value == 0
    later_meta = later.asset_materializations_for_node("match_candidates")[0].metadata
    assert later_meta["pairs_chosen_before"].value == 5
    assert later_meta["kept"].value == 5
    rows = _chosen(engine)
    assert len(rows) == 10
    with engine.connect() as conn:
        titles = dict(conn.execute(sa.text("SELECT jobs.id, jobs.title FROM jobs")).all())
        ada = conn.execute(
            sa.select(users.c.id).where(users.c.email == "ada@example.com")
        ).scalar_one()
    assert all(
        titles[r.job_id].startswith("Python Backend Engineer") for r in rows if r.user_id == ada
    )


def test_a_fan_out_tick_over_1000_users_and_500_postings(engine, db_url):
    now = utcnow()
    store_postings(engine, _postings(500), now)
    research(engine, "acme", now)
    prompts = ["Python backend engineer", "Registered nurse", "Barber", "Data engineer, SQL"]
    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [
                {
                    "email": f"u{n}@example.com",
                    "prompt": prompts[n % len(prompts)] + f" #{n}",
                    "min_score": 70,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(1000)
            ],
        )
    prefilter = PrefilterResource()
    reader = WishReader(LocalLLMResource().read_wishes, LOCAL_WISHES_PARSER, read_wishes_locally)
    result = select_day(engine, now.date(), reader, prefilter.cascade_config(), now)
    selection = result.selection
    assert selection.considered == 500_000
    # no posting goes to more users than its cap; no user gets more than the budget
    chosen = _chosen(engine)
    per_posting: dict[int, int] = {}
    for row in chosen:
        if row.decision == "kept":
            per_posting[row.job_id] = per_posting.get(row.job_id, 0) + 1
    assert max(per_posting.values()) <= prefilter.max_users_per_posting
    assert selection.kept + selection.shadow == len(chosen) < 500_000 * 0.10

    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(
            instance=instance,
            cursor="{}",
            resources={"app_db": AppDatabase(url=db_url), "prefilter": prefilter},
        )
        tick = build_match_fan_out_sensor(interval_seconds=30)(context)
    [added] = tick.dynamic_partitions_requests
    # The tick adds what its runs cover and no more: backpressure bounds the runs.
    assert len(tick.run_requests) == prefilter.max_active_match_runs
    assert len(added.partition_keys) == prefilter.max_active_match_runs * PAIRS_PER_RUN
    assert json.loads(tick.cursor)["waiting"] == len(chosen) - len(added.partition_keys)


@pytest.fixture
def settings(db_url, tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", db_url)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return Settings.from_env()


def test_shadow_pairs_are_scored_notified_and_move_the_recall_estimate(settings, monkeypatch):
    # One kept pair per user and every dropped pair in the shadow sample.
    monkeypatch.setenv("JOBPING_PREFILTER_MAX_PER_USER", "1")
    monkeypatch.setenv("JOBPING_PREFILTER_SHADOW_RATE", "1")
    settings = Settings.from_env()
    engine = get_engine(settings.database_url)
    user(engine, "ada@example.com", "Senior backend engineer, Python, remote")
    with dg.DagsterInstance.ephemeral() as instance:
        report = run_once(build_definitions(settings), instance, utcnow().date())
    assert report.failed_runs == []
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(match_candidates.c.decision, user_job_matches.c.score, notifications.c.id)
            .join(
                user_job_matches,
                sa.and_(
                    user_job_matches.c.user_id == match_candidates.c.user_id,
                    user_job_matches.c.job_id == match_candidates.c.job_id,
                ),
            )
            .outerjoin(notifications, notifications.c.match_id == user_job_matches.c.id)
        ).all()
        estimate = estimate_recall(scored_candidates(conn, utcnow().date() - timedelta(days=1)))
    shadow_hits = [r for r in rows if r.decision == "shadow" and r.score >= 70]
    assert [r.decision for r in rows].count("kept") == 1
    assert shadow_hits, "the sample data should hold more than one good match"
    assert all(r.id is not None for r in shadow_hits)  # notified like any other match
    assert estimate.shadow_hits == len(shadow_hits)
    assert estimate.recall is not None and estimate.recall < 1.0


def test_retention_deletes_a_pair_partition_and_rerun_brings_it_back(settings, capsys):
    engine = get_engine(settings.database_url)
    user(engine, "ada@example.com", "Senior backend engineer, Python, remote")
    defs = build_definitions(settings)
    home = settings.home / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_once(defs, instance, utcnow().date())
        with engine.begin() as conn:
            key = conn.execute(sa.select(user_job_matches.c.partition_key)).scalars().first()
        age_partitions(engine, timedelta(days=15))
        evaluate_sensor(
            build_match_fan_out_sensor(interval_seconds=30), instance, defs.resources, "{}", defs
        )
        assert not instance.has_dynamic_partition(pair_partitions_def.name, key)

    assert main(["rerun", key]) == 0
    out = capsys.readouterr().out
    assert key in out
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.has_dynamic_partition(pair_partitions_def.name, key)
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": key}))
    assert runs and runs[0].status == dg.DagsterRunStatus.SUCCESS
    assert main(["rerun", "u999-j1"]) == 2
    assert "no user 999" in capsys.readouterr().err
    assert main(["rerun", "not-a-key"]) == 2


def test_users_show_says_what_was_understood(settings, capsys):
    engine = get_engine(settings.database_url)
    user(engine, "ada@example.com", "Senior Java engineer in the US, remote only, 150k USD+")
    user(engine, "bob@example.com", "I want a job")
    assert main(["users", "show", "ada@example.com"]) == 0
    out = capsys.readouterr().out
    assert "understood by local-wishes" in out
    assert "US" in out and "150,000 USD" in out and "remote only" in out
    assert main(["users", "show", "bob@example.com"]) == 0
    out = capsys.readouterr().out
    assert "nothing it can check" in out
    assert main(["users", "show", "ghost@example.com"]) == 2


def test_matches_lists_unscored_candidates_and_scores_them_on_demand(settings, capsys):
    engine = get_engine(settings.database_url)
    ada = user(engine, "ada@example.com", "Senior backend engineer, Python, remote")
    with dg.DagsterInstance.ephemeral() as instance:
        run_once(build_definitions(settings), instance, utcnow().date())
    with engine.connect() as conn:
        scored_before = conn.execute(
            sa.select(sa.func.count()).select_from(user_job_matches)
        ).scalar_one()
    assert main(["matches", "ada@example.com", "--limit", "3"]) == 0
    listed = capsys.readouterr().out
    keys = [word for word in listed.split() if word.startswith(f"u{ada}-j")]
    assert len(keys) == 3
    assert main(["matches", "ada@example.com", "--limit", "3", "--score"]) == 0
    with engine.connect() as conn:
        scored = set(conn.execute(sa.select(user_job_matches.c.partition_key)).scalars())
        pulled = conn.execute(
            sa.select(sa.func.count()).where(match_candidates.c.decision == "pulled")
        ).scalar_one()
    assert set(keys) <= scored
    assert len(scored) == scored_before + 3 and pulled == 3
    assert main(["matches", "ada@example.com", "--limit", "0"]) == 2


def _labeled_folder(tmp_path):
    jobs = [
        {
            "job_key": "k1",
            "title": "Barber",
            "company": "Cuts",
            "location": "Austin, TX, US",
            "description": "Walk-in barber shop.",
            "job_url": "https://x.example/1",
            "site": "indeed",
        },
        {
            "job_key": "k2",
            "title": "Registered Nurse",
            "company": "Care",
            "location": "Austin, TX, US",
            "description": "ICU nurse.",
            "job_url": "https://x.example/2",
            "site": "indeed",
        },
        {
            "job_key": "k3",
            "title": "Python Developer",
            "company": "Soft",
            "location": "Remote",
            "is_remote": "True",
            "description": "Django APIs.",
            "job_url": "https://x.example/3",
            "site": "indeed",
        },
        {
            "job_key": "k4",
            "title": "Line Cook",
            "company": "Diner",
            "location": "Austin, TX, US",
            "description": "Grill.",
            "job_url": "https://x.example/4",
            "site": "indeed",
        },
    ]
    (tmp_path / "jobs.jsonl").write_text("\n".join(json.dumps(j) for j in jobs))
    prompts = [{"id": "p1", "prompt": "Barber"}, {"id": "p2", "prompt": "Python developer"}]
    (tmp_path / "prompts.json").write_text(json.dumps(prompts))
    good = {("k1", "p1"), ("k3", "p2")}
    rows = ["job_key,prompt_id,score"] + [
        f"{j['job_key']},{p['id']},{90 if (j['job_key'], p['id']) in good else 10}"
        for j in jobs
        for p in prompts
    ]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_eval_prints_the_cascade_and_scorer_figures(settings, tmp_path, capsys):
    folder = _labeled_folder(tmp_path)
    args = [
        "eval",
        "--jobs",
        str(folder / "jobs.jsonl"),
        "--prompts",
        str(folder / "prompts.json"),
        "--labels",
        str(folder / "labels.csv"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    figures = json.loads(out[-1])
    assert figures["pairs"] == 8 and figures["positives"] == 2
    assert figures["positives_kept"] == 2 and figures["prefilter_recall"] == 1.0
    assert figures["kept"] == 2  # each wish keeps ceil(8% of 4 postings) = 1
    assert any(line.startswith("recall of 70+") for line in out)
    (folder / "labels.csv").write_text("job_key,prompt_id\nk1,p1\n")
    assert main(args) == 2
    assert "missing column" in capsys.readouterr().err


def test_wishes_are_read_once_by_openai_and_a_failed_read_falls_back_for_now(engine, db_url):
    now = utcnow()
    store_postings(engine, _postings(12), now)
    user(engine, "ada@example.com", "Python backend engineer, remote only")
    user(engine, "bob@example.com", "Registered nurse in Texas")
    with FakeOpenAI() as fake, dg.DagsterInstance.ephemeral() as instance:
        llm = OpenAIResource(api_key="sk-test-not-a-real-key", base_url=fake.base_url)
        resources = {
            "app_db": AppDatabase(url=db_url),
            "llm": llm,
            "prefilter": PrefilterResource(),
        }
        fake.enqueue(unauthorized(), times=2)
        down = dg.materialize(
            [match_candidates_asset],
            partition_key=now.date().isoformat(),
            instance=instance,
            resources=resources,
        )
        with engine.connect() as conn:
            stored_while_down = conn.execute(sa.select(user_wishes)).all()
        up = dg.materialize(
            [match_candidates_asset],
            partition_key=now.date().isoformat(),
            instance=instance,
            resources=resources,
        )
        again = dg.materialize(
            [match_candidates_asset],
            partition_key=now.date().isoformat(),
            instance=instance,
            resources=resources,
        )
        wish_requests = [r for r in fake.requests if "<user_wishes>" in json.dumps(r.body)]

    def meta(result, name):
        return result.asset_materializations_for_node("match_candidates")[0].metadata[name].value

    assert meta(down, "wishes_read_locally_after_an_error") == 2
    assert meta(down, "kept") > 0  # selection went on with the local reading
    assert stored_while_down == []
    assert meta(up, "wishes_read") == 2 and meta(again, "wishes_read") == 0
    assert len(wish_requests) == 4  # two refused, two read; none after that
    with engine.connect() as conn:
        parsers = set(conn.execute(sa.select(user_wishes.c.parser)).scalars())
    assert parsers == {f"{llm.model}:wishes-v1"}


OLD_EXPORT = (
    Path(__file__).resolve().parents[2] / "shared/fixtures/jobspy/software_engineer_us_2024.csv"
)


def _researched(instance, db_url) -> set[str]:
    """The companies one research sensor tick adds a partition and a run for."""
    resources = {"app_db": AppDatabase(url=db_url)}
    result = evaluate_sensor(
        build_company_research_sensor(interval_seconds=30), instance, resources
    )
    added = {
        key
        for request in result.dynamic_partitions_requests
        if isinstance(request, dg.AddDynamicPartitionsRequest)
        for key in request.partition_keys
    }
    assert bool(added) == bool(result.run_requests)
    return added


@pytest.mark.skipif(not OLD_EXPORT.is_file(), reason="shared jobspy fixtures not checked out")
def test_research_is_asked_only_for_companies_whose_postings_can_still_be_matched(
    engine, db_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", db_url)
    now = utcnow()
    # An old export imported today: first seen today, board dates of 2024. The selection
    # never chooses a posting that old, so its companies are not worth an LLM call.
    assert main(["import-csv", str(OLD_EXPORT)]) == 0
    with engine.connect() as conn:
        imported = conn.execute(sa.text("SELECT COUNT(DISTINCT company_key) FROM jobs")).scalar()
        # A row without a board date counts from the day JobPing first saw it, as in the
        # selection: those few may still be chosen today.
        undated = set(
            conn.execute(
                sa.text("SELECT DISTINCT company_key FROM jobs WHERE date_posted IS NULL")
            ).scalars()
        )
    assert imported >= 300 and len(undated) < 10
    store_postings(engine, [posting(1, "Fresh Co")], now)  # today's scrape: may be chosen
    # Seen three days ago, and a pair chosen for it waits for its company's research.
    store_postings(engine, [posting(2, "Chosen Co")], now - timedelta(days=3))
    # Seen three days ago but no user's pair was chosen: its day's selection is over.
    store_postings(engine, [posting(3, "Passed Over")], now - timedelta(days=3))
    alice = user(engine, "alice@example.com")
    with engine.begin() as conn:
        chosen_id = conn.execute(
            sa.text("SELECT id FROM jobs WHERE company_key = 'chosen-co'")
        ).scalar_one()
        conn.execute(
            match_candidates.insert().values(
                user_id=alice,
                job_id=chosen_id,
                day=(now - timedelta(days=3)).date(),
                decision="kept",
                relevance=0.5,
                weight=1.0,
                prompt_hash="x",
                created_at=now,
            )
        )
    with dg.DagsterInstance.ephemeral() as instance:
        assert _researched(instance, db_url) == {"fresh-co", "chosen-co"} | undated
