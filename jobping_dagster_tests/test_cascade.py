"""The pre-filter cascade as plain Python: each gate, unknown never gating, budgets, the
per-posting cap, the shadow sample and the recall estimate."""

import pytest

from jobping_dagster.llm.models import WishProfile
from jobping_dagster.matching.cascade import (
    KEPT,
    SHADOW,
    CandidateJob,
    CandidateUser,
    CascadeConfig,
    select_candidates,
)
from jobping_dagster.matching.gates import (
    GATE_COMPANY,
    GATE_COUNTRY,
    GATE_INDUSTRY,
    GATE_ONSITE,
    GATE_ROLE,
    GATE_SALARY,
    GateJob,
    gate_reason,
)
from jobping_dagster.matching.recall import ScoredCandidate, estimate_recall
from jobping_dagster.postings.facts import PostingFacts


def _job(title="Backend Engineer", company="Acme", industry=None, **facts) -> GateJob:
    return GateJob.of(PostingFacts(**facts), title, company, industry)


@pytest.mark.parametrize(
    "wishes, job, reason",
    [
        # a country-bound seeker and a posting elsewhere that is not remote
        (WishProfile(countries=["US"]), _job(country="DE", work_mode="onsite"), GATE_COUNTRY),
        (WishProfile(countries=["US"]), _job(country="DE", work_mode="hybrid"), GATE_COUNTRY),
        (WishProfile(countries=["US"]), _job(country="DE", work_mode="unknown"), GATE_COUNTRY),
        (WishProfile(countries=["US"]), _job(country="DE", work_mode="remote"), None),
        (WishProfile(countries=["US"]), _job(country="US", work_mode="onsite"), None),
        (WishProfile(countries=["US"]), _job(country=None, work_mode="onsite"), None),
        # remote only and on-site; hybrid and unknown are for the scorer
        (WishProfile(remote_only=True), _job(work_mode="onsite"), GATE_ONSITE),
        (WishProfile(remote_only=True), _job(work_mode="hybrid"), None),
        (WishProfile(remote_only=True), _job(work_mode="unknown"), None),
        # a salary clearly below the floor in the same currency
        (
            WishProfile(salary_floor=150_000, salary_currency="USD"),
            _job(salary_min=90_000, salary_max=110_000, salary_currency="USD"),
            GATE_SALARY,
        ),
        (
            WishProfile(salary_floor=150_000, salary_currency="USD"),
            _job(salary_min=110_000, salary_max=130_000, salary_currency="USD"),
            None,  # near the floor: the scorer weighs it
        ),
        (
            WishProfile(salary_floor=150_000, salary_currency="USD"),
            _job(salary_min=50_000, salary_max=60_000, salary_currency="EUR"),
            None,  # another currency is not comparable
        ),
        (
            WishProfile(salary_floor=150_000, salary_currency=None),
            _job(salary_min=50_000, salary_max=60_000, salary_currency="USD"),
            None,
        ),
        (WishProfile(salary_floor=150_000, salary_currency="USD"), _job(), None),
        # exclusions
        (WishProfile(excluded_companies=["Acme"]), _job(company="ACME Corp"), GATE_COMPANY),
        (
            WishProfile(excluded_industries=["crypto"]),
            _job(industry="Crypto exchange"),
            GATE_INDUSTRY,
        ),
        (WishProfile(excluded_industries=["crypto"]), _job(industry=None), None),
        (
            WishProfile(excluded_roles=["software engineering"]),
            _job(title="Senior Software Engineer"),
            GATE_ROLE,
        ),
        (
            WishProfile(excluded_roles=["software engineering"]),
            _job(title="Process Engineer"),
            None,
        ),
        (WishProfile(excluded_roles=["manager"]), _job(title="Engineering Managers"), GATE_ROLE),
    ],
)
def test_gates_drop_only_clear_violations(wishes, job, reason):
    assert gate_reason(wishes, job) == reason


def test_an_unreadable_wish_gates_nothing():
    wishes = WishProfile(notes=["nothing understood"])
    assert not wishes.readable
    job = _job(country="DE", work_mode="onsite", salary_max=1.0, salary_currency="USD")
    assert gate_reason(wishes, job) is None


def _jobs(titles, **facts):
    return [
        CandidateJob(
            id=n,
            title=title,
            company=f"Company {n}",
            location=None,
            description=f"We hire a {title.lower()}.",
            facts=PostingFacts(**facts),
        )
        for n, title in enumerate(titles, start=1)
    ]


def _user(user_id, roles, **wishes):
    return CandidateUser(
        user_id, " ".join(roles), f"h{user_id}", WishProfile(roles=roles, **wishes)
    )


