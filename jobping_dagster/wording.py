"""Counts that read as English in log lines and command output: "1 pair", "2 pairs"."""


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """`count` with `noun`, made plural unless the count is one (`plural_noun` for the
    irregular ones: "match" -> "matches", "company" -> "companies")."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"
