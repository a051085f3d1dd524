"""What the Dagster UI shows an operator about matching: each scored pair explains itself
(which posting, which user, the score and the LLM's reasons), and a match run or a day's
candidate selection shows how its scores spread.

Posting, company and LLM text is untrusted: it is escaped for the UI's markdown
(untrusted_markdown.py). A user's e-mail address is personal data: it is shown masked, the
user id says who it is."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from jobping_dagster.llm.models import MatchAnalysis
from jobping_dagster.markdown import markdown_table
from jobping_dagster.matching.cascade import KEPT, Chosen
from jobping_dagster.matching.store import PairInput
from jobping_dagster.untrusted_markdown import inert_markdown, one_line, safe_http_url
from jobping_dagster.users.validation import mask_email

BIN_WIDTH = 10
BAR_WIDTH = 30
BAR = "█"
REASONS_SHOWN = 8  # pros and cons each; the LLM is asked for a few


def match_metadata(
    pair: PairInput, analysis: MatchAnalysis, match_id: int, model: str
) -> dict[str, object]:
    """The metadata of one pair's materialization."""
    job = pair.job
    metadata: dict[str, object] = {
        "posting": dg.MetadataValue.text(
            f"{one_line(job.title, 180)} @ {one_line(job.company, 80)}"
        ),
        "user": dg.MetadataValue.text(f"user {pair.user_id} · {mask_email(pair.user_email)}"),
        "score": analysis.score,
        "recommendation": analysis.recommendation,
        "threshold": pair.min_score,
        "notify": analysis.score >= pair.min_score,
        "analysis": dg.MetadataValue.md(analysis_markdown(pair, analysis)),
        "model": model,
        "match_id": match_id,
    }
    url = safe_http_url(job.url)
    if url:
        metadata["job_url"] = dg.MetadataValue.url(url)
    return metadata


def analysis_markdown(pair: PairInput, analysis: MatchAnalysis) -> str:
    """The posting, the score and the LLM's explanation, pros and cons, as markdown."""
    job = pair.job
    verdict = "notified" if analysis.score >= pair.min_score else "below the threshold"
    lines = [
        f"**{inert_markdown(job.title, 180)}** @ {inert_markdown(job.company, 80)}",
        "",
        f"**{analysis.score}/100**, {analysis.recommendation} "
        f"({verdict}: threshold {pair.min_score})",
        "",
        inert_markdown(analysis.explanation, 1000),
    ]
    for heading, reasons in (("Pros", analysis.pros), ("Cons", analysis.cons)):
        if reasons:
            lines += ["", f"**{heading}**", ""]
            lines += [f"- {inert_markdown(reason, 200)}" for reason in reasons[:REASONS_SHOWN]]
            if len(reasons) > REASONS_SHOWN:
                lines.append(f"- … {len(reasons) - REASONS_SHOWN} more")
    return "\n".join(lines)


def histogram_table(values: Iterable[float], label: str) -> str:
    """A markdown table of 0-100 `values` in bins of ten: the range, the count and a bar
    as long as the count (the fullest bin BAR_WIDTH characters)."""
    counts = [0] * (100 // BIN_WIDTH)
    for value in values:
        clamped = min(max(float(value), 0.0), 100.0)
        counts[min(int(clamped // BIN_WIDTH), len(counts) - 1)] += 1
    fullest = max(counts)
    rows = []
    for index, count in enumerate(counts):
        low = index * BIN_WIDTH
        high = 100 if index == len(counts) - 1 else low + BIN_WIDTH - 1
        # A bin with anything in it shows at least one character.
        length = max(round(count / fullest * BAR_WIDTH), 1) if count else 0
        rows.append({label: f"{low}–{high}", "count": count, "": BAR * length})
    return markdown_table(rows, [label, "count", ""], max_cell=BAR_WIDTH + 1)


def score_distribution(scores: list[int]) -> dict[str, object]:
    """The metadata of a match run as a whole: how its scores spread."""
    return {
        "pairs_scored": len(scores),
        "mean_score": round(sum(scores) / len(scores), 1) if scores else None,
        "score_histogram": dg.MetadataValue.md(histogram_table(scores, "score")),
    }


def relevance_distribution(chosen: list[Chosen]) -> dict[str, object]:
    """The metadata of a day's selection: how relevant the pairs it kept for scoring are
    (relevance is a 0-1 cosine, shown in percent). Shadow pairs are a random sample of the
    dropped ones and are left out."""
    kept = [c.relevance * 100 for c in chosen if c.decision == KEPT]
    return {"kept_relevance_histogram": dg.MetadataValue.md(histogram_table(kept, "relevance %"))}
