"""The seeker's web page in a real browser (headless Chromium driven by Playwright) against
the real app served by uvicorn on an SQLite app database: sign up, write a wish, see what
JobPing understood, run the flow once (`jobping run-once`), read the matches it produced,
give feedback, read the notifications; untrusted text stays text; errors show where they
belong; nothing is wider than a phone.

Screenshots go to $JOBPING_SCREENSHOTS when set (else the test's temporary folder)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from jobping_dagster.api.app import create_app
from jobping_dagster.db.engine import get_engine
from jobping_dagster.db.schema import jobs, match_feedback, users
from jobping_dagster.notify.outbox import enqueue_notice
from jobping_dagster.settings import Settings
from jobping_dagster_tests.builders import posting, research, scored_match, store_postings
from jobping_dagster_tests.fakes.dagster_graphql import ADDED, LAUNCHED, TinyGraphQL, dagster

pytestmark = pytest.mark.browser

JOBPING = str(Path(sys.executable).parent / "jobping")
REPO = Path(__file__).resolve().parents[1]
STEP_MS = 30_000
expect.set_options(timeout=STEP_MS)
PASSWORD = "a long enough passphrase"
PHONE = {"width": 375, "height": 740}
WISH = "Senior backend engineer, Python and PostgreSQL, remote. No crypto, no gambling."
HOSTILE_TITLE = (
    '<img src=x onerror="window.__pwned=1;alert(1)"> Staff <script>window.__pwned=2</script>'
)
HOSTILE_TEXT = '<script>window.__pwned=3</script><b onmouseover="window.__pwned=4">bold</b>'


# ---- the app, served --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Scheduler:
    """A fake Dagster webserver on 127.0.0.1 (GraphQL): down (503) until `up` is set, then
    accepting every launch."""

    def __init__(self):
        self.up = False
        self.fake = TinyGraphQL(self._answer)

    def _answer(self, body: dict):
        if not self.up:
            return 503, b"Service Unavailable"
        return dagster(ADDED, LAUNCHED)(body)

    def launches(self) -> int:
        return self.fake.operations().count("LaunchPairRun")


class Served:
    def __init__(self, home: Path, scheduler_url: str):
        self.home = home
        self.settings = Settings.from_env(
            {
                "JOBPING_HOME": str(home),
                "JOBPING_LLM": "local",
                "JOBPING_DAGSTER_GRAPHQL_URL": scheduler_url,
            }
        )
        self.engine = get_engine(self.settings.database_url)  # migrated on first use
        self.app = create_app(self.settings, self.engine)
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn stopped at start"
            assert time.monotonic() < deadline, "uvicorn did not start in 30 s"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.engine.dispose()
        get_engine.cache_clear()


@pytest.fixture
def home(tmp_path) -> Path:
    path = tmp_path / "jobping"
    path.mkdir()
    return path


@pytest.fixture
def scheduler():
    fake = Scheduler()
    with fake.fake:
        yield fake


@pytest.fixture
def served(home, scheduler):
    with Served(home, scheduler.fake.url) as running:
        yield running


@pytest.fixture(scope="module")
def chromium(chromium_path):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            # Root in a container (CI) has no user namespace sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


class Watched:
    """A page whose dialogs and script errors are recorded (any of them fails the test)."""

    def __init__(self, page: Page):
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.set_default_timeout(STEP_MS)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message) -> None:
        # A refused request (401 before signing in, the 422s on purpose) is logged by
        # Chromium as "Failed to load resource"; anything else (a CSP violation, a thrown
        # error) is a fault of the page.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    def assert_clean(self) -> None:
        assert self.dialogs == [], self.dialogs
        assert self.errors == [], self.errors
        assert self.page.evaluate("window.__pwned === undefined")


@pytest.fixture
def web(chromium, served):
    context = chromium.new_context(base_url=served.url, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(STEP_MS)
    watched = Watched(context.new_page())
    yield watched
    context.close()


@pytest.fixture
def screens(tmp_path) -> Path:
    folder = Path(os.environ.get("JOBPING_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ---- page steps --------------------------------------------------------------------------


def _email() -> str:
    return f"seeker-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page: Page, email: str) -> None:
    page.click("#tab-signup")
    page.fill("#signup-email", email)
    page.fill("#signup-password", PASSWORD)
    page.click("#signup-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#who-email")).to_have_text(email)


def save_wish(page: Page, prompt: str, min_score: str) -> None:
    page.fill("#wish-prompt", prompt)
    page.fill("#wish-min-score", min_score)
    page.click("#wish-form button[type=submit]")


def open_view(page: Page, name: str) -> None:
    page.click(f"#nav-{name}")
    expect(page.locator(f"#view-{name}")).to_be_visible()


def page_width(page: Page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def run_flow_once(home: Path) -> str:
    """`jobping run-once` as `make run` runs it: the sample postings of today, the local
    scorer, the embedded Dagster instance under DAGSTER_HOME."""
    dagster_home = home / "dagster"
    dagster_home.mkdir(exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {
        **os.environ,
        "JOBPING_HOME": str(home),
        "DAGSTER_HOME": str(dagster_home),
        "JOBPING_JOB_SOURCE": "sample",
        "JOBPING_LLM": "local",
        "JOBPING_SCRAPE_START_DATE": datetime.now(UTC).date().isoformat(),
    }
    for name in ("JOBPING_DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(name, None)
    done = subprocess.run(
        [JOBPING, "run-once"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=600,
        check=False,
    )
    output = done.stdout.decode(errors="replace")
    assert done.returncode == 0, output[-4000:]
    return output


# ---- tests -----------------------------------------------------------------------------


def test_a_seeker_signs_up_writes_a_wish_and_reads_what_the_flow_found(web, served, home, screens):
    page = web.page
    page.goto("/")
    expect(page.locator("#login-form")).to_be_visible()
    page.screenshot(path=screens / "01-signed-out.png", full_page=True)

    email = _email()
    sign_up(page, email)
    # A new user starts at the wish, with nothing understood yet.
    expect(page.locator("#view-wish")).to_be_visible()
    expect(page.locator("#understood-body")).to_contain_text("Write your wish")
    page.screenshot(path=screens / "02-new-user-first-screen.png", full_page=True)

    save_wish(page, WISH, "0")  # every scored match is notified
    expect(page.locator("#wish-saved")).to_have_text("Saved.")
    understood = page.locator("#understood-body")
    expect(understood.locator("dl.understood-facts")).to_be_visible()
    expect(understood).to_contain_text("python")
    expect(understood).to_contain_text("Read by")
    page.screenshot(path=screens / "03-wish-editor.png", full_page=True)

    run_flow_once(home)

    page.reload()
    open_view(page, "matches")
    cards = page.locator("#matches-list > li.match")
    expect(cards.first).to_be_visible()
    first = cards.first
    assert re.fullmatch(r"\d{1,3}", first.locator(".score").inner_text().strip())
    expect(first.locator(".explanation")).not_to_be_empty()
    expect(first.locator(".pros li, .cons li").first).to_be_visible()
    link = first.locator("a.posting-link")
    assert link.get_attribute("href").startswith(("http://", "https://"))
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    page.screenshot(path=screens / "04-matches.png", full_page=False)

    # Feedback: saved, shown, stored.
    match_id = int(first.get_attribute("data-match-id"))
    first.locator(".reason").fill("right stack, right place")
    first.locator("button.verdict.good").click()
    expect(first.locator(".feedback-saved")).to_have_text(
        "Your verdict: good (right stack, right place)"
    )
    expect(first.locator("button.verdict.good")).to_have_attribute("aria-pressed", "true")
    with served.engine.connect() as conn:
        stored = conn.execute(
            sa.select(match_feedback.c.verdict, match_feedback.c.reason).where(
                match_feedback.c.match_id == match_id
            )
        ).one()
    assert tuple(stored) == ("good", "right stack, right place")
    listed = page.evaluate(
        "fetch('/api/jobs?limit=100', {credentials: 'same-origin'}).then((r) => r.json())"
    )
    feedback = {item["match"]["id"]: item["match"]["feedback"] for item in listed["items"]}
    assert feedback[match_id] == {"verdict": "good", "reason": "right stack, right place"}
    # Still shown after a reload.
    page.reload()
    saved = page.locator(f'li.match[data-match-id="{match_id}"]')
    expect(saved.locator("button.verdict.good")).to_have_attribute("aria-pressed", "true")

    # The filters: a text no posting has lists nothing; cleared, the matches are back.
    page.fill("#filter-q", "no posting says zqxjv")
    page.click("#filter-form button[type=submit]")
    expect(page.locator("#matches-empty")).to_have_text("No match with these filters.")
    page.fill("#filter-q", "")
    page.fill("#filter-min-score", "1")
    page.click("#filter-form button[type=submit]")
    expect(cards.first).to_be_visible()

    open_view(page, "notifications")
    rows = page.locator("#notifications-list > li.notification")
    expect(rows.first).to_be_visible()
    # No webhook: every notification is recorded for the page only.
    expect(rows.first).to_have_attribute("data-status", "recorded")
    expect(rows.first.locator(".status")).to_have_text("listed here (no channel)")
    page.screenshot(path=screens / "05-notifications.png", full_page=False)

    open_view(page, "candidates")
    expect(page.locator("#candidates-list > li, #candidates-empty:visible").first).to_be_visible()

    # A phone: nothing wider than the screen, in any view.
    page.set_viewport_size(PHONE)
    for view in ("matches", "wish", "notifications", "candidates", "account"):
        open_view(page, view)
        page.wait_for_load_state("networkidle")
        assert page_width(page) <= PHONE["width"], view
    open_view(page, "matches")
    expect(cards.first).to_be_visible()
    page.screenshot(path=screens / "06-phone-matches.png", full_page=False)
    open_view(page, "wish")
    page.screenshot(path=screens / "07-phone-wish.png", full_page=True)

    # Log out, back in, then delete the account.
    page.click("#logout")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#banner")).to_have_text("You are logged out.")
    page.fill("#login-email", email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#view-matches")).to_be_visible()
    open_view(page, "account")
    page.click("#delete-account")
    page.click("#delete-yes")
    expect(page.locator("#signup-form")).to_be_visible()
    with served.engine.connect() as conn:
        assert conn.execute(sa.select(users.c.id).where(users.c.email == email)).first() is None
    web.assert_clean()


def _hostile_match(engine, email: str) -> int:
    """A posting whose title, company research and scorer's words are markup, and whose
    URL is a javascript: link, scored for the user `email`."""
    now = datetime.now(UTC).replace(tzinfo=None)
    store_postings(engine, [posting(9001, company="Evil Corp")], now)
    research(engine, "evil-corp", now)
    with engine.begin() as conn:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.email == email)).scalar_one()
        job_id = conn.execute(sa.select(jobs.c.id).where(jobs.c.source_id == "in-09001")).scalar()
        conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id)
            .values(title=HOSTILE_TITLE, url="javascript:window.__pwned=5", location=HOSTILE_TEXT)
        )
    return scored_match(
        engine,
        user_id,
        job_id,
        91,
        explanation=HOSTILE_TEXT,
        pros=['<img src=x onerror="window.__pwned=6">'],
        cons=["<svg onload=window.__pwned=7>"],
    )


def test_untrusted_text_is_shown_as_text_and_never_run(web, served, screens):
    page = web.page
    page.goto("/")
    email = _email()
    sign_up(page, email)
    save_wish(page, WISH, "50")
    expect(page.locator("#wish-saved")).to_have_text("Saved.")
    match_id = _hostile_match(served.engine, email)

    open_view(page, "matches")
    card = page.locator(f'li.match[data-match-id="{match_id}"]')
    expect(card).to_be_visible()
    # The literal text, shown as text.
    expect(card.locator("h3")).to_have_text(HOSTILE_TITLE)
    expect(card.locator(".explanation")).to_have_text(HOSTILE_TEXT)
    expect(card.locator(".pros li")).to_have_text('<img src=x onerror="window.__pwned=6">')
    expect(card.locator(".cons li")).to_have_text("<svg onload=window.__pwned=7>")
    assert HOSTILE_TEXT in card.locator(".meta").inner_text()
    # No element came out of it, and the javascript: URL is no link.
    assert card.locator("img, script, svg, b").count() == 0
    assert card.locator("a.posting-link").count() == 0
    assert page.locator("#matches-list script, #matches-list img").count() == 0
    card.locator("h3").hover()
    card.locator("h3").click()
    page.wait_for_timeout(300)  # an image's onerror would have fired by now
    card.screenshot(path=screens / "09-untrusted-text.png")
    web.assert_clean()


def test_score_it_shows_each_answer_of_the_scheduler(web, served, scheduler):
    page = web.page
    page.goto("/")
    email = _email()
    sign_up(page, email)
    save_wish(page, WISH, "70")
    expect(page.locator("#wish-saved")).to_have_text("Saved.")
    now = datetime.now(UTC).replace(tzinfo=None)
    store_postings(
        served.engine,
        [posting(n, company=f"Firm {n}", title="Senior Python Backend Engineer") for n in (1, 2)],
        now,
    )
    open_view(page, "candidates")
    cards = page.locator("#candidates-list > li.candidate")
    expect(cards).to_have_count(2)
    first, second = cards.nth(0), cards.nth(1)

    first.locator("button.score-it").click()
    expect(first.locator(".outcome")).to_have_text("the scheduler is unreachable; try again later")
    expect(first.locator("button.score-it")).to_be_enabled()

    scheduler.up = True
    first.locator("button.score-it").click()
    expect(first.locator(".outcome")).to_contain_text("Queued (run abc-123")
    expect(first.locator("button.score-it")).to_be_disabled()
    assert scheduler.launches() == 1

    # Scored meanwhile (by the hourly flow): 409, said as the API says it.
    job_id = int(second.get_attribute("data-job-id"))
    with served.engine.connect() as conn:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.email == email)).scalar_one()
    scored_match(served.engine, user_id, job_id, 75)
    second.locator("button.score-it").click()
    expect(second.locator(".outcome")).to_have_text("already scored against your current wish")
    assert scheduler.launches() == 1
    web.assert_clean()


def test_more_pages_of_matches_and_notifications(web, served):
    page = web.page
    page.goto("/")
    email = _email()
    sign_up(page, email)
    now = datetime.now(UTC).replace(tzinfo=None)
    store_postings(served.engine, [posting(n, company=f"Firm {n}") for n in range(1, 24)], now)
    statuses = ["sent", "recorded", "pending", "retry", "failed", "dead", "unknown", "sending"]
    with served.engine.connect() as conn:
        user_id = conn.execute(sa.select(users.c.id).where(users.c.email == email)).scalar_one()
        job_ids = conn.execute(sa.select(jobs.c.id).order_by(jobs.c.id)).scalars().all()
    for n, job_id in enumerate(job_ids):
        scored_match(served.engine, user_id, job_id, 50 + n, statuses[n % len(statuses)])
    with served.engine.begin() as conn:
        enqueue_notice(conn, user_id, "budget:test", "Budget", "<b>used up</b>", now)

    open_view(page, "matches")
    cards = page.locator("#matches-list > li.match")
    expect(cards).to_have_count(20)
    scores = [int(text) for text in cards.locator(".score").all_inner_texts()]
    assert scores == sorted(scores, reverse=True) and scores[0] == 50 + len(job_ids) - 1
    page.click("#matches-more")
    expect(cards).to_have_count(len(job_ids))
    expect(page.locator("#matches-more")).to_be_hidden()
    page.fill("#filter-min-score", "70")
    page.click("#filter-form button[type=submit]")
    expect(cards).to_have_count(len(job_ids) - 20)

    open_view(page, "notifications")
    rows = page.locator("#notifications-list > li.notification")
    expect(rows).to_have_count(20)
    # The notice, newest: no posting, its own words (as text).
    expect(rows.first.locator("h3")).to_have_text("Notice: Budget: <b>used up</b>")
    page.click("#notifications-more")
    expect(rows).to_have_count(len(job_ids) + 1)
    expect(page.locator("#notifications-more")).to_be_hidden()
    shown = set(rows.evaluate_all("(rows) => rows.map((row) => row.dataset.status)"))
    assert shown == set(statuses)
    expect(page.locator('li.notification[data-status="dead"] .status').first).to_have_text(
        "not sent: the webhook is gone"
    )
    web.assert_clean()


def test_errors_show_where_they_belong_and_fit_a_phone(web, served, screens):
    page = web.page
    page.set_viewport_size(PHONE)
    page.goto("/")
    expect(page.locator("#login-form")).to_be_visible()
    assert page_width(page) <= PHONE["width"]

    page.fill("#login-email", "nobody-here@example.com")
    page.fill("#login-password", "not the password at all")
    page.click("#login-form button[type=submit]")
    expect(page.locator('#login-form [data-error-for="_form"]')).to_have_text(
        "wrong email or password"
    )
    expect(page.locator("#login-form")).to_be_visible()

    sign_up(page, _email())
    save_wish(page, WISH, "150")
    error = page.locator('#wish-form [data-error-for="min_score"]')
    expect(error).not_to_be_empty()
    assert "100" in error.inner_text()
    expect(page.locator("#wish-min-score")).to_have_attribute("aria-invalid", "true")
    expect(page.locator('#wish-form [data-error-for="prompt"]')).to_be_empty()
    expect(page.locator("#wish-saved")).to_be_empty()
    assert page_width(page) <= PHONE["width"]
    page.screenshot(path=screens / "08-phone-min-score-error.png", full_page=True)

    # The webhook: kept masked (its token never shown), removable; a bad one is refused
    # under its field.
    token = "example-token-for-tests"
    page.fill("#wish-min-score", "70")
    page.fill("#wish-webhook", f"https://discord.com/api/webhooks/123456789012345678/{token}")
    page.click("#wish-form button[type=submit]")
    expect(page.locator("#wish-saved")).to_have_text("Saved.")
    expect(page.locator("#current-webhook code")).to_contain_text("discord.com/api/webhooks/1234")
    expect(page.locator("#wish-webhook")).to_have_value("")
    assert token not in page.content()
    page.fill("#wish-webhook", "https://evil.example/api/webhooks/1/abc")
    page.click("#wish-form button[type=submit]")
    expect(page.locator('#wish-form [data-error-for="discord_webhook"]')).not_to_be_empty()
    page.fill("#wish-webhook", "")
    page.check("#wish-remove-webhook")
    page.click("#wish-form button[type=submit]")
    expect(page.locator("#wish-saved")).to_have_text("Saved.")
    expect(page.locator("#current-webhook")).to_contain_text("None")

    # A 422 from a filter shows under the filter's own field.
    open_view(page, "matches")
    page.fill("#filter-min-score", "150")
    page.click("#filter-form button[type=submit]")
    expect(page.locator('#filter-form [data-error-for="min_score"]')).not_to_be_empty()

    # The session cookie gone (expired, logged out elsewhere): the next request answers 401
    # and the page shows the login form.
    page.context.clear_cookies()
    page.click("#nav-notifications")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#banner")).to_have_text("Your session ended: log in again.")
    web.assert_clean()


def test_the_page_and_its_files_are_served_with_the_strict_policy(served):
    import httpx

    with httpx.Client(base_url=served.url) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in index.headers["content-security-policy"]
        for name in re.findall(r'(?:src|href)="/static/([^"]+)"', index.text):
            answer = client.get(f"/static/{name}")
            assert answer.status_code == 200, name
        assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
        assert client.get("/static/app.css").headers["content-type"].startswith("text/css")
        for bad in ("/static/../web.py", "/static/%2e%2e%2fweb.py", "/static/nope.js"):
            assert client.get(bad).status_code == 404, bad
        # Not part of the API's schema.
        paths = client.get("/openapi.json").json()["paths"]
        assert "/" not in paths and not any(p.startswith("/static") for p in paths)
