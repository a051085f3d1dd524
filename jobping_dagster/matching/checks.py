import dagster as dg
import pydantic
import sqlalchemy as sa

from jobping_dagster.db.resource import AppDatabase
from jobping_dagster.db.schema import user_job_matches
from jobping_dagster.llm.models import MatchAnalysis
from jobping_dagster.matching.assets import user_job_matches as user_job_matches_asset

CHECK_MATCHES_VALID = "matches_have_valid_scores_and_analysis"


@dg.asset_check(asset=user_job_matches_asset, name=CHECK_MATCHES_VALID)
def matches_have_valid_scores_and_analysis(app_db: AppDatabase) -> dg.AssetCheckResult:
    """Every stored match has a score from 0 to 100 and a complete analysis (explanation,
    pros, cons, recommendation)."""
    invalid = []
    total = 0
    query = sa.select(
        user_job_matches.c.partition_key, user_job_matches.c.score, user_job_matches.c.analysis
    )
    with app_db.engine().connect() as conn:
        for row in conn.execute(query):
            total += 1
            try:
                MatchAnalysis.model_validate({**(row.analysis or {}), "score": row.score})
            except (pydantic.ValidationError, TypeError) as error:
                invalid.append(f"{row.partition_key}: {error.__class__.__name__}")
    return dg.AssetCheckResult(
        passed=not invalid,
        metadata={"matches": total, "invalid": len(invalid), "invalid_examples": invalid[:20]},
    )
