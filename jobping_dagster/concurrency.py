"""Running independent calls (LLM requests) side by side inside one run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


def map_concurrently(
    fn: Callable[[V], R], items: Iterable[tuple[K, V]], max_workers: int
) -> Iterator[tuple[K, R | None, Exception | None]]:
    """Yields (key, result, None) or (key, None, error) for each item as it completes, so
    the caller can write each result from one thread while the others are still working."""
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        futures = {pool.submit(fn, value): key for key, value in items}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result(), None
            except Exception as error:  # reported per item; the caller decides what is fatal
                yield futures[future], None, error
