"""Accounts through HTTP: sign-up, login, sessions (token and cookie), settings, deletion,
and the refusals: bad input names its field and stores nothing, guessing is slowed down,
forged tokens are refused, secrets never come back."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import jwt
import pytest
import sqlalchemy as sa

from jobping_dagster.db.schema import (
    llm_calls,
    match_candidates,
    match_feedback,
    notifications,
    user_job_matches,
    user_wishes,
    users,
)
from jobping_dagster.llm.ledger import SCORE, record_usage
from jobping_dagster.llm.usage import Usage
from jobping_dagster.users.passwords import hash_password
from jobping_dagster.users.store import set_password_hash
from jobping_dagster_tests.api_support import (
    PASSWORD,
    WEBHOOK,
    api_client,
    csrf_headers,
    sign_up,
)
from jobping_dagster_tests.builders import posting, research, scored_match, store_postings


@pytest.fixture
def client(engine, tmp_path):
    with api_client(engine, tmp_path) as client:
        yield client


def _user_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()


def test_sign_up_answers_a_session_and_keeps_only_a_hash(client, engine):
    answer = client.post(
        "/api/register",
        json={
            "email": " Ada@Example.com ",
            "password": PASSWORD,
            "prompt": "Remote Python backend work",
            "min_score": 75,
            "discord_webhook": WEBHOOK,
        },
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["min_score"] == 75
    assert body["user"]["discord_webhook"] == "https://discord.com/api/webhooks/1234…/****"
    assert "example-token-for-tests" not in answer.text
    assert PASSWORD not in answer.text
    cookies = answer.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("jobping_session="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Secure" not in session
    csrf = next(c for c in cookies if c.startswith("jobping_csrf="))
    assert "HttpOnly" not in csrf
    with engine.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.json()["email"] == "ada@example.com"


def test_production_cookies_are_secure(engine, tmp_path):
    with api_client(engine, tmp_path, JOBPING_COOKIE_SECURE="true") as client:
        answer = client.post("/api/register", json={"email": "a@b.co", "password": PASSWORD})
    assert all("Secure" in c for c in answer.headers.get_list("set-cookie"))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": 42}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"password": "aaaaaaaaaaaaaaaa"}, "password"),
        ({"password": None}, "password"),
        ({"prompt": "x" * 1_000_000}, "prompt"),
        ({"min_score": 150}, "min_score"),
        ({"min_score": "high"}, "min_score"),
        ({"min_score": 70.5}, "min_score"),
        (
            {"discord_webhook": "https://evil.example/api/webhooks/1/secret-token"},
            "discord_webhook",
        ),
        ({"discord_webhook": "http://discord.com/api/webhooks/1/secret-token"}, "discord_webhook"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_sign_up_names_the_field_and_stores_nothing(client, engine, fields, field):
    body = {"email": "new@example.com", "password": PASSWORD, **fields}
    answer = client.post("/api/register", json=body)
    assert answer.status_code == 422, answer.text
    assert [e["loc"][-1] for e in answer.json()["detail"]] == [field]
    assert "secret-token" not in answer.text and "short" not in answer.text
    assert _user_count(engine) == 0


def test_malformed_json_is_a_4xx_not_a_500(client, engine):
    answer = client.post(
        "/api/register",
        content=b'{"email": "a@b.co", "pass',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert client.post("/api/register", content=b"x" * (3 * 1024 * 1024)).status_code == 413
    assert _user_count(engine) == 0


def test_a_duplicate_email_is_refused_naming_the_email(client, engine):
    sign_up(client, "ada@example.com")
    answer = client.post("/api/register", json={"email": "ADA@example.com", "password": PASSWORD})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "email"]
    assert _user_count(engine) == 1


def test_login_answers_alike_for_an_unknown_address_and_a_wrong_password(client):
    sign_up(client, "ada@example.com")
    client.cookies.clear()
    wrong = client.post("/api/login", json={"email": "ada@example.com", "password": "nope" * 3})
    unknown = client.post("/api/login", json={"email": "bob@example.com", "password": "nope" * 3})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong email or password"}
    right = client.post("/api/login", json={"email": "Ada@example.com", "password": PASSWORD})
    assert right.status_code == 200 and right.json()["user"]["email"] == "ada@example.com"


def test_a_user_added_by_an_operator_cannot_log_in_without_a_password(client, engine):
    from jobping_dagster_tests.builders import user

    user(engine, "cli@example.com")
    answer = client.post("/api/login", json={"email": "cli@example.com", "password": PASSWORD})
    assert answer.status_code == 401


def test_guessing_one_address_is_stopped_after_five_failures(client):
    sign_up(client, "ada@example.com")
    for _ in range(5):
        answer = client.post("/api/login", json={"email": "ada@example.com", "password": "x" * 12})
        assert answer.status_code == 401
    blocked = client.post("/api/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    # Another address from the same client is not blocked by it.
    other = client.post("/api/login", json={"email": "bob@example.com", "password": "x" * 12})
    assert other.status_code == 401


def test_many_logins_from_one_ip_are_stopped(client):
    answers = [
        client.post("/api/login", json={"email": f"u{n}@example.com", "password": "x" * 12})
        for n in range(31)
    ]
    assert [a.status_code for a in answers[:30]] == [401] * 30
    assert answers[30].status_code == 429


def _forged(claims: dict, key: str = "another secret of 32 characters!") -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def test_tampered_expired_and_unsigned_tokens_are_refused(client, tmp_path):
    headers = sign_up(client, "ada@example.com")
    client.cookies.clear()
    token = headers["Authorization"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    secret = (tmp_path / "jwt_secret").read_text().strip()
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    expired = _forged({**claims, "exp": int(time.time()) - 10}, key=secret)
    none_header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    unsigned = f"{none_header}.{payload}."
    other_key = _forged(claims)
    for bad in (tampered, expired, unsigned, other_key, "garbage", ""):
        answer = client.get("/api/me", headers={"Authorization": f"Bearer {bad}"})
        assert answer.status_code == 401, bad
    assert client.get("/api/me", headers=headers).status_code == 200


def test_a_new_password_ends_earlier_sessions(client, engine):
    headers = sign_up(client, "ada@example.com")
    with engine.begin() as conn:
        user_id = conn.execute(sa.select(users.c.id)).scalar_one()
        set_password_hash(conn, user_id, hash_password("another long passphrase"))
    assert client.get("/api/me", headers=headers).status_code == 401


def test_cookie_sessions_need_the_csrf_token_to_change_anything(client):
    sign_up(client, "ada@example.com")
    assert client.get("/api/me").status_code == 200
    refused = client.patch("/api/me", json={"min_score": 80})
    assert refused.status_code == 403
    wrong = client.patch("/api/me", json={"min_score": 80}, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    assert client.get("/api/me").json()["min_score"] == 70
    done = client.patch("/api/me", json={"min_score": 80}, headers=csrf_headers(client))
    assert done.status_code == 200 and done.json()["min_score"] == 80


def test_logout_clears_the_cookies(client):
    sign_up(client, "ada@example.com")
    assert client.post("/api/logout").status_code == 204
    assert client.get("/api/me").status_code == 401


def test_settings_change_with_the_same_checks_as_the_cli(client):
    headers = sign_up(client, "ada@example.com")
    changed = client.patch(
        "/api/me",
        headers=headers,
        json={"prompt": "Data engineering in Berlin", "discord_webhook": WEBHOOK},
    )
    assert changed.status_code == 200
    assert changed.json()["prompt"] == "Data engineering in Berlin"
    assert "example-token-for-tests" not in changed.text
    refused = client.patch(
        "/api/me",
        headers=headers,
        json={"min_score": 90, "discord_webhook": "https://x.example/hook"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "discord_webhook"]
    me = client.get("/api/me", headers=headers).json()
    assert me["min_score"] == 70, "a refused change stores nothing half-way"
    cleared = client.patch("/api/me", headers=headers, json={"prompt": "", "discord_webhook": ""})
    assert cleared.json()["prompt"] is None and cleared.json()["discord_webhook"] is None
    assert client.patch("/api/me", headers=headers, json={}).status_code == 400


def test_what_jobping_understood_of_the_wish(client):
    headers = sign_up(client, "ada@example.com")
    empty = client.get("/api/me/wishes", headers=headers).json()
    assert empty == {"prompt": None, "reader": None, "wishes": None}
    client.patch(
        "/api/me", headers=headers, json={"prompt": "Senior Python developer, remote, in Germany"}
    )
    understood = client.get("/api/me/wishes", headers=headers).json()
    assert understood["reader"]
    assert "DE" in understood["wishes"]["countries"]
    assert understood["wishes"]["skills"] or understood["wishes"]["roles"]


def test_deleting_the_account_removes_everything_kept_about_the_user(client, engine):
    now = datetime.now(UTC).replace(tzinfo=None)
    store_postings(engine, [posting(1)], now)
    research(engine, "acme", now)
    headers = sign_up(client, "ada@example.com", prompt="python backend")
    other = sign_up(client, "bob@example.com", prompt="python backend")
    ada_id = client.get("/api/me", headers=headers).json()["id"]
    bob_id = client.get("/api/me", headers=other).json()["id"]
    for user_id in (ada_id, bob_id):
        match_id = scored_match(engine, user_id, 1, 90, notified_status="recorded")
        with engine.begin() as conn:
            conn.execute(
                match_feedback.insert().values(
                    user_id=user_id,
                    match_id=match_id,
                    verdict="good",
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                match_candidates.insert().values(
                    user_id=user_id, job_id=1, day=now.date(), decision="kept", relevance=0.5,
                    prompt_hash="h", created_at=now,
                )
            )  # fmt: skip
    client.get("/api/me/wishes", headers=headers)
    with engine.begin() as conn:
        record_usage(conn, SCORE, [Usage("gpt-4o-mini", 1000)], now, user_id=ada_id)
    client.cookies.clear()
    assert client.delete("/api/me", headers=headers).status_code == 204
    assert client.get("/api/me", headers=headers).status_code == 401
    with engine.connect() as conn:
        for table in (
            users,
            user_job_matches,
            notifications,
            match_feedback,
            match_candidates,
            user_wishes,
        ):
            owners = set(
                conn.execute(sa.select(table.c["id" if table is users else "user_id"])).scalars()
            )
            assert ada_id not in owners, table.name
        assert bob_id in set(conn.execute(sa.select(users.c.id)).scalars())
        # What the user's calls cost stays in the ledger, no longer whose they were.
        ledger = conn.execute(sa.select(llm_calls.c.user_id, llm_calls.c.input_tokens)).all()
        assert (None, 1000) in ledger and ada_id not in {row.user_id for row in ledger}


def test_strict_headers_on_every_answer(client):
    for path in ("/healthz", "/api/me", "/api/nowhere"):
        answer = client.get(path)
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
    assert client.get("/api/me").headers["cache-control"] == "no-store"


def test_no_secret_reaches_the_logs(client, caplog):
    caplog.set_level(logging.DEBUG)
    headers = sign_up(client, "ada@example.com", discord_webhook=WEBHOOK)
    client.post("/api/login", json={"email": "ada@example.com", "password": "wrong password!"})
    client.patch("/api/me", headers=headers, json={"discord_webhook": WEBHOOK + "x"})
    token = headers["Authorization"].split()[1]
    for secret in ("example-token-for-tests", PASSWORD, "wrong password!", token, "$argon2id$"):
        assert secret not in caplog.text


def test_production_refuses_to_start_without_a_jwt_secret(pg_url, tmp_path):
    from jobping_dagster.api.tokens import MissingSecret
    from jobping_dagster.db.engine import get_engine

    with pytest.raises(MissingSecret, match="JOBPING_JWT_SECRET"):
        api_client(get_engine(pg_url), tmp_path, JOBPING_DATABASE_URL=pg_url)
    secret = "s" * 40
    with api_client(
        get_engine(pg_url), tmp_path, JOBPING_DATABASE_URL=pg_url, JOBPING_JWT_SECRET=secret
    ) as client:
        headers = sign_up(client, "ada@example.com")
    claims = jwt.decode(headers["Authorization"].split()[1], secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert not (tmp_path / "jwt_secret").exists()


def test_the_generated_secret_is_kept_private_and_reused(engine, tmp_path):
    with api_client(engine, tmp_path) as first:
        headers = sign_up(first, "ada@example.com")
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o077 == 0
    with api_client(engine, tmp_path) as second:
        assert second.get("/api/me", headers=headers).status_code == 200


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_an_operator_gives_a_cli_user_a_password(client, engine, db_url, tmp_path, monkeypatch):
    from jobping_dagster.cli import main
    from jobping_dagster_tests.builders import user

    user(engine, "cli@example.com")
    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", db_url)
    assert main(["users", "password", "cli@example.com", "--password", "short"]) == 2
    assert main(["users", "password", "cli@example.com", "--password", PASSWORD]) == 0
    answer = client.post("/api/login", json={"email": "cli@example.com", "password": PASSWORD})
    assert answer.status_code == 200


def test_with_openai_the_wish_is_read_by_the_model(engine, tmp_path, monkeypatch):
    """The API calls the LLM outside any Dagster run: the key (an EnvVar for Dagster) must be
    resolved from the environment, through the real SDK to a fake OpenAI on 127.0.0.1."""
    from jobping_dagster_tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as openai:
        monkeypatch.setenv("OPENAI_API_KEY", "fake-key-for-the-api")
        with api_client(
            engine,
            tmp_path,
            OPENAI_API_KEY="fake-key-for-the-api",
            OPENAI_BASE_URL=openai.base_url,
            JOBPING_LLM="openai",
        ) as client:
            headers = sign_up(client, "ada@example.com", prompt="Python backend, remote")
            answer = client.get("/api/me/wishes", headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["reader"].startswith("gpt-4o-mini")
        assert "fake-key-for-the-api" not in answer.text
        assert openai.requests, "the wish was read by the (fake) model"


def test_the_monthly_llm_budget_is_set_and_checked(client, engine, tmp_path, monkeypatch):
    headers = sign_up(client, "ada@example.com")
    assert client.get("/api/me", headers=headers).json()["llm_budget_usd"] is None
    answer = client.patch("/api/me", headers=headers, json={"llm_budget_usd": 2.5})
    assert answer.status_code == 200 and answer.json()["llm_budget_usd"] == 2.5
    for bad in (-1, 10_001, "lots"):
        refused = client.patch("/api/me", headers=headers, json={"llm_budget_usd": bad})
        assert refused.status_code == 422, bad
        assert "llm_budget_usd" in refused.json()["detail"][0]["loc"]
    cleared = client.patch("/api/me", headers=headers, json={"llm_budget_usd": ""})
    assert cleared.json()["llm_budget_usd"] is None

    from jobping_dagster.cli import main

    monkeypatch.setenv("JOBPING_HOME", str(tmp_path))
    monkeypatch.setenv("JOBPING_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    assert main(["users", "update", "ada@example.com", "--llm-budget-usd", "abc"]) == 2
    assert main(["users", "update", "ada@example.com", "--llm-budget-usd", "12.5"]) == 0
    assert client.get("/api/me", headers=headers).json()["llm_budget_usd"] == 12.5
