import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from jobping_dagster.db.engine import utcnow
from jobping_dagster.definitions import build_definitions
from jobping_dagster.llm.resources import LocalLLMResource, OpenAIResource
from jobping_dagster.postings.partitions import FIRST_DAY_FILE, recorded_first_day
from jobping_dagster.postings.sources import JobSpySource, SampleJobSource
from jobping_dagster.settings import InvalidConfiguration, Settings

LINEAGE = [
    ("scraped_jobs", "company_info"),
    ("scraped_jobs", "match_candidates"),
    ("company_info", "user_job_matches"),
    ("user_job_matches", "notifications"),
]


def test_definitions_load_with_lineage_groups_and_descriptions(tmp_path):
    defs = build_definitions(Settings.from_env({"JOBPING_HOME": str(tmp_path)}))
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    for upstream, downstream in LINEAGE:
        assert dg.AssetKey(upstream) in graph.get(dg.AssetKey(downstream)).parent_keys
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name != "default"
        assert node.description
        assert node.kinds
    assert {s.name for s in repo.sensor_defs} == {
        "candidate_selection_sensor",
        "company_research_sensor",
        "match_fan_out_sensor",
        "notification_sensor",
    }
    schedules = {s.name: s.cron_schedule for s in repo.schedule_defs}
    assert schedules == {"scrape_schedule": "0 * * * *", "daily_account_schedule": "30 0 * * *"}


def test_a_cap_of_zero_or_a_negative_budget_is_refused_naming_the_setting(tmp_path):
    for name, value in (
        ("JOBPING_PREFILTER_MAX_PER_USER", "0"),
        ("JOBPING_PREFILTER_MAX_USERS_PER_POSTING", "-5"),
        ("JOBPING_PREFILTER_USER_SHARE", "0"),
        ("JOBPING_PREFILTER_SHADOW_RATE", "-0.1"),
        ("JOBPING_PAIR_RETENTION_DAYS", "0"),
        ("JOBPING_MAX_ACTIVE_MATCH_RUNS", "abc"),
    ):
        with pytest.raises(InvalidConfiguration, match=name):
            Settings.from_env({"JOBPING_HOME": str(tmp_path), name: value})


def test_settings_choose_local_or_real_resources(tmp_path):
    local = build_definitions(Settings.from_env({"JOBPING_HOME": str(tmp_path)})).resources
    assert isinstance(local["llm"], LocalLLMResource)
    assert isinstance(local["job_source"], SampleJobSource)

    real = build_definitions(
        Settings.from_env(
            {
                "JOBPING_HOME": str(tmp_path),
                "OPENAI_API_KEY": "sk-test",
                "JOBPING_JOB_SOURCE": "jobspy",
                "JOBPING_SEARCH_TERMS": "data engineer, python developer",
            }
        )
    ).resources
    assert isinstance(real["llm"], OpenAIResource)
    assert isinstance(real["job_source"], JobSpySource)
    assert real["job_source"].search_terms == ["data engineer", "python developer"]


def test_the_workspace_loads_as_dagster_dev_would(tmp_path):
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "JOBPING_HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    env.pop("OPENAI_API_KEY", None)
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Validation successful for code location jobping" in done.stdout + done.stderr
    assert (done.stdout + done.stderr).count("OPENAI_API_KEY is not set") == 1


def _kinds(defs: dg.Definitions, name: str) -> set[str]:
    return set(defs.get_repository_def().asset_graph.get(dg.AssetKey(name)).kinds)


def test_the_llm_assets_show_the_llm_the_settings_choose(tmp_path):
    local = build_definitions(Settings.from_env({"JOBPING_HOME": str(tmp_path)}))
    real = build_definitions(
        Settings.from_env({"JOBPING_HOME": str(tmp_path), "OPENAI_API_KEY": "sk-test"})
    )
    for name in ("company_info", "user_job_matches"):
        assert _kinds(local, name) == {"python", "sql"}
        assert _kinds(real, name) == {"openai", "sql"}
    # The jobs still select the assets whose kinds changed.
    job = local.resolve_job_def("match_job")
    assert dg.AssetKey("user_job_matches") in job.asset_layer.asset_graph.get_all_asset_keys()


