"""The keyword scorer's checks: each compares one kind of wish with the posting and records
how well it fits (0..1), a score cap when it clearly does not, and pros and cons to show."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobping_dagster.llm.local.keyword_wishes import Wishes
from jobping_dagster.llm.local.places import in_place
from jobping_dagster.llm.local.salary import money
from jobping_dagster.llm.local.vocabulary import SENIORITY_RANK
from jobping_dagster.llm.models import JobForScoring

TITLE_BONUS = 0.2  # any wished keyword in the title: the title says what the job is
# Words most titles share: they say little about which job it is, so they earn no title
# bonus, and a title matching only these cannot reach the "apply" band.
_GENERIC_TITLE_WORDS = {
    "engineer",
    "engineers",
    "engineering",
    "developer",
    "developers",
    "development",
    "software",
    "systems",
    "system",
    "specialist",
    "associate",
    "manager",
    "design",
}
GENERIC_TITLE_CAP = 69


@dataclass
class Verdict:
    fits: dict[str, float] = field(default_factory=dict)  # dimension -> 0..1
    caps: list[tuple[int, str]] = field(default_factory=list)  # (maximum score, why)
    pros: list[str] = field(default_factory=list)
    cons: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)  # wished terms found, as the user wrote
    missing: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # excluded terms the posting lacks


def check_exclusions(wishes: Wishes, strong: set[str], weak: set[str], verdict: Verdict):
    for term in wishes.excluded:
        word = wishes.show(term)
        if term in strong:
            verdict.caps.append((15, f"the title or company matches '{word}', which you exclude"))
            verdict.cons.append(f"Title or company matches '{word}', which you want to avoid")
        elif term in weak:
            verdict.caps.append((30, f"the posting mentions '{word}', which you exclude"))
            verdict.cons.append(f"The posting mentions '{word}', which you want to avoid")
        else:
            verdict.absent.append(word)


def check_keywords(wishes: Wishes, title: set[str], body: set[str], verdict: Verdict):
    if not wishes.keywords:
        return
    in_title = [k for k in wishes.keywords if k in title]
    in_body = [k for k in wishes.keywords if k not in title and k in body]
    missing = [k for k in wishes.keywords if k not in title and k not in body]
    specific_in_title = [k for k in in_title if k not in _GENERIC_TITLE_WORDS]
    credit = (len(in_title) + 0.6 * len(in_body)) / len(wishes.keywords)
    verdict.fits["keywords"] = min(1.0, credit + (TITLE_BONUS if specific_in_title else 0.0))
    verdict.matched = [wishes.show(k) for k in in_title + in_body]
    verdict.missing = [wishes.show(k) for k in missing]
    if in_title:
        verdict.pros.append("Title matches: " + ", ".join(wishes.show(k) for k in in_title))
    if in_body:
        verdict.pros.append("Posting mentions: " + ", ".join(wishes.show(k) for k in in_body))
    if missing:
        verdict.cons.append("Not found in the posting: " + ", ".join(verdict.missing))
    if not in_title and not in_body:
        verdict.caps.append((30, "none of your keywords appear in the posting"))
    elif not specific_in_title and any(k not in _GENERIC_TITLE_WORDS for k in wishes.keywords):
        verdict.caps.append(
            (GENERIC_TITLE_CAP, "the title names none of the specific things you asked for")
        )


def check_seniority(wishes: Wishes, title: set[str], verdict: Verdict):
    if not wishes.seniority:
        return
    level = _seniority_of(title)
    wanted = " or ".join(wishes.seniority)
    if level is None:
        verdict.fits["seniority"] = 0.6
        verdict.cons.append(f"Seniority not stated in the title (you want {wanted})")
        return
    distance = min(abs(SENIORITY_RANK[level] - SENIORITY_RANK[w]) for w in wishes.seniority)
    if distance == 0:
        verdict.fits["seniority"] = 1.0
        verdict.pros.append(f"Seniority: {level}, as you want")
    elif distance == 1:
        verdict.fits["seniority"] = 0.4
        verdict.cons.append(f"Seniority: {level}, you want {wanted}")
    else:
        verdict.fits["seniority"] = 0.0
        verdict.cons.append(f"Seniority: {level}, far from the {wanted} level you want")
        verdict.caps.append((45, f"the level ({level}) is far from {wanted}"))


def work_mode(job: JobForScoring, title: set[str], location: set[str], body: set[str]) -> str:
    """remote, hybrid, onsite, or unknown: the flag first, then what the text says."""
    if job.is_remote or "remote" in title | location:
        return "remote"
    if "hybrid" in title | location | body:
        return "hybrid"
    if job.is_remote is False:
        return "onsite"
    if "remote" in body:
        return "remote-mentioned"
    return "unknown"


def check_remote(wishes: Wishes, mode: str, verdict: Verdict):
    if wishes.remote is None:
        return
    if wishes.remote is False:  # the user wants to be in an office
        fit = {"onsite": 1.0, "hybrid": 0.8, "remote": 0.3}.get(mode, 0.6)
        verdict.fits["remote"] = fit
        (verdict.pros if fit >= 0.8 else verdict.cons).append(f"Work mode: {mode}")
        return
    if mode == "remote":
        verdict.fits["remote"] = 1.0
        verdict.pros.append("Remote, as you want")
    elif mode == "remote-mentioned":
        verdict.fits["remote"] = 0.7
        verdict.pros.append("The description mentions remote work (not flagged as remote)")
    elif mode == "hybrid" and wishes.accepts_hybrid:
        verdict.fits["remote"] = 0.8
        verdict.pros.append("Hybrid, which you accept")
    elif mode == "hybrid":
        verdict.fits["remote"] = 0.3
        verdict.cons.append("Hybrid, not fully remote")
        verdict.caps.append((60, "the job is hybrid and you want remote"))
    elif mode == "onsite":
        verdict.fits["remote"] = 0.0
        verdict.cons.append("On-site: not remote")
        verdict.caps.append((35, "the job is on-site and you want remote"))
    else:
        verdict.fits["remote"] = 0.5
        verdict.cons.append("Remote work not stated")


def check_place(
    wishes: Wishes, location: set[str], mode: str, location_text: str | None, verdict: Verdict
):
    if not wishes.places:
        return
    wanted = " or ".join(p.upper() if len(p) <= 2 else p.title() for p in wishes.places)
    shown = " ".join((location_text or "").split())
    if not location:
        verdict.fits["place"] = 0.5
        verdict.cons.append(f"Location not stated (you want {wanted})")
    elif any(in_place(place, location) for place in wishes.places):
        verdict.fits["place"] = 1.0
        verdict.pros.append(f"Location {shown} is in {wanted}")
    elif mode == "remote":
        verdict.fits["place"] = 0.4
        verdict.cons.append(f"Remote, but based in {shown} (you want {wanted})")
    else:
        verdict.fits["place"] = 0.0
        verdict.cons.append(f"Location {shown} is not in {wanted}")
        verdict.caps.append((35, f"the location ({shown}) is not in {wanted}"))


def check_salary(wishes: Wishes, job: JobForScoring, verdict: Verdict):
    if wishes.min_salary is None:
        return
    floor = f"{money(wishes.min_salary)} {wishes.salary_currency or ''}".strip()
    best = max((v for v in (job.salary_min, job.salary_max) if v is not None), default=None)
    if best is None:
        verdict.fits["salary"] = 0.5
        verdict.cons.append(f"Salary not stated (your floor: {floor})")
        return
    currency = (job.salary_currency or "").upper() or None
    low = job.salary_min if job.salary_min is not None else best
    offered = money(low) if low == best else f"{money(low)}-{money(best)}"
    offered = f"{offered} {currency or ''}".strip()
    if wishes.salary_currency and currency and wishes.salary_currency != currency:
        verdict.fits["salary"] = 0.5
        verdict.cons.append(f"Salary {offered} is in another currency than your floor {floor}")
    elif best >= wishes.min_salary:
        verdict.fits["salary"] = 1.0
        verdict.pros.append(f"Salary {offered} meets your floor of {floor}")
    elif best >= 0.9 * wishes.min_salary:
        verdict.fits["salary"] = 0.4
        verdict.cons.append(f"Salary {offered} is slightly below your floor of {floor}")
        verdict.caps.append((80, f"the salary ({offered}) is slightly below your floor"))
    else:
        verdict.fits["salary"] = 0.0
        verdict.cons.append(f"Salary {offered} is below your floor of {floor}")
        verdict.caps.append((35, f"the salary ({offered}) is below your floor of {floor}"))


def _seniority_of(title_terms: set[str]) -> str | None:
    levels = [term for term in title_terms if term in SENIORITY_RANK]
    return max(levels, key=lambda level: (SENIORITY_RANK[level], level)) if levels else None
