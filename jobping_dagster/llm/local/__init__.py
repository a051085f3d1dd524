"""Deterministic stand-ins for the LLM that need no network and no API key: the keyword
scorer (`scorer`), the researcher that uses only what the job boards said (`researcher`),
and the wish reader (`wish_reader`). They share one vocabulary (`vocabulary`), so what the
wish reader reads is what the scorer and the pre-filter compare."""