def test_sensor_interval_and_scrape_cron_come_from_the_settings(tmp_path):
    settings = Settings.from_env(
        {
            "JOBPING_HOME": str(tmp_path),
            "JOBPING_SENSOR_INTERVAL_SECONDS": "90",
            "JOBPING_SCRAPE_CRON": "15 6 * * *",
        }
    )
    repo = build_definitions(settings).get_repository_def()
    assert {s.minimum_interval_seconds for s in repo.sensor_defs} == {90}
    schedules = {s.name: s.cron_schedule for s in repo.schedule_defs}
    assert schedules["scrape_schedule"] == "15 6 * * *"


def test_importing_the_code_location_reads_no_setting():
    # An invalid value would raise if a module read it at import time: only
    # build_definitions (the code server's load) reads the settings.
    env = {**os.environ, "JOBPING_SENSOR_INTERVAL_SECONDS": "not a number"}
    modules = "jobping_dagster.definitions, jobping_dagster.run_once, jobping_dagster.cli"
    done = subprocess.run(
        [sys.executable, "-c", f"import {modules}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_settings_hold_secrets_out_of_their_repr_and_errors(tmp_path):
    env = {
        "JOBPING_HOME": str(tmp_path),
        "OPENAI_API_KEY": "sk-SECRET42",
        "JOBPING_DATABASE_URL": "postgresql://jobping:hunter2@db/jobping",
    }
    settings = Settings.from_env(env)
    assert settings.database_url == env["JOBPING_DATABASE_URL"]
    assert settings.database_url_from_env and settings.openai_enabled
    assert "hunter2" not in repr(settings) and "sk-SECRET42" not in repr(settings)
    with pytest.raises(InvalidConfiguration) as error:
        Settings.from_env({**env, "JOBPING_LLM_CONCURRENCY": "many"})
    assert str(error.value) == "JOBPING_LLM_CONCURRENCY must be a whole number (got 'many')"


def test_an_empty_variable_means_its_default(tmp_path):
    settings = Settings.from_env(
        {"JOBPING_HOME": str(tmp_path), "JOBPING_HOURS_OLD": "", "JOBPING_JOB_SOURCE": ""}
    )
    assert (settings.hours_old, settings.job_source, settings.llm) == (24, "sample", "local")
    assert settings.database_url == f"sqlite:///{tmp_path / 'jobping.db'}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026/01/01", "JOBPING_SCRAPE_START_DATE must be a date as YYYY-MM-DD"),
        ("2999-01-01", "JOBPING_SCRAPE_START_DATE must not be in the future"),
        ("0", "JOBPING_HOURS_OLD must be between 1 and 720 (got 0)"),
        ("gpt", "JOBPING_LLM must be one of openai, local (got 'gpt')"),
    ],
)
def test_an_invalid_value_is_named_with_the_value(tmp_path, value, message):
    name = message.split()[0]
    with pytest.raises(InvalidConfiguration, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env({"JOBPING_HOME": str(tmp_path), name: value})


def _first_days(defs: dg.Definitions) -> set[str]:
    graph = defs.get_repository_def().asset_graph
    keys = (dg.AssetKey("scraped_jobs"), dg.AssetKey("match_candidates"))
    return {graph.get(key).partitions_def.get_first_partition_key() for key in keys}


def test_the_daily_partitions_start_on_the_configured_day(tmp_path):
    settings = Settings.from_env(
        {"JOBPING_HOME": str(tmp_path), "JOBPING_SCRAPE_START_DATE": "2026-04-02"}
    )
    assert _first_days(build_definitions(settings)) == {"2026-04-02"}
    assert not (tmp_path / FIRST_DAY_FILE).exists()


def test_unset_the_daily_partitions_start_on_the_day_of_install(tmp_path):
    settings = Settings.from_env({"JOBPING_HOME": str(tmp_path)})
    today = utcnow().date().isoformat()
    assert _first_days(build_definitions(settings)) == {today}
    assert (tmp_path / FIRST_DAY_FILE).read_text().strip() == today


def test_the_recorded_first_day_stays_put(tmp_path):
    path = tmp_path / "home" / FIRST_DAY_FILE
    assert recorded_first_day(path, date(2026, 5, 1)) == date(2026, 5, 1)
    # A later day, another process: the partitions keep their first day.
    assert recorded_first_day(path, date(2026, 5, 9)) == date(2026, 5, 1)
    path.write_text("soon")
    with pytest.raises(InvalidConfiguration, match="JOBPING_SCRAPE_START_DATE"):
        recorded_first_day(path, date(2026, 5, 9))
