"""A company profile built only from what the job boards said: no network, unknown stays None."""

from __future__ import annotations

from jobping_dagster.llm.local.injections import SENTENCE_END, strip_injections
from jobping_dagster.llm.local.salary import money
from jobping_dagster.llm.models import CompanyFacts, CompanyProfile, JobForScoring

_BOARD_HOSTS = ("linkedin.", "indeed.", "glassdoor.", "ziprecruiter.", "google.", "naukri.")


class LocalResearcher:
    """A profile built only from what the job boards said: unknown stays None."""

    model_name = "local-facts-v1"

    def research(self, facts: CompanyFacts) -> CompanyProfile:
        fields = _clean_fields(facts.fields)
        postings = facts.postings
        description, injected = strip_injections(fields.get("description", ""))

        sentences = [s for s in SENTENCE_END.split(description.strip()) if s][:3]
        summary = " ".join(sentences)[:600]
        if not summary:
            summary = f"{facts.name}: the job boards gave no description of the company."
        if postings:
            titles = _distinct(p.title for p in postings)
            summary += f" Open roles seen: {', '.join(titles[:5])}."

        culture = []
        remote_known = [p.is_remote for p in postings if p.is_remote is not None]
        if remote_known:
            culture.append(f"Remote: {sum(remote_known)} of {len(remote_known)} postings")
        locations = _distinct(p.location for p in postings if p.location)
        if locations:
            culture.append("Hiring in: " + "; ".join(locations[:5]))
        culture.extend(_salary_ranges(postings))
        job_types = _distinct(p.job_type for p in postings if p.job_type)
        if job_types:
            culture.append("Job types: " + ", ".join(job_types))
        for name, label in (("revenue", "Revenue"), ("rating", "Rating on the job board")):
            if name in fields:
                culture.append(f"{label}: {fields[name]}")

        red_flags = []
        if injected or any(strip_injections(p.description)[1] for p in postings):
            red_flags.append("Its postings contain text aimed at AI screeners")

        return CompanyProfile(
            summary=summary,
            industry=fields.get("industry"),
            size=fields.get("num_employees") or fields.get("size") or fields.get("employees"),
            headquarters=fields.get("headquarters") or fields.get("addresses"),
            website=_website(fields),
            culture=culture,
            red_flags=red_flags,
        )


def _clean_fields(fields: dict[str, str]) -> dict[str, str]:
    """Board fields with the 'company_' prefix dropped and empty or 'nan' values left out."""
    cleaned = {}
    for name, value in (fields or {}).items():
        text = " ".join(str(value).split()) if value is not None else ""
        if text and text.lower() not in ("nan", "none", "null", "n/a"):
            cleaned[name.lower().removeprefix("company_")] = text[:2000]
    return cleaned


def _website(fields: dict[str, str]) -> str | None:
    for name in ("url_direct", "website", "url"):
        url = fields.get(name)
        # A board's company page (linkedin.com/company/...) is not the company's website.
        if url and not any(host in url.lower() for host in _BOARD_HOSTS):
            return url
    return None


def _salary_ranges(postings: list[JobForScoring]) -> list[str]:
    by_currency: dict[str, list[float]] = {}
    for p in postings:
        values = [v for v in (p.salary_min, p.salary_max) if v is not None]
        if values:
            by_currency.setdefault((p.salary_currency or "").upper(), []).extend(values)
    ranges = []
    for currency, values in sorted(by_currency.items()):
        low, high = min(values), max(values)
        amount = money(low) if low == high else f"{money(low)}-{money(high)}"
        ranges.append(f"Salaries in postings: {amount} {currency or '(currency not stated)'}")
    return ranges


def _distinct(values) -> list[str]:
    return list(dict.fromkeys(" ".join(str(v).split()) for v in values if v))
