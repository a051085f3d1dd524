import re
from dataclasses import replace

import pytest

from jobping_dagster.notify.message import (
    NotificationView,
    build_discord_payload,
    format_notification_text,
    format_salary,
)

VIEW = NotificationView(
    job_title="Senior Data Engineer",
    company="Acme",
    location="Berlin, Germany",
    url="https://jobs.example.com/123",
    score=85,
    explanation="Strong fit: Python, Dagster and remote-friendly.",
    pros=["Python", "Remote"],
    cons=["On-call"],
    recommendation="apply",
    salary_min=120000.0,
    salary_max=150000.0,
    salary_currency="USD",
    is_remote=True,
    company_summary="Acme makes anvils.",
    model="gpt-4o-mini",
)


def embed_length(embed: dict) -> int:
    """Characters Discord counts towards an embed's 6000 limit."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    total += len(embed.get("footer", {}).get("text", ""))
    total += len(embed.get("author", {}).get("name", ""))
    return total


def fields(payload: dict) -> dict[str, str]:
    return {f["name"]: f["value"] for f in payload["embeds"][0]["fields"]}


def all_text(payload: dict) -> str:
    embed = payload["embeds"][0]
    parts = [payload["content"], embed["title"], embed.get("description", "")]
    parts += [f["name"] + f["value"] for f in embed["fields"]]
    return "\n".join(parts + [embed["footer"]["text"]])


def test_payload_shape():
    payload = build_discord_payload(VIEW)
    embed = payload["embeds"][0]

    assert len(payload["embeds"]) == 1
    assert payload["allowed_mentions"] == {"parse": []}
    assert embed["title"] == "Senior Data Engineer — Acme"
    assert embed["url"] == "https://jobs.example.com/123"
    assert embed["description"] == VIEW.explanation
    assert embed["footer"]["text"] == "JobPing · gpt-4o-mini"
    assert isinstance(embed["color"], int)
    assert fields(payload) == {
        "Score": "85/100",
        "Recommendation": "apply",
        "Location": "Berlin, Germany · remote",
        "Salary": "USD 120,000–150,000 / year",
        "Pros": "• Python\n• Remote",
        "Cons": "• On-call",
        "Company": "Acme makes anvils.",
    }
    assert "85/100" in payload["content"] and len(payload["content"]) <= 2000


# Escaping doubles markdown-heavy text: the limits must hold after it.
@pytest.mark.parametrize("unit", ["word ", "[*](_) "])
def test_huge_inputs_stay_within_discord_limits(unit):
    huge = unit * 50_000
    view = replace(
        VIEW,
        job_title=huge,
        company=huge,
        location=huge,
        explanation=huge,
        pros=[huge] * 500,
        cons=[huge] * 500,
        recommendation=huge,
        salary_currency=huge,
        company_summary=huge,
        model=huge,
        url="https://example.com/" + "a" * 10_000,
    )
    payload = build_discord_payload(view)
    embed = payload["embeds"][0]

    assert len(payload["content"]) <= 2000
    assert len(embed["title"]) <= 256
    assert len(embed["description"]) <= 1000
    assert len(embed["footer"]["text"]) <= 2048
    assert len(embed["fields"]) <= 25
    for field in embed["fields"]:
        assert 0 < len(field["name"]) <= 256
        assert 0 < len(field["value"]) <= 1024
    assert embed_length(embed) <= 6000
    assert "url" not in embed  # too long to be a sane link
    assert len(format_notification_text(view)) <= 500


@pytest.mark.parametrize("char", ["x", "*"])
def test_title_keeps_the_company_when_the_job_title_is_huge(char):
    payload = build_discord_payload(replace(VIEW, job_title=char * 5000))
    assert payload["embeds"][0]["title"].endswith("— Acme")


@pytest.mark.parametrize(
    "text", ["@everyone apply now", "hey @here", "@EVERYONE", "ping <@123456789>", "<@&42> <#7>"]
)
def test_mentions_are_neutralised_everywhere(text):
    view = replace(
        VIEW,
        job_title=text,
        company=text,
        explanation=text,
        pros=[text],
        cons=[text],
        company_summary=text,
        location=text,
        recommendation=text,
    )
    payload = build_discord_payload(view)
    rendered = all_text(payload) + format_notification_text(view)

    assert payload["allowed_mentions"] == {"parse": []}
    for mention in ("@everyone", "@here", "@EVERYONE", "<@123456789>", "<@&42>", "<#7>"):
        assert mention not in rendered


# What Discord's markdown acts on; a backslash before any punctuation shows it as written.
MARKDOWN_CHARACTERS = set("\\*_~`|[]<>#")
HOSTILE = "@everyone [click](http://evil.example) <script>alert(1)</script>"


def unescaped_markdown(text: str) -> list[str]:
    """The markdown characters in `text` that Discord would act on (not backslash-escaped)."""
    found, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and not text[i + 1].isalnum():
            i += 2
            continue
        if text[i] in MARKDOWN_CHARACTERS:
            found.append(text[i])
        i += 1
    return found


def as_shown(text: str) -> str:
    """What a reader sees once Discord has applied the escapes."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text).replace("\u200b", "")


