"""A deterministic scorer that needs no network and no API key.

It is for demos, development and tests. It reads the user's prompt as a list of wishes
(keywords, exclusions, seniority, remote, places, a salary floor), compares them with the
posting, and explains the result. It follows the same score bands as the LLM rubric.
It is a keyword matcher, not an understanding of language; the explanation says what it
checked so a user can tell.
"""

from __future__ import annotations

from jobping_dagster.llm.local.checks import (
    Verdict,
    check_exclusions,
    check_keywords,
    check_place,
    check_remote,
    check_salary,
    check_seniority,
    work_mode,
)
from jobping_dagster.llm.local.injections import strip_injections
from jobping_dagster.llm.local.keyword_wishes import Wishes, parse_wishes
from jobping_dagster.llm.local.places import NOT_PLACES
from jobping_dagster.llm.local.vocabulary import terms
from jobping_dagster.llm.models import CompanyProfile, JobForScoring, MatchAnalysis

# How much each kind of wish counts when the prompt states it. Keywords weigh most.
_WEIGHTS = {"keywords": 50, "seniority": 15, "remote": 15, "salary": 10, "place": 10}


class LocalScorer:
    model_name = "local-keyword-v1"

    def score(
        self, job: JobForScoring, user_prompt: str, company: CompanyProfile | None
    ) -> MatchAnalysis:
        wishes = parse_wishes(user_prompt or "")
        if wishes.is_empty:
            return MatchAnalysis(
                score=50,
                explanation=(
                    "Your prompt names nothing this keyword scorer can check (roles, skills, "
                    "seniority, remote, location or a salary floor), so the score is neutral."
                ),
                pros=[],
                cons=["Nothing in the prompt to compare with the posting"],
                recommendation="consider",
            )

        description, injected = strip_injections(job.description)
        title = terms(job.title)
        company_terms = terms(job.company)
        if company is not None:
            company_terms |= terms(company.industry)
        body = terms(description) | terms(job.job_type) | terms(job.location)
        if company is not None:
            body |= terms(company.summary)
        location_words = terms(job.location)
        location = location_words - NOT_PLACES

        verdict = Verdict()
        check_exclusions(wishes, title | company_terms, body, verdict)
        check_keywords(wishes, title, body | company_terms, verdict)
        check_seniority(wishes, title, verdict)
        mode = work_mode(job, title, location_words, terms(description))
        check_remote(wishes, mode, verdict)
        check_place(wishes, location, mode, job.location, verdict)
        check_salary(wishes, job, verdict)
        if verdict.absent:
            verdict.pros.append("No sign of: " + ", ".join(verdict.absent))
        if injected:
            verdict.cons.append("The posting contains text aimed at AI screeners (ignored)")
        if company is not None:
            verdict.cons.extend(f"Company research: {flag}" for flag in company.red_flags[:3])

        score, cap_reason = _capped_score(verdict)
        return MatchAnalysis(
            score=score,
            explanation=_explain(score, wishes, verdict, cap_reason),
            pros=verdict.pros[:6],
            cons=verdict.cons[:6],
            recommendation=_recommendation(score),
        )


def _capped_score(verdict: Verdict) -> tuple[int, str | None]:
    """The weighted mean of the fits, lowered to the tightest cap it exceeds, and why."""
    total = sum(_WEIGHTS[name] for name in verdict.fits)
    earned = sum(_WEIGHTS[name] * fit for name, fit in verdict.fits.items())
    score = round(100 * earned / total) if total else 50
    cap_reason = None
    for cap, reason in sorted(verdict.caps):
        if score > cap:
            score, cap_reason = cap, reason
    return score, cap_reason


def _recommendation(score: int) -> str:
    return "apply" if score >= 70 else "consider" if score >= 40 else "skip"


def _explain(score: int, wishes: Wishes, verdict: Verdict, cap_reason: str | None) -> str:
    sentences = []
    if wishes.keywords:
        if verdict.matched:
            sentence = "Matched your terms: " + ", ".join(verdict.matched)
            if verdict.missing:
                sentence += "; not found: " + ", ".join(verdict.missing)
            sentences.append(sentence + ".")
        else:
            sentences.append(
                "None of your terms (" + ", ".join(verdict.missing) + ") appear in the posting."
            )
    checks = [c for c in verdict.pros if not c.startswith(("Title matches", "Posting mentions"))]
    misses = [c for c in verdict.cons if not c.startswith("Not found in the posting")]
    if checks:
        sentences.append("Fits: " + "; ".join(c[0].lower() + c[1:] for c in checks[:3]) + ".")
    if misses:
        sentences.append("Against: " + "; ".join(c[0].lower() + c[1:] for c in misses[:3]) + ".")
    verdict_sentence = f"Score {score}/100 ({_recommendation(score)})"
    if cap_reason:
        verdict_sentence += f", capped because {cap_reason}"
    sentences.append(verdict_sentence + ".")
    return " ".join(sentences[-4:] if len(sentences) > 4 else sentences)
