"""The local scorer's vocabulary and tokenizer, shared by everything that compares words.

One spelling per meaning: "developer" meets "engineer", "front-end" meets "frontend" and
"C++" stays one token. The wish reader, the keyword scorer and the pre-filter all tokenize
through `canonical`, so what a wish names is what a posting is searched for.
"""

from __future__ import annotations

import re

# Spelling variants joined into one token before tokenizing (applied to prompt and posting).
_PHRASES = [
    (r"\bc\+\+", "cpp"),
    (r"\bc#", "csharp"),
    (r"(?<![a-z])\.net\b", "dotnet"),
    (r"\b([a-z]+)\.js\b", r"\1"),
    (r"\bfull[\s-]?stack\b", "fullstack"),
    (r"\bfront[\s-]?end\b", "frontend"),
    (r"\bback[\s-]?end\b", "backend"),
    (r"\bdev[\s-]?ops\b", "devops"),
    (r"\be[\s-]commerce\b", "ecommerce"),
    (r"\bmachine[\s-]learning\b", "ml"),
    (r"\bartificial intelligence\b", "ai"),
    (r"\bon[\s-]?site\b|\bin[\s-]office\b|\bin[\s-]person\b", "onsite"),
    (r"\bwork(?:ing)? from home\b|\bwfh\b|\bfully distributed\b", "remote"),
    (r"\bmid[\s-]?level\b|\bmid[\s-]senior\b", "mid"),
    (r"\bentry[\s-]?level\b", "junior"),
    (r"\btech(?:nical)? lead\b", "lead"),
    (r"\bdo(?:n'?t| not) want\b|\bnot interested in\b|\bstay away from\b", "avoid"),
    (r"\bnew york(?: city)?\b", "newyork"),
    (r"\bsan francisco\b|\bbay area\b", "sanfrancisco"),
    (r"\blos angeles\b", "losangeles"),
    (r"\bunited states(?: of america)?\b", "unitedstates"),
    (r"\bunited kingdom\b|\bgreat britain\b", "unitedkingdom"),
]
_PHRASE_PATTERNS = [(re.compile(pattern), replacement) for pattern, replacement in _PHRASES]

# Same meaning, one spelling (after stemming).
_SYNONYMS = {
    "developer": "engineer",
    "programmer": "engineer",
    "dev": "engineer",
    "swe": "engineer",
    "golang": "go",
    "postgresql": "postgres",
    "js": "javascript",
    "ts": "typescript",
    "k8s": "kubernetes",
    "engineering": "engineer",
    "management": "manager",
    "mgr": "manager",
    "sr": "senior",
    "jr": "junior",
    "internship": "intern",
    "trainee": "intern",
    "graduate": "junior",
    "intermediate": "mid",
    "distinguished": "principal",
}

# How to show a joined token back to the user.
SPELLED = {"cpp": "c++", "csharp": "c#", "dotnet": ".net", "ml": "machine learning"}

SENIORITY_RANK = {
    "intern": 0,
    "junior": 1,
    "mid": 2,
    "senior": 3,
    "lead": 4,
    "staff": 4,
    "principal": 5,
}

NEGATORS = set(
    "no not avoid avoiding without except excluding exclude never non nothing nor".split()
)
# Inside a negation these continue it ("no crypto or gambling"); anything else content-free
# ends it after a few words. "and" ends it: "no crypto and remote" wants remote.
NEGATION_CONTINUES = {"or", "nor", "/", "any", "a", "an", "the", "more", "in", "at", "from"}
NEGATION_WORDS = 3

STOP_WORDS = set(
    """i im i'm me my we our you your a an the and or but of in on at to for with from by as
    is are be been being am it its this that these those into onto over than then so very
    want wants wanted wanting looking look seek seeking like would love prefer preferred
    preferably ideally interested need needs must should could can will also only just
    job jobs role roles position positions opportunity opportunities work working career
    based least minimum min max maximum salary pay paying paid compensation comp base
    year years yr yrs annual annually per month monthly hour hourly plus k etc something
    some any all good great nice new open anywhere world worldwide level experience exp
    company companies team teams time full part type kind sort place area please thanks
    eur usd gbp chf cad aud euro euros dollar dollars pound pounds around about approx
    up more less most""".split()
)


def normalize(text: str) -> str:
    """Lower-cased, with spelling variants joined into one token."""
    text = (text or "").lower()
    for pattern, replacement in _PHRASE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def raw_tokens(normalized: str) -> list[str]:
    """Words and numbers, and the punctuation that ends a clause or a list."""
    return re.findall(r"[a-z0-9]+|[,.;:!?()\n/]", normalized)


def canonical(token: str) -> str:
    """One spelling per meaning: synonyms merged, plurals stemmed."""
    token = _SYNONYMS.get(token, token)
    if len(token) > 4 and token.endswith("ies"):
        token = token[:-3] + "y"
    elif len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    return _SYNONYMS.get(token, token)


def terms(text: str | None) -> set[str]:
    """The canonical words of a text, punctuation dropped."""
    return {canonical(t) for t in raw_tokens(normalize(text or "")) if t[0].isalnum()}