def markdown_rendered(payload: dict) -> list[str]:
    """Every text Discord renders as markdown: the content, the embed's title, description
    and field values (the footer is plain text)."""
    embed = payload["embeds"][0]
    texts = [payload["content"], embed["title"], embed.get("description", "")]
    return texts + [field["value"] for field in embed["fields"]]


def test_untrusted_posting_text_cannot_ping_link_or_format():
    formatting = "**bold** __under__ `code` ||spoiler|| ~~gone~~ # big > quote \\"
    view = replace(
        VIEW,
        job_title=HOSTILE,
        company="**Acme** ||x|| ~~y~~",
        location=HOSTILE,
        explanation=f"{HOSTILE}\n# Heading\n> quote\n- item\n1. first\n-# small\n{formatting}",
        pros=[HOSTILE],
        cons=[formatting],
        recommendation=HOSTILE,
        company_summary=HOSTILE,
        salary_currency="[x](y)",
    )
    payload = build_discord_payload(view)

    assert payload["allowed_mentions"] == {"parse": []}
    for text in markdown_rendered(payload):
        assert unescaped_markdown(text) == [], text
        assert "@everyone" not in text
        # No bare URL for Discord to turn into a link either.
        assert "http://" not in text
        for line in text.split("\n"):
            assert not re.match(r"\s*([-+*]|\d+\.)\s", line), line
    # Still readable: once Discord applies the escapes, the text reads as it was written.
    embed = payload["embeds"][0]
    assert as_shown(embed["title"]) == f"{HOSTILE} — **Acme** ||x|| ~~y~~"
    assert as_shown(fields(payload)["Recommendation"]) == HOSTILE
    assert as_shown(embed["description"]).startswith(f"{HOSTILE}\n# Heading\n> quote\n- item")
    # The one-line text for the table is plain: not escaped.
    assert "\\[click" not in format_notification_text(view)


def test_masked_links_and_control_characters_are_defused():
    view = replace(
        VIEW, explanation="[Apply here](https://evil.example)\x00\x1b[31m\u202eevil", pros=["a\nb"]
    )
    payload = build_discord_payload(view)
    description = payload["embeds"][0]["description"]

    assert "](" not in description
    assert "\x00" not in description and "\x1b" not in description and "\u202e" not in description
    assert fields(payload)["Pros"] == "• a b"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.com/job",
        "//example.com/job",
        "example.com/job",
        "https://exa mple.com/job",
        "https://",
        "",
        None,
    ],
)
def test_non_http_urls_are_dropped(url):
    payload = build_discord_payload(replace(VIEW, url=url))
    assert "url" not in payload["embeds"][0]


@pytest.mark.parametrize(
    "low, high, currency, expected",
    [
        (120000, 150000, "USD", "USD 120,000–150,000 / year"),
        (150000, 120000, "USD", "USD 120,000–150,000 / year"),
        (90000, 90000, "EUR", "EUR 90,000 / year"),
        (60000, None, "EUR", "from EUR 60,000 / year"),
        (None, 80000.4, "GBP", "up to GBP 80,000 / year"),
        (50000, 70000, None, "50,000–70,000 / year"),
        (None, None, "USD", None),
        (0, -5, "USD", None),
        (float("nan"), None, "USD", None),
    ],
)
def test_salary_formatting(low, high, currency, expected):
    assert format_salary(low, high, currency) == expected


def test_salary_field_is_left_out_when_unknown():
    payload = build_discord_payload(replace(VIEW, salary_min=None, salary_max=None))
    assert "Salary" not in fields(payload)


def test_empty_optional_parts_are_left_out():
    view = replace(
        VIEW,
        explanation="",
        pros=[],
        cons=["", "  "],
        company_summary=None,
        location=None,
        is_remote=None,
        recommendation=None,
    )
    payload = build_discord_payload(view)
    assert "description" not in payload["embeds"][0]
    assert set(fields(payload)) == {"Score", "Salary"}


@pytest.mark.parametrize("score, color", [(95, 0x2ECC71), (80, 0x3498DB), (65, 0xF1C40F)])
def test_color_follows_the_score_band(score, color):
    assert build_discord_payload(replace(VIEW, score=score))["embeds"][0]["color"] == color


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"location": None}, "85/100 Senior Data Engineer at Acme (Remote) — apply"),
        ({}, "85/100 Senior Data Engineer at Acme (Berlin, Germany · remote) — apply"),
        (
            {"is_remote": False, "recommendation": "consider"},
            "85/100 Senior Data Engineer at Acme (Berlin, Germany) — consider",
        ),
        (
            {"is_remote": False, "location": None, "recommendation": None},
            "85/100 Senior Data Engineer at Acme",
        ),
    ],
)
def test_format_notification_text(changes, expected):
    assert format_notification_text(replace(VIEW, **changes)) == expected


def test_notification_text_is_one_line():
    view = replace(VIEW, job_title="Data\nEngineer\r\n\tLead", company="Ac\nme")
    assert format_notification_text(view).startswith("85/100 Data Engineer Lead at Ac me")
