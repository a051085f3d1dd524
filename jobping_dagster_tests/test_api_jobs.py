"""A seeker's postings, matches, notifications and feedback through HTTP: best first, paged
by cursor, filtered, and never another user's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from jobping_dagster.db.schema import jobs, match_candidates, match_feedback
from jobping_dagster_tests.api_support import api_client, csrf_headers, sign_up
from jobping_dagster_tests.builders import posting, research, scored_match, store_postings
from jobping_dagster_tests.fakes.dagster_graphql import ADDED, LAUNCHED, TinyGraphQL, dagster
from jobping_dagster_tests.stack import free_port


@pytest.fixture
def client(engine, tmp_path):
    with api_client(engine, tmp_path) as client:
        yield client


@pytest.fixture
def now():
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def two_users(client, engine, now):
    """Ada and Bob with bearer headers; postings 1-7 (Acme researched, Globex not)."""
    store_postings(engine, [posting(n) for n in range(1, 6)], now)
    store_postings(
        engine,
        [posting(6, company="Globex", title="Data 100% Engineer"), posting(7, company="Globex")],
        now,
    )
    research(engine, "acme", now)
    ada = sign_up(client, "ada@example.com", prompt="python backend")
    bob = sign_up(client, "bob@example.com", prompt="python backend")
    client.cookies.clear()
    ids = {
        name: client.get("/api/me", headers=headers).json()["id"]
        for name, headers in (("ada", ada), ("bob", bob))
    }
    return {"ada": ada, "bob": bob, **{f"{k}_id": v for k, v in ids.items()}}


def _all_pages(client, headers, **params) -> list[dict]:
    items, cursor = [], None
    for _ in range(20):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/jobs", headers=headers, params=query)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("more pages than items")


def test_matches_come_best_first_across_pages(client, engine, two_users):
    scores = {1: 55, 2: 90, 3: 72, 4: 90, 5: 10, 6: 81}
    for job_id, score in scores.items():
        scored_match(engine, two_users["ada_id"], job_id, score)
    scored_match(engine, two_users["bob_id"], 7, 99)
    items = _all_pages(client, two_users["ada"], limit=2)
    assert [i["match"]["score"] for i in items] == [90, 90, 81, 72, 55, 10]
    assert len({i["job"]["id"] for i in items}) == 6, "no posting twice across pages"
    assert 7 not in {i["job"]["id"] for i in items}, "never another user's match"
    first = items[0]
    assert first["match"]["recommendation"] == "apply"
    assert first["match"]["pros"] == ["python"] and first["match"]["cons"] == ["on call"]
    assert first["match"]["current"] is True and first["match"]["feedback"] is None
    assert first["job"]["url"].startswith("https://jobs.example.com/")
    assert first["company"]["summary"] == "acme builds software."
    globex = next(i for i in items if i["job"]["id"] == 6)
    assert globex["company"]["researched"] is False and globex["company"]["summary"] is None


def test_filters_by_score_text_and_day(client, engine, two_users, now):
    for job_id, score in {1: 55, 2: 90, 6: 81}.items():
        scored_match(engine, two_users["ada_id"], job_id, score)
    headers = two_users["ada"]
    assert [i["job"]["id"] for i in _all_pages(client, headers, min_score=80)] == [2, 6]
    # The text is matched literally: "100%" is not a wildcard.
    assert [i["job"]["id"] for i in _all_pages(client, headers, q="100%")] == [6]
    assert [i["job"]["id"] for i in _all_pages(client, headers, q="GLOBEX")] == [6]
    assert _all_pages(client, headers, q="_") == []
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    assert _all_pages(client, headers, since=tomorrow) == []
    assert len(_all_pages(client, headers, since=now.date().isoformat())) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_score": 101}, "min_score"),
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"cursor": "%%%"}, "cursor"),
    ],
)
def test_bad_query_parameters_name_themselves(client, two_users, params, field):
    answer = client.get("/api/jobs", headers=two_users["ada"], params=params)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", field]


def test_one_posting_with_its_description_and_only_ones_own_match(client, engine, two_users):
    scored_match(engine, two_users["bob_id"], 3, 88)
    ada_view = client.get("/api/jobs/3", headers=two_users["ada"]).json()
    assert ada_view["match"] is None, "Bob's match on the posting is not Ada's to see"
    assert ada_view["description"].startswith("Build things with Python.")
    bob_view = client.get("/api/jobs/3", headers=two_users["bob"]).json()
    assert bob_view["match"]["score"] == 88
    assert client.get("/api/jobs/999", headers=two_users["ada"]).status_code == 404
    assert client.get("/api/jobs/3").status_code == 401


def test_feedback_is_stored_replaced_and_only_on_ones_own_match(client, engine, two_users):
    ada_match = scored_match(engine, two_users["ada_id"], 1, 90)
    bob_match = scored_match(engine, two_users["bob_id"], 1, 90)
    url = f"/api/matches/{ada_match}/feedback"
    first = client.post(url, headers=two_users["ada"], json={"verdict": "bad", "reason": "no"})
    assert first.status_code == 200 and first.json()["verdict"] == "bad"
    again = client.post(url, headers=two_users["ada"], json={"verdict": "good"})
    assert again.json() == {**again.json(), "verdict": "good", "reason": None}
    stolen = client.post(
        f"/api/matches/{bob_match}/feedback", headers=two_users["ada"], json={"verdict": "bad"}
    )
    assert stolen.status_code == 404
    missing = client.post(
        "/api/matches/999/feedback", headers=two_users["ada"], json={"verdict": "bad"}
    )
    assert missing.status_code == 404
    for bad, field in (
        ({"verdict": "meh"}, "verdict"),
        ({"verdict": "good", "reason": "x" * 1001}, "reason"),
    ):
        answer = client.post(url, headers=two_users["ada"], json=bad)
        assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == field
    with engine.connect() as conn:
        rows = conn.execute(sa.select(match_feedback)).all()
    assert [(r.user_id, r.match_id, r.verdict) for r in rows] == [
        (two_users["ada_id"], ada_match, "good")
    ]
    listed = client.get("/api/jobs", headers=two_users["ada"]).json()["items"][0]
    assert listed["match"]["feedback"] == {"verdict": "good", "reason": None}


def test_feedback_from_the_page_needs_its_csrf_token(client, engine, two_users):
    match_id = scored_match(engine, two_users["ada_id"], 1, 90)
    client.post(
        "/api/login", json={"email": "ada@example.com", "password": "a long enough passphrase"}
    )
    url = f"/api/matches/{match_id}/feedback"
    assert client.post(url, json={"verdict": "good"}).status_code == 403
    assert (
        client.post(url, json={"verdict": "good"}, headers=csrf_headers(client)).status_code == 200
    )


def test_notifications_newest_first_with_status_and_only_ones_own(client, engine, two_users):
    for job_id, status in ((1, "sent"), (2, "retry"), (3, "recorded")):
        scored_match(engine, two_users["ada_id"], job_id, 90, notified_status=status)
    scored_match(engine, two_users["bob_id"], 4, 90, notified_status="sent")
    first = client.get("/api/notifications", headers=two_users["ada"], params={"limit": 2}).json()
    second = client.get(
        "/api/notifications",
        headers=two_users["ada"],
        params={"limit": 2, "cursor": first["next_cursor"]},
    ).json()
    items = first["items"] + second["items"]
    assert [(i["job"]["id"], i["status"]) for i in items] == [
        (3, "recorded"),
        (2, "retry"),
        (1, "sent"),
    ]
    assert second["next_cursor"] is None
    assert items[0]["job"]["title"] == "Backend Engineer 3"


def test_candidates_are_recent_unscored_postings(client, engine, two_users):
    scored_match(engine, two_users["ada_id"], 1, 90)
    items = client.get("/api/jobs/candidates", headers=two_users["ada"]).json()["items"]
    ids = [i["job"]["id"] for i in items]
    assert ids and 1 not in ids
    assert all(isinstance(i["relevance"], float) for i in items)
    client.patch("/api/me", headers=two_users["bob"], json={"prompt": ""})
    assert client.get("/api/jobs/candidates", headers=two_users["bob"]).json() == {"items": []}


def test_posting_text_comes_back_as_data_never_as_markup(client, engine, two_users, now):
    hostile = '<img src=x onerror="alert(1)">Engineer'
    with engine.begin() as conn:
        conn.execute(jobs.update().where(jobs.c.id == 2).values(title=hostile))
    scored_match(engine, two_users["ada_id"], 2, 90, explanation="<script>alert(2)</script>")
    answer = client.get("/api/jobs", headers=two_users["ada"])
    assert answer.headers["content-type"] == "application/json"
    item = answer.json()["items"][0]
    assert item["job"]["title"] == hostile
    assert item["match"]["explanation"] == "<script>alert(2)</script>"


@pytest.fixture
def scheduler():
    with TinyGraphQL(dagster(ADDED, LAUNCHED)) as fake:
        yield fake


@pytest.fixture
def scoring_client(engine, tmp_path, scheduler):
    with api_client(engine, tmp_path, JOBPING_DAGSTER_GRAPHQL_URL=scheduler.url) as client:
        yield client


def _candidate(engine, user_id: int, job_id: int):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(match_candidates).where(
                match_candidates.c.user_id == user_id, match_candidates.c.job_id == job_id
            )
        ).first()


def test_scoring_on_demand_launches_the_pairs_run_through_dagster(
    scoring_client, engine, scheduler, now
):
    store_postings(engine, [posting(1), posting(2)], now)
    headers = sign_up(scoring_client, "ada@example.com", prompt="python backend")
    user_id = scoring_client.get("/api/me", headers=headers).json()["id"]
    answer = scoring_client.post("/api/jobs/2/score", headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"pair": f"u{user_id}-j2", "run_id": "abc-123", "status": "queued"}
    assert scheduler.operations() == ["AddPair", "LaunchPairRun"]
    tags = {
        tag["key"]: tag["value"]
        for tag in scheduler.requests[1]["variables"]["executionParams"]["executionMetadata"][
            "tags"
        ]
    }
    assert tags["dagster/partition"] == f"u{user_id}-j2"
    candidate = _candidate(engine, user_id, 2)
    assert candidate.decision == "pulled" and candidate.run_key == tags["dagster/run_key"]
    assert candidate.partition_added_at is not None, "the fan-out must not launch it again"


def test_scoring_on_demand_refusals(scoring_client, engine, scheduler, now):
    store_postings(engine, [posting(1), posting(2)], now)
    headers = sign_up(scoring_client, "ada@example.com")
    assert scoring_client.post("/api/jobs/1/score", headers=headers).status_code == 409
    scoring_client.patch("/api/me", headers=headers, json={"prompt": "python backend"})
    user_id = scoring_client.get("/api/me", headers=headers).json()["id"]
    assert scoring_client.post("/api/jobs/999/score", headers=headers).status_code == 404
    scored_match(engine, user_id, 1, 80)
    again = scoring_client.post("/api/jobs/1/score", headers=headers)
    assert again.status_code == 409 and "already scored" in again.json()["detail"]
    # A changed wish makes the old score stale: it may be scored again.
    scoring_client.patch("/api/me", headers=headers, json={"prompt": "go backend"})
    assert scoring_client.post("/api/jobs/1/score", headers=headers).status_code == 202
    assert _candidate(engine, user_id, 1).decision == "rerun"
    assert scheduler.operations().count("LaunchPairRun") == 1


def test_an_unreachable_scheduler_is_503_and_records_nothing(engine, tmp_path, now):
    store_postings(engine, [posting(1)], now)
    closed = f"http://127.0.0.1:{free_port()}/graphql"
    with api_client(engine, tmp_path, JOBPING_DAGSTER_GRAPHQL_URL=closed) as client:
        headers = sign_up(client, "ada@example.com", prompt="python backend")
        user_id = client.get("/api/me", headers=headers).json()["id"]
        answer = client.post("/api/jobs/1/score", headers=headers)
    assert answer.status_code == 503
    assert answer.json() == {"detail": "the scheduler is unreachable; try again later"}
    assert _candidate(engine, user_id, 1) is None


def test_on_demand_scores_are_limited_per_user(scoring_client, engine, now):
    store_postings(engine, [posting(1)], now)
    headers = sign_up(scoring_client, "ada@example.com", prompt="python backend")
    statuses = [
        scoring_client.post("/api/jobs/1/score", headers=headers).status_code for _ in range(31)
    ]
    assert statuses == [202] * 30 + [429]


def test_notices_and_digests_are_listed_with_what_they_are(client, engine, two_users, now):
    from jobping_dagster.notify.outbox import enqueue_notice

    scored_match(engine, two_users["ada_id"], 1, 90, notified_status="sent")
    with engine.begin() as conn:
        enqueue_notice(conn, two_users["ada_id"], "budget:2026-12", "Budget", "used up", now)
    items = client.get("/api/notifications", headers=two_users["ada"]).json()["items"]
    notice, match = items
    assert (notice["kind"], notice["job"], notice["message"]) == ("notice", None, "Budget: used up")
    assert (match["kind"], match["job"]["id"], match["message"]) == ("instant", 1, None)
    assert client.get("/api/notifications", headers=two_users["bob"]).json()["items"] == []