TITLES = ["Python Developer", "Java Engineer", "Nurse", "Barber", "Data Engineer"] * 8


def test_each_user_keeps_only_the_best_postings_up_to_the_budget():
    config = CascadeConfig(user_share=0.1, max_per_user=3, shadow_rate=0.0)
    users = [_user(1, ["python engineer"]), _user(2, ["nurse"])]
    selection = select_candidates(users, _jobs(TITLES), config)

    kept = {(c.user_id, c.job_id) for c in selection.chosen if c.decision == KEPT}
    by_user = {user.id: [j for u, j in kept if u == user.id] for user in users}
    assert len(by_user[1]) == 3  # min(3, ceil(10% of 40))
    assert all(TITLES[j - 1] == "Python Developer" for j in by_user[1])
    assert all(TITLES[j - 1] == "Nurse" for j in by_user[2])
    # every considered pair is accounted for: kept or dropped with a reason
    assert selection.considered == 80
    assert selection.kept + selection.dropped == selection.considered


def test_pairs_without_a_word_in_common_are_never_kept():
    config = CascadeConfig(user_share=1.0, max_per_user=40, shadow_rate=0.0)
    selection = select_candidates([_user(1, ["barber"])], _jobs(TITLES), config)
    assert {TITLES[c.job_id - 1] for c in selection.chosen} == {"Barber"}
    assert selection.ranked_out == 32


def test_a_posting_goes_to_at_most_its_cap_of_users_the_most_relevant_first():
    config = CascadeConfig(user_share=1.0, max_per_user=40, max_users_per_posting=2, shadow_rate=0)
    users = [
        _user(1, ["data engineer"]),
        _user(2, ["data"]),
        _user(3, ["engineer python java nurse barber data"]),
    ]
    selection = select_candidates(users, _jobs(["Data Engineer"]), config)
    assert sorted(c.user_id for c in selection.chosen) == [1, 2]
    assert selection.capped == 1


def test_gated_pairs_are_counted_by_reason_and_never_kept():
    config = CascadeConfig(user_share=1.0, max_per_user=40, shadow_rate=0.0)
    users = [_user(1, ["python developer"], countries=["US"])]
    selection = select_candidates(users, _jobs(TITLES, country="FR", work_mode="onsite"), config)
    assert selection.chosen == []
    assert selection.gated == {GATE_COUNTRY: 40}


def test_pairs_chosen_before_are_not_decided_again_and_use_up_the_budget():
    config = CascadeConfig(user_share=0.1, max_per_user=3, shadow_rate=0.0)
    users = [_user(1, ["python developer"])]
    jobs = _jobs(TITLES)
    first = select_candidates(users, jobs, config)
    already = {(c.user_id, c.job_id): c.decision for c in first.chosen}
    second = select_candidates(users, jobs, config, already)
    assert second.chosen == []
    assert second.already_chosen == 3
    assert second.considered == 37


def test_the_shadow_sample_is_a_share_of_the_dropped_pairs_and_stable():
    config = CascadeConfig(user_share=0.01, max_per_user=1, shadow_rate=0.2)
    users = [_user(n, ["python developer"]) for n in range(1, 21)]
    jobs = _jobs(TITLES * 5)
    selection = select_candidates(users, jobs, config)
    shadow = [c for c in selection.chosen if c.decision == SHADOW]
    assert 0.15 < len(shadow) / selection.dropped < 0.25
    assert all(c.weight == pytest.approx(5.0) for c in shadow)
    again = select_candidates(users, jobs, config)
    assert [(c.user_id, c.job_id) for c in again.chosen if c.decision == SHADOW] == [
        (c.user_id, c.job_id) for c in shadow
    ]


@pytest.mark.parametrize(
    "field, value",
    [("user_share", 0.0), ("max_per_user", 0), ("max_users_per_posting", -1), ("shadow_rate", 2)],
)
def test_a_zero_cap_or_negative_budget_is_refused_naming_the_setting(field, value):
    with pytest.raises(ValueError, match=field):
        CascadeConfig(**{field: value})


def test_recall_estimate_weights_shadow_hits_by_their_sampling_rate():
    rows = [ScoredCandidate(1, "kept", 1.0, True)] * 18 + [
        ScoredCandidate(1, "shadow", 100.0, False)
    ] * 50
    assert estimate_recall(rows).recall == 1.0
    missed = rows + [ScoredCandidate(2, "shadow", 100.0, True)]
    estimate = estimate_recall(missed)
    assert estimate.recall == pytest.approx(18 / 118)
    assert estimate.shadow_hits == 1 and estimate.shadow_scored == 51
    assert estimate_recall([]).recall is None
