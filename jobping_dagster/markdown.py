"""Markdown tables for asset metadata previews (pandas' to_markdown needs an extra package)."""

from collections.abc import Iterable, Mapping, Sequence


def markdown_table(rows: Iterable[Mapping], columns: Sequence[str], max_cell: int = 60) -> str:
    def cell(value) -> str:
        text = "" if value is None else str(value)
        text = text.replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= max_cell else text[: max_cell - 1] + "…"

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)
