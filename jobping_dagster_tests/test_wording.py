import pytest

from jobping_dagster.wording import plural


@pytest.mark.parametrize(
    "count, words, expected",
    [
        (0, ("pair",), "0 pairs"),
        (1, ("pair",), "1 pair"),
        (2, ("run",), "2 runs"),
        (1, ("new match", "new matches"), "1 new match"),
        (272, ("new match", "new matches"), "272 new matches"),
        (3, ("failed company", "failed companies"), "3 failed companies"),
    ],
)
def test_counts_read_as_english(count, words, expected):
    assert plural(count, *words) == expected
