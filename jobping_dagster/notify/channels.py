"""What the email and generic webhook channels send, and digests and notices on every
channel. Untrusted text is cleaned as for Discord (message.py); in HTML it is escaped, so
it shows as written and cannot mark up, link or script. Only the posting's own URL (if it
is a plain http(s) URL) becomes a link.

An email's unsubscribe link holds a per-user secret, so it is not stored: the rendered
message carries UNSUBSCRIBE_URL, which the email sender replaces when it sends."""

from __future__ import annotations

import html
from datetime import date

from jobping_dagster.notify.message import (
    NotificationView,
    _clean,
    _location,
    _markdown_inert,
    _safe_url,
    _score,
    _truncate,
    format_salary,
)

UNSUBSCRIBE_URL = "{{unsubscribe_url}}"
DIGEST_DISCORD_ITEMS = 15
_ACCENT = "#1f6feb"


def _plain(text: object, limit: int, one_line: bool = True) -> str:
    return _truncate(_clean(text, one_line), limit)


def digest_item(view: NotificationView) -> dict:
    """What a digest shows of one match (kept in digest_matches.item), cleaned now."""
    return {
        "title": _plain(view.job_title, 180) or "A job",
        "company": _plain(view.company, 70),
        "where": _truncate(_location(view), 120),
        "url": _safe_url(view.url),
        "score": _score(view.score),
        "recommendation": _plain(view.recommendation or "", 120),
        "explanation": _plain(view.explanation, 280),
    }


def build_webhook_payload(view: NotificationView) -> dict:
    """The JSON body of the generic webhook for one match (delivery adds id and sent_at)."""
    return {
        "type": "match",
        "score": _score(view.score),
        "job": {
            "title": _plain(view.job_title, 300),
            "company": _plain(view.company, 300),
            "location": _plain(view.location or "", 300) or None,
            "remote": view.is_remote,
            "url": _safe_url(view.url),
            "salary": format_salary(view.salary_min, view.salary_max, view.salary_currency),
        },
        "explanation": _plain(view.explanation, 2000, one_line=False),
        "pros": [_plain(p, 300) for p in view.pros[:10]],
        "cons": [_plain(c, 300) for c in view.cons[:10]],
        "recommendation": _plain(view.recommendation or "", 300) or None,
    }


def build_email(view: NotificationView) -> dict:
    """Subject, plain text and HTML of one match's email."""
    item = digest_item(view)
    score = item["score"]
    salary = format_salary(view.salary_min, view.salary_max, view.salary_currency)
    pros = [_plain(p, 200) for p in view.pros[:8] if _clean(p, True)]
    cons = [_plain(c, 200) for c in view.cons[:8] if _clean(c, True)]
    explanation = _plain(view.explanation, 1500, one_line=False)
    subject = _truncate(f"{score}/100 · {item['title']} at {item['company']}", 150)

    facts = [("Score", f"{score}/100")]
    if item["recommendation"]:
        facts.append(("Recommendation", item["recommendation"]))
    if item["where"]:
        facts.append(("Location", item["where"]))
    if salary:
        facts.append(("Salary", salary))

    text = [f"{item['title']} at {item['company']}", ""]
    text += [f"{name}: {value}" for name, value in facts]
    text += ["", explanation] if explanation else []
    text += ["", "Pros:", *(f"- {p}" for p in pros)] if pros else []
    text += ["", "Cons:", *(f"- {c}" for c in cons)] if cons else []
    text += ["", f"The posting: {item['url']}"] if item["url"] else []
    text += _text_footer()

    rows = "".join(
        f'<tr><td style="padding:4px 16px 4px 0;color:#57606a">{_h(name)}</td>'
        f'<td style="padding:4px 0"><strong>{_h(value)}</strong></td></tr>'
        for name, value in facts
        if name != "Score"  # the badge shows it
    )
    body = [
        f'<h1 style="font-size:22px;margin:0 0 4px">{_h(item["title"])}</h1>',
        f'<p style="margin:0 0 16px;color:#57606a;font-size:16px">{_h(item["company"])}</p>',
        f'<table role="presentation" style="border-collapse:collapse;margin:0 0 16px">{rows}'
        "</table>",
    ]
    if explanation:
        body.append(f'<p style="margin:0 0 16px;line-height:1.5">{_h(explanation)}</p>')
    body += _html_list("Pros", pros) + _html_list("Cons", cons)
    if item["url"]:
        body.append(_button(item["url"], "Open the posting"))
    return {
        "subject": subject,
        "text": "\n".join(text) + "\n",
        "html": _page(subject, "".join(body), score),
    }


