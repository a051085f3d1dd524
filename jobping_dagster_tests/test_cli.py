import json
from pathlib import Path

import pytest

from jobping_dagster.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "jobspy"
TOKEN = "s3cr3t-T0ken-value_abcdefghijklmnop"
WEBHOOK = f"https://discord.com/api/webhooks/123456789/{TOKEN}"


@pytest.fixture
def env(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", db_url)
    monkeypatch.delenv("JOBPING_WEBHOOK_ALLOWED_HOSTS", raising=False)


def test_users_add_list_update_remove(env, capsys):
    assert (
        main(
            ["users", "add", "Ada@Example.com", "--prompt", "python", "--discord-webhook", WEBHOOK]
        )
        == 0
    )
    assert main(["users", "update", "ada@example.com", "--min-score", "85"]) == 0
    assert main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "ada@example.com" in listed and "min 85" in listed
    assert TOKEN not in listed and "discord.com/api/webhooks/1234" in listed
    assert main(["users", "remove", "ada@example.com"]) == 0
    main(["users", "list"])
    assert "no users yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, field",
    [
        (["--min-score", "150"], "min_score"),
        (["--min-score", "abc"], "min_score"),
        (["--discord-webhook", f"http://discord.com/api/webhooks/1/{TOKEN}"], "discord_webhook"),
        (["--discord-webhook", f"https://evil.example/api/webhooks/1/{TOKEN}"], "discord_webhook"),
        (["--prompt", "x" * 5000], "prompt"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(env, capsys, args, field):
    assert main(["users", "add", "bob@example.com", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {field}")
    assert TOKEN not in err
    main(["users", "list"])
    assert "bob@example.com" not in capsys.readouterr().out


def test_bad_email_and_unknown_user_are_refused(env, capsys):
    assert main(["users", "add", "not-an-email"]) == 2
    assert "email" in capsys.readouterr().err
    assert main(["users", "update", "ghost@example.com", "--min-score", "50"]) == 2
    assert "no user with email" in capsys.readouterr().err


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared jobspy fixtures not present")
def test_import_csv_loads_both_layouts_and_status_counts_them(env, capsys):
    files = [FIXTURES / "software_engineer_us_2024.csv", FIXTURES / "non_tech_us_2025.csv"]
    assert main(["import-csv", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert out.count(" rows, ") == 2 and "400 rows" in out and "40 rows" in out
    assert main(["status", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert 300 < counts["postings"] < 440
    assert counts["users"] == 0 and counts["pending_outbox"] == 0
    # Importing the same files again adds nothing.
    main(["import-csv", *map(str, files)])
    main(["status", "--json"])
    assert json.loads(capsys.readouterr().out.split("\n", 2)[-1])["postings"] == counts["postings"]


def test_import_csv_refuses_a_file_that_is_not_a_jobspy_export(env, capsys, tmp_path):
    bogus = tmp_path / "bogus.csv"
    bogus.write_text("a,b\n1,2\n")
    assert main(["import-csv", str(bogus)]) == 2
    assert "bogus.csv" in capsys.readouterr().err


def test_unreachable_database_is_one_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", "postgresql://jobping:hunter2@127.0.0.1:1/jobping")
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert "JOBPING_DATABASE_URL" in err and "hunter2" not in err


def test_notifications_redrive_refuses_bad_input_by_name(env, capsys):
    assert main(["notifications", "redrive", "--status", "sent"]) == 2
    assert "--status must be among failed, dead, unknown, retry" in capsys.readouterr().err
    assert main(["notifications", "redrive", "--status", "failed", "--user", "x@y.z"]) == 2
    assert "no user x@y.z" in capsys.readouterr().err
    assert main(["notifications", "redrive", "--status", "failed"]) == 0
    assert capsys.readouterr().out.startswith("0 notifications back to pending")


def test_usage_errors_are_one_line_naming_the_option(env, capsys):
    assert main(["matches", "ada@example.com", "--limit", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "'--limit'" in err
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("error: Missing command")
    assert main(["users", "add", "--no-such-option"]) == 2
    assert "--no-such-option" in capsys.readouterr().err


def test_help_works_whatever_the_settings(env, capsys, monkeypatch):
    monkeypatch.setenv("JOBPING_LLM", "bogus")
    assert main(["--help"]) == 0
    assert "rerun" in capsys.readouterr().out
    assert main(["status"]) == 2
    assert capsys.readouterr().err.startswith("error: JOBPING_LLM")


def test_delivery_policy_from_the_cli_shown_masked(env, capsys, monkeypatch):
    monkeypatch.setenv("JOBPING_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1:9")
    secret = "cli-webhook-secret-SECRET-0042"
    hook = "http://127.0.0.1:9/hooks/private-path-token"
    assert main(["users", "add", "ann@example.com", "--prompt", "python"]) == 0
    assert (
        main(
            [
                "users", "update", "ann@example.com", "--channels", "email,webhook",
                "--webhook-url", hook, "--webhook-secret", secret, "--instant-score", "85",
                "--quiet-hours", "22:00-07:00", "--timezone", "Europe/Berlin",
                "--daily-cap", "5",
            ]
        )
        == 0
    )  # fmt: skip
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "channels email,webhook" in listed and "instant >= 85" in listed
    assert "cap 5/day" in listed and "quiet 22:00-07:00" in listed and "Europe/Berlin" in listed
    assert secret not in listed and "private-path-token" not in listed
    assert "webhook http://127.0.0.1/… (secret set)" in listed


@pytest.mark.parametrize(
    "args, field",
    [
        (["--timezone", "Mars/Olympus"], "timezone"),
        (["--quiet-hours", "22:00-22:00"], "quiet_hours"),
        (["--daily-cap", "-1"], "daily_cap"),
        (["--instant-score", "101"], "instant_score"),
        (["--channels", "pager"], "channels"),
        (["--channels", "webhook"], "channels"),
        (["--webhook-url", "https://127.0.0.1/x"], "webhook_url"),
        (["--webhook-url", "https://169.254.169.254/latest/meta-data"], "webhook_url"),
    ],
)
def test_bad_policy_is_refused_naming_the_field(env, capsys, args, field):
    assert main(["users", "add", "bob@example.com", *args]) == 2
    assert capsys.readouterr().err.startswith(f"error: {field}")
