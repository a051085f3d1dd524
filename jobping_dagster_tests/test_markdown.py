"""Markdown tables for asset metadata (the Dagster UI renders them)."""

import numpy as np

from jobping_dagster.markdown import markdown_table


def test_rows_become_a_table_with_empty_cells_for_missing_values():
    rows = [
        {"site": "indeed", "rows in": 20, "accepted": 19, "salary": np.nan},
        {"site": "linkedin", "rows in": 0, "error": "blocked | 429\nretry later"},
    ]
    table = markdown_table(rows, ["site", "rows in", "accepted", "salary", "error"])

    lines = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table.split("\n")]
    assert lines[0] == ["site", "rows in", "accepted", "salary", "error"]
    assert set(table.split("\n")[1]) <= set("|:-")
    assert lines[2] == ["indeed", "20", "19", "", ""]  # an int stays an int: no "19.0"
    assert lines[3] == ["linkedin", "0", "", "", "blocked \\| 429 retry later"]


def test_long_cells_are_cut_and_text_is_not_read_as_numbers():
    table = markdown_table([{"a": "x" * 100, "b": "0.90"}], ["a", "b"], max_cell=10)
    assert "| xxxxxxxxx… |" in table
    assert "0.90" in table


def test_no_rows_is_a_header():
    assert markdown_table([], ["a", "b"]).split("\n")[0].split() == ["|", "a", "|", "b", "|"]