def build_digest(channel: str, day: date, items: list[dict]) -> dict:
    """The digest of `day` on `channel`, its items best first."""
    items = sorted(items, key=lambda i: -i["score"])
    count = len(items)
    noun = "match" if count == 1 else "matches"
    heading = f"Your matches of {day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
    title = f"{heading}: {count} {noun}"
    if channel == "webhook":
        return {"type": "digest", "day": day.isoformat(), "matches": items}
    if channel == "discord":
        lines = []
        for item in items[:DIGEST_DISCORD_ITEMS]:
            name = _markdown_inert(f"{item['title']} — {item['company']}")
            line = f"**{item['score']}** · " + (f"[{name}]({item['url']})" if item["url"] else name)
            lines.append(_truncate(line, 300))
        if count > DIGEST_DISCORD_ITEMS:
            lines.append(f"…and {count - DIGEST_DISCORD_ITEMS} more in JobPing")
        return {
            "content": _truncate(title, 300),
            "embeds": [{"title": heading, "description": "\n".join(lines)[:4000]}],
            "allowed_mentions": {"parse": []},
        }
    if channel == "email":
        text = [title, ""]
        cards = []
        for item in items:
            head = f"{item['score']}/100  {item['title']} at {item['company']}"
            text += [head] + [f"  {v}" for v in (item["where"], item["url"]) if v] + [""]
            name = _h(item["title"])
            link = (
                f'<a href="{_h(item["url"])}" style="color:{_ACCENT};text-decoration:none">'
                f"{name}</a>"
                if item["url"]
                else name
            )
            details = " · ".join(_h(v) for v in (item["where"], item["recommendation"]) if v)
            cards.append(
                '<tr><td style="padding:12px 12px 12px 0;vertical-align:top;width:52px">'
                f"{_badge(item['score'])}</td>"
                '<td style="padding:12px 0;border-bottom:1px solid #eaeef2">'
                f'<div style="font-size:16px;font-weight:600">{link}</div>'
                f'<div style="color:#57606a">{_h(item["company"])}</div>'
                + (f'<div style="color:#57606a;font-size:13px">{details}</div>' if details else "")
                + (
                    f'<div style="margin-top:6px;line-height:1.45">{_h(item["explanation"])}</div>'
                    if item["explanation"]
                    else ""
                )
                + "</td></tr>"
            )
        body = (
            f'<h1 style="font-size:22px;margin:0 0 4px">{_h(heading)}</h1>'
            f'<p style="margin:0 0 12px;color:#57606a">{count} {noun} for your daily digest,'
            " best first (scores out of 100)</p>"
            f'<table role="presentation" style="border-collapse:collapse;width:100%">'
            f"{''.join(cards)}</table>"
        )
        return {
            "subject": title,
            "text": "\n".join(text + _text_footer()) + "\n",
            "html": _page(title, body, None),
        }
    raise ValueError(f"no digest for channel {channel}")


def build_notice(channel: str, key: str, subject: str, text: str) -> dict:
    """A notice from JobPing itself (e.g. a used-up budget) on `channel`."""
    subject = _plain(subject, 150)
    text = _plain(text, 3000, one_line=False)
    if channel == "webhook":
        return {"type": "notice", "key": key, "subject": subject, "text": text}
    if channel == "discord":
        return {
            "content": _truncate(f"**{_markdown_inert(subject)}**\n{_markdown_inert(text)}", 1900),
            "allowed_mentions": {"parse": []},
        }
    if channel == "email":
        body = f'<h1 style="font-size:20px;margin:0 0 12px">{_h(subject)}</h1><p>{_h(text)}</p>'
        return {
            "subject": subject,
            "text": f"{subject}\n\n{text}\n" + "\n".join(_text_footer()) + "\n",
            "html": _page(subject, body, None),
        }
    raise ValueError(f"no notice for channel {channel}")


def _h(text: object) -> str:
    return html.escape(str(text), quote=True).replace("\n", "<br>")


def _text_footer() -> list[str]:
    return ["", "--", "You get this because you asked JobPing for job alerts by email.",
            f"Unsubscribe: {UNSUBSCRIBE_URL}"]  # fmt: skip


def _html_list(name: str, items: list[str]) -> list[str]:
    if not items:
        return []
    lis = "".join(f'<li style="margin:0 0 4px">{_h(i)}</li>' for i in items)
    return [
        f'<h2 style="font-size:15px;margin:0 0 6px">{_h(name)}</h2>'
        f'<ul style="margin:0 0 16px;padding-left:20px;line-height:1.45">{lis}</ul>'
    ]


def _button(url: str, label: str) -> str:
    return (
        f'<p style="margin:20px 0"><a href="{_h(url)}" style="background:{_ACCENT};'
        "color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none;"
        f'font-weight:600;display:inline-block">{_h(label)}</a></p>'
    )


def _badge(score: int) -> str:
    color = "#1a7f37" if score >= 90 else _ACCENT if score >= 75 else "#9a6700"
    return (
        f'<div style="background:{color};color:#ffffff;border-radius:6px;text-align:center;'
        f'font-weight:700;font-size:16px;padding:8px 0;width:48px">{score}</div>'
    )


def _page(title: str, body: str, score: int | None) -> str:
    badge = f'<div style="float:right">{_badge(score)}</div>' if score is not None else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_h(title)}</title></head>"
        '<body style="margin:0;padding:24px 12px;background:#f6f8fa;'
        "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1f2328;"
        'font-size:15px">'
        '<div style="max-width:600px;margin:0 auto;background:#ffffff;border:1px solid #d0d7de;'
        'border-radius:8px;padding:24px">'
        f'<div style="color:{_ACCENT};font-weight:700;margin:0 0 16px">JobPing{badge}</div>'
        f"{body}</div>"
        '<p style="max-width:600px;margin:16px auto 0;color:#57606a;font-size:12px;'
        'text-align:center">You get this because you asked JobPing for job alerts by email. '
        f'<a href="{UNSUBSCRIBE_URL}" style="color:#57606a">Unsubscribe</a></p>'
        "</body></html>"
    )
