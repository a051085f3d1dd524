import dagster as dg

from jobping_dagster.llm.prices import DEFAULT_PRICES, Price, parse_prices
from jobping_dagster.matching.cascade import CascadeConfig


class PrefilterResource(dg.ConfigurableResource):
    """The cascade's budgets and the fan-out's bounds (JOBPING_PREFILTER_*, README)."""

    user_share: float = 0.08
    max_per_user: int = 40
    max_users_per_posting: int = 100
    shadow_rate: float = 0.002
    min_relevance: float = 0.015
    # Pair partitions older than this are deleted from Dagster; their rows stay.
    pair_retention_days: int = 14
    # Backpressure: no new match runs while this many are queued or running.
    max_active_match_runs: int = 8
    # JOBPING_LLM_PRICES: what users' calls cost, against their monthly budgets.
    llm_prices: str = DEFAULT_PRICES
    # JOBPING_BATCH_API, "off" unless OpenAI scores: which pairs go through the Batch API.
    batch_api: str = "off"

    def prices(self) -> dict[str, Price]:
        return parse_prices(self.llm_prices)

    def cascade_config(self) -> CascadeConfig:
        return CascadeConfig(
            user_share=self.user_share,
            max_per_user=self.max_per_user,
            max_users_per_posting=self.max_users_per_posting,
            shadow_rate=self.shadow_rate,
            min_relevance=self.min_relevance,
        )
