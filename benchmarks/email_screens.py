"""Renders one match email's HTML and one digest email's HTML (sample data, with hostile
text in it) in headless Chromium and saves screenshots, to look at how they read.

    .venv/bin/python benchmarks/email_screens.py [OUT_DIR]   # default /work/screens

Writes i11-email.png and i11-digest.png (and the .html beside them). Needs Chromium
(Debian's /usr/bin/chromium, or JOBPING_CHROMIUM)."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

from playwright.sync_api import sync_playwright

from jobping_dagster.notify.channels import UNSUBSCRIBE_URL, build_digest, build_email, digest_item
from jobping_dagster.notify.message import NotificationView

LINK = "https://jobping.example.com/unsubscribe/EXAMPLE-TOKEN"

VIEWS = [
    NotificationView(
        job_title="Senior Data Engineer",
        company="Bluefjord Analytics",
        location="Copenhagen, Denmark",
        url="https://jobs.example.com/bluefjord/senior-data-engineer",
        score=91,
        explanation="Python and Airflow at the core, a remote-first EU team and a salary above "
        "your floor. <script>alert('x')</script> stays text.",
        pros=["Python, dbt and Airflow", "Remote within the EU", "Pay above 90k EUR"],
        cons=["On-call one week in six"],
        recommendation="apply",
        salary_min=95000,
        salary_max=115000,
        salary_currency="EUR",
        is_remote=True,
        model="gpt-4o-mini",
    ),
    NotificationView(
        job_title="Backend Engineer (Go)",
        company="Northwind Freight",
        location="Berlin, Germany",
        url="https://jobs.example.com/northwind/backend-go",
        score=78,
        explanation="Go services on Kubernetes; hybrid two days a week in Berlin.",
        recommendation="consider",
        is_remote=False,
    ),
    NotificationView(
        job_title="Platform Engineer @everyone",
        company="Acme <b>Cloud</b>",
        location=None,
        url="javascript:alert(1)",
        score=72,
        explanation="Terraform and AWS; the stack fits, the seniority is a step down.",
        recommendation="maybe",
        is_remote=True,
    ),
]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    email = build_email(VIEWS[0])["html"]
    digest = build_digest("email", date(2026, 12, 4), [digest_item(v) for v in VIEWS])["html"]
    pages = {"i11-email": email, "i11-digest": digest}
    chromium = os.environ.get("JOBPING_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 720, "height": 400})
        for name, html in pages.items():
            html = html.replace(UNSUBSCRIBE_URL, LINK)
            (out / f"{name}.html").write_text(html)
            page.set_content(html)
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
            print(out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/screens"))
