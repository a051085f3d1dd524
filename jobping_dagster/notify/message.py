"""What a match notification says: a Discord webhook payload and a one-line text.

Everything taken from a posting or the LLM is untrusted: it may hold `@everyone`, fake
mentions, masked links, markdown or megabytes of text. Each piece is cleaned and cut to
Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits),
and the payload sets `allowed_mentions` to ping nobody whatever the text says. Discord renders
markdown in the content, the embed title, description and field values, so untrusted text
there is escaped: it shows as written but cannot link, format, quote or mention. (The footer
is plain text and the one-line table text is not markdown: neither is escaped.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# Our own caps, each within Discord's; together they keep an embed under its 6000 total.
TITLE_MAX = 256
DESCRIPTION_MAX = 1000
FIELD_MAX = 1024
SHORT_FIELD_MAX = 300  # recommendation, location, company summary
CONTENT_MAX = 300
FOOTER_MAX = 100
URL_MAX = 2000
BULLETS_MAX = 10

# Control characters, zero-width spaces and bidi overrides (which can disguise text); the
# zero-width joiners that emoji and some scripts need are kept.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MENTION_RE = re.compile(r"@(everyone|here)|<(@[!&]?|#)(\d+)>", re.IGNORECASE)
_ZWSP = "\u200b"
# Characters Discord's markdown acts on anywhere (links need "[", mentions, emoji and
# timestamps "<"), and list markers at the start of a line. A backslash shows any
# punctuation as written.
_MARKDOWN_CHAR_RE = re.compile(r"[\\*_~`|\[\]<>#]")
_LIST_MARKER_RE = re.compile(r"^(\s*\d*)([-+.])(?=\s)", re.MULTILINE)
_CLEAN_MAX = 4 * DESCRIPTION_MAX


@dataclass(frozen=True)
class NotificationView:
    """The facts one notification shows. Text fields are untrusted."""

    job_title: str
    company: str
    location: str | None
    url: str | None
    score: int
    explanation: str
    pros: list[str] = field(default_factory=list)
    cons: list[str] = field(default_factory=list)
    recommendation: str | None = None
    salary_min: float | None = None  # annualized
    salary_max: float | None = None
    salary_currency: str | None = None
    is_remote: bool | None = None
    company_summary: str | None = None
    model: str = ""


def build_discord_payload(view: NotificationView) -> dict:
    """One embed plus a short `content` line, safe to post as is."""
    score = _score(view.score)
    # Cut each part first so a huge job title cannot push the company name out.
    parts = [
        _truncate(_markdown_inert(_clean(view.job_title, True)), 180),
        _truncate(_markdown_inert(_clean(view.company, True)), 70),
    ]
    title = _truncate(" — ".join(p for p in parts if p) or "New job match", TITLE_MAX)
    embed: dict = {
        "title": title,
        "color": _color(score),
        "fields": [],
        "footer": {"text": _truncate(f"JobPing · {_clean(view.model, True)}", FOOTER_MAX)},
    }
    description = _truncate(_markdown_inert(_clean(view.explanation)), DESCRIPTION_MAX)
    if description:  # Discord refuses an empty string here
        embed["description"] = description
    url = _safe_url(view.url)
    if url:
        embed["url"] = url

    def add(name: str, value: str | None, limit: int, inline: bool = True) -> None:
        if value:
            embed["fields"].append(
                {"name": name, "value": _truncate(value, limit), "inline": inline}
            )

    recommendation = _markdown_inert(_clean(view.recommendation or "", True))
    salary = format_salary(view.salary_min, view.salary_max, view.salary_currency) or ""
    company = _markdown_inert(_clean(view.company_summary or ""))
    add("Score", f"{score}/100", FIELD_MAX)
    add("Recommendation", recommendation, SHORT_FIELD_MAX)
    add("Location", _markdown_inert(_location(view)), SHORT_FIELD_MAX)
    add("Salary", _markdown_inert(salary), FIELD_MAX)
    add("Pros", _bullets(view.pros), FIELD_MAX, inline=False)
    add("Cons", _bullets(view.cons), FIELD_MAX, inline=False)
    add("Company", company, SHORT_FIELD_MAX, inline=False)

    content = _truncate(f"New match: {score}/100 · {title}", CONTENT_MAX)
    return {"content": content, "embeds": [embed], "allowed_mentions": {"parse": []}}


def format_notification_text(view: NotificationView) -> str:
    """One plain line for the notifications table, e.g.
    "85/100 Senior Data Engineer at Acme (Remote) — apply"."""
    text = (
        f"{_score(view.score)}/100 {_clean(view.job_title, True)} at {_clean(view.company, True)}"
    )
    where = _location(view)
    if where:
        text += f" ({where})"
    recommendation = _clean(view.recommendation or "", True)
    if recommendation:
        text += f" — {_truncate(recommendation, 80)}"
    return _truncate(text, 500)


def format_salary(low: float | None, high: float | None, currency: str | None) -> str | None:
    """ "USD 120,000–150,000 / year", "from EUR 60,000 / year"; None when nothing is known."""
    low, high = _amount(low), _amount(high)
    if low is None and high is None:
        return None
    currency = _clean(currency, True)[:10]
    prefix = f"{currency} " if currency else ""
    if low is not None and high is not None:
        low, high = min(low, high), max(low, high)
        amount = _number(low) if low == high else f"{_number(low)}–{_number(high)}"
        return f"{prefix}{amount} / year"
    if low is not None:
        return f"from {prefix}{_number(low)} / year"
    return f"up to {prefix}{_number(high)} / year"


def _clean(text: object, one_line: bool = False) -> str:
    """Untrusted text made inert: no control or bidi characters, no working mentions, no
    masked links, and (with one_line) no line breaks."""
    if text is None:
        return ""
    # Nothing shown is longer than this; cutting first keeps huge inputs cheap.
    text = str(text)[:_CLEAN_MAX]
    text = _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\t", " "))
    if one_line:
        text = " ".join(text.split())
    # A zero-width space after "@" or "<" keeps the text readable but stops the mention.
    text = _MENTION_RE.sub(lambda m: m[0][0] + _ZWSP + m[0][1:], text)
    # Breaking "](" stops a [label](url) masked link that could disguise a phishing URL.
    text = text.replace("](", "]" + _ZWSP + "(")
    return text.strip()


def _markdown_inert(text: str) -> str:
    """Cleaned text escaped for a place Discord renders as markdown: it reads the same, but
    cannot format, link or quote. The zero-width space after "://" stops Discord turning a
    bare URL into a link: the only link in a notification is the posting's own."""
    text = _MARKDOWN_CHAR_RE.sub(r"\\\g<0>", text)
    text = _LIST_MARKER_RE.sub(r"\1\\\2", text)  # "1. x" -> "1\. x"
    return text.replace("://", ":" + _ZWSP + "//")


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _bullets(items: list[str] | None) -> str:
    # One item past the cap is enough to know that "…" is needed.
    lines = [
        f"• {_truncate(_markdown_inert(_clean(item, True)), 200)}"
        for item in (items or [])[: BULLETS_MAX + 1]
    ]
    lines = [line for line in lines if line != "• "]
    shown = []
    for line in lines[:BULLETS_MAX]:
        if sum(len(s) + 1 for s in shown) + len(line) > FIELD_MAX - 2:
            break
        shown.append(line)
    if len(shown) < len(lines):
        shown.append("…")
    return "\n".join(shown)


def _location(view: NotificationView) -> str:
    location = _truncate(_clean(view.location or "", True), 200)
    if view.is_remote:
        return f"{location} · remote" if location else "Remote"
    return location


def _score(score: object) -> int:
    try:
        return max(0, min(100, round(float(score))))
    except (TypeError, ValueError, OverflowError):
        return 0


def _color(score: int) -> int:
    if score >= 90:
        return 0x2ECC71  # green: excellent
    if score >= 75:
        return 0x3498DB  # blue: strong
    if score >= 60:
        return 0xF1C40F  # amber: worth a look
    return 0x95A5A6  # grey


def _safe_url(url: object) -> str | None:
    """The posting URL if it is a plain http(s) URL; Discord rejects the whole message (400)
    for an embed URL it cannot parse, so anything doubtful is dropped."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if len(url) > URL_MAX or not re.fullmatch(r"[!-~]+", url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _amount(value: object) -> float | None:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    return amount if 0 < amount < 1e12 else None


def _number(amount: float) -> str:
    return f"{amount:,.0f}" if amount >= 1000 or amount.is_integer() else f"{amount:,.2f}"
