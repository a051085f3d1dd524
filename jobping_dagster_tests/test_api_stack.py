"""The seeker's side on the production processes: `jobping prod-local` starts the API beside
Dagster's processes (`jobping serve api`). A seeker signs up over HTTP, the flow scores and
notifies their matches, they read them and give feedback, and a posting they pull is scored
by a run the API launched through the real webserver's GraphQL API."""

from __future__ import annotations

import time

import httpx
import pytest

from jobping_dagster_tests.api_support import PASSWORD
from jobping_dagster_tests.stack import PHASE_TIMEOUT_SECONDS, running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture
def stack(pg_admin_engine, tmp_path, monkeypatch):
    with running_stack(pg_admin_engine, tmp_path, monkeypatch) as under_test:
        yield under_test


def _wait_for(what: str, check, stack, seconds: float = PHASE_TIMEOUT_SECONDS):
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not after {seconds:.0f} s\n{stack.snapshot()}")
        time.sleep(1)


def test_a_seeker_signs_up_reads_matches_and_pulls_one_scored_through_dagster(stack):
    stack.start()
    api = httpx.Client(base_url=f"http://127.0.0.1:{stack.api_port}", timeout=30)
    _wait_for("the API answers", lambda: _healthy(api), stack, seconds=120)
    webhook_id = "4100"
    answer = api.post(
        "/api/register",
        json={
            "email": "seeker@example.com",
            "password": PASSWORD,
            "prompt": "Backend services in Go or Python",
            "discord_webhook": stack.discord.webhook_url(webhook_id),
        },
    )
    assert answer.status_code == 201, answer.text
    headers = {"Authorization": f"Bearer {answer.json()['token']}"}
    stack.webhooks[webhook_id] = answer.json()["user"]["id"]

    stack.launch_scrape()
    stack.wait_until_settled("first scrape")
    stack.assert_settled_state()

    items = api.get("/api/jobs", headers=headers, params={"limit": 100}).json()["items"]
    assert items, "the flow scored postings for the seeker"
    scores = [item["match"]["score"] for item in items]
    assert scores == sorted(scores, reverse=True)
    notified = api.get("/api/notifications", headers=headers, params={"limit": 100}).json()
    high = [item for item in items if item["match"]["score"] >= 70]
    assert len(notified["items"]) == len(high)
    assert {n["status"] for n in notified["items"]} <= {"sent"}
    feedback = api.post(
        f"/api/matches/{items[0]['match']['id']}/feedback",
        headers=headers,
        json={"verdict": "good", "reason": "exactly my stack"},
    )
    assert feedback.status_code == 200

    candidates = api.get("/api/jobs/candidates", headers=headers).json()["items"]
    assert candidates, "the pre-filter left postings to pull"
    job_id = candidates[0]["job"]["id"]
    launched = api.post(f"/api/jobs/{job_id}/score", headers=headers)
    assert launched.status_code == 202, launched.text
    run = stack.instance.get_run_by_id(launched.json()["run_id"])
    assert run.tags["dagster/partition"] == launched.json()["pair"]

    def pulled_match():
        answer = api.get(f"/api/jobs/{job_id}", headers=headers).json()
        return answer["match"]

    match = _wait_for("the pulled posting scored", pulled_match, stack)
    assert 0 <= match["score"] <= 100
    stack.wait_until_settled("after the pull")
    stack.assert_settled_state()


def _healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False
