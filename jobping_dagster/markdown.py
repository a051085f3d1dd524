"""Markdown tables for asset metadata previews (the Dagster UI renders them)."""

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd


def _cell(value: object, max_cell: int) -> str:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    # A "|" would end the cell and a newline the row: tabulate escapes neither.
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= max_cell else text[: max_cell - 1] + "…"


def markdown_table(rows: Iterable[Mapping], columns: Sequence[str], max_cell: int = 60) -> str:
    """`rows` as a markdown table of `columns`; a key a row lacks is an empty cell."""
    # dtype=object keeps ints as ints where another row lacks the key (no "5.0").
    frame = pd.DataFrame(list(rows), columns=list(columns), dtype=object)
    cells = frame.map(lambda value: _cell(value, max_cell))
    # Cells are text already: tabulate must not reformat "0.90" or "1e5" as numbers.
    return cells.to_markdown(index=False, disable_numparse=True)
