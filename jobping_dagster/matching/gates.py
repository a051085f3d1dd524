"""Hard gates: a pair that clearly breaks an explicit wish never reaches the scorer.

Only what is known can break a wish: an unknown country, work mode, salary or industry
passes, and a wish JobPing could not read gates nothing. Each gate is a reason that the
selection counts, so no dropped pair is lost silently (it can still be pulled on demand).
"""

from __future__ import annotations

from dataclasses import dataclass

from jobping_dagster.llm.models import WishProfile
from jobping_dagster.matching.text import canonical_tokens, contains_phrase
from jobping_dagster.postings.facts import PostingFacts

GATE_COUNTRY = "country"
GATE_ONSITE = "onsite_for_remote_only"
GATE_SALARY = "salary_below_floor"
GATE_COMPANY = "excluded_company"
GATE_INDUSTRY = "excluded_industry"
GATE_ROLE = "excluded_role"
GATES = (GATE_COUNTRY, GATE_ONSITE, GATE_SALARY, GATE_COMPANY, GATE_INDUSTRY, GATE_ROLE)

# "Clearly below": a posting's best pay under this share of the floor. Pay near the floor
# is for the scorer to weigh, not for a rule to drop.
SALARY_MARGIN = 0.8


@dataclass(frozen=True)
class GateJob:
    """What the gates read of a posting, tokenized once per selection."""

    facts: PostingFacts
    title_terms: frozenset[str]
    company_terms: frozenset[str]
    industry_terms: frozenset[str]  # company industry from research or the job board

    @classmethod
    def of(cls, facts: PostingFacts, title: str, company: str, industry: str | None):
        return cls(
            facts=facts,
            title_terms=frozenset(canonical_tokens(title)),
            company_terms=frozenset(canonical_tokens(company)),
            industry_terms=frozenset(canonical_tokens(industry)),
        )


def gates_anything(wishes: WishProfile) -> bool:
    return wishes.readable and bool(
        wishes.countries
        or wishes.remote_only
        or wishes.salary_floor is not None
        or wishes.excluded_companies
        or wishes.excluded_industries
        or wishes.excluded_roles
    )


def gate_reason(wishes: WishProfile, job: GateJob) -> str | None:
    """The first explicit wish this posting clearly breaks, or None."""
    if not wishes.readable:
        return None
    facts = job.facts
    if (
        wishes.countries
        and facts.country is not None
        and facts.country not in wishes.countries
        and facts.work_mode != "remote"
    ):
        return GATE_COUNTRY
    if wishes.remote_only and facts.work_mode == "onsite":
        return GATE_ONSITE
    if _clearly_underpaid(wishes, facts):
        return GATE_SALARY
    if any(contains_phrase(job.company_terms, name) for name in wishes.excluded_companies):
        return GATE_COMPANY
    if any(
        contains_phrase(job.industry_terms | job.company_terms, name)
        for name in wishes.excluded_industries
    ):
        return GATE_INDUSTRY
    if any(contains_phrase(job.title_terms, role) for role in wishes.excluded_roles):
        return GATE_ROLE
    return None


def _clearly_underpaid(wishes: WishProfile, facts: PostingFacts) -> bool:
    if wishes.salary_floor is None or not wishes.salary_currency or not facts.salary_currency:
        return False
    if wishes.salary_currency.upper() != facts.salary_currency.upper():
        return False  # no exchange rates: another currency is not comparable
    best = max((v for v in (facts.salary_min, facts.salary_max) if v is not None), default=None)
    return best is not None and best < SALARY_MARGIN * wishes.salary_floor
