"""Recall of the pre-filter cascade on a labeled set, against simple baselines in the same run.

    .venv/bin/python benchmarks/prefilter_recall.py [LABELS_DIR]

LABELS_DIR defaults to ../shared/fixtures/labels (dev_jobs.jsonl, dev_prompts.json,
dev_labels.csv). Runs the embedded default (local wish reader and scorer) through
`jobping eval`'s code, then ranks the same pairs with the baselines of the labeled set's
README (TF-IDF over the raw wish and "title. company. location. description[:1000]", each
wish keeping the same share of postings the cascade kept) and prints the cascade's recall of
70+ pairs next to theirs. Target: recall >= 0.95 while keeping <= 10% of pairs. The last
line is JSON."""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from jobping_dagster.llm.local.wish_reader import read_wishes_locally
from jobping_dagster.llm.resources import LocalLLMResource
from jobping_dagster.matching.cascade import CascadeConfig
from jobping_dagster.matching.evaluation import evaluate, report_lines
from jobping_dagster.matching.labeled_set import load_labeled_set

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "labels"


def baseline_recall(labeled, share: float, analyzer: str, ngrams: tuple[int, int]) -> float:
    """Each wish keeps its top `share` of postings by TF-IDF cosine of the raw texts."""
    texts = [
        f"{c.title}. {c.company}. {c.location or ''}. {(c.description or '')[:1000]}"
        for _, c, _ in labeled.jobs
    ]
    prompts = [prompt for _, prompt in labeled.prompts]
    vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True)
    vectorizer.fit(texts + prompts)
    scores = (vectorizer.transform(prompts) @ vectorizer.transform(texts).T).toarray()
    keep = max(1, round(share * len(texts)))
    found = positives = 0
    for i, (prompt_id, _) in enumerate(labeled.prompts):
        top = set(np.argsort(-scores[i], kind="stable")[:keep])
        for j, (key, _, _) in enumerate(labeled.jobs):
            if labeled.labels.get((key, prompt_id), 0) >= 70:
                positives += 1
                found += j in top
    return found / positives


def main(folder: Path) -> None:
    warnings.filterwarnings("ignore")
    labeled = load_labeled_set(
        folder / "dev_jobs.jsonl", folder / "dev_prompts.json", folder / "dev_labels.csv"
    )
    config = CascadeConfig()
    llm = LocalLLMResource()
    figures = evaluate(
        labeled, config, read_wishes_locally, lambda job, prompt: llm.score(job, prompt, None)
    )
    print("\n".join(report_lines(figures, "local scorer", config)))
    share = figures["kept_share"]
    char = baseline_recall(labeled, share, "char_wb", (3, 5))
    words = baseline_recall(labeled, share, "word", (1, 2))
    recall = figures["prefilter_recall"]
    print(f"\nat the same share kept ({share:.1%} of pairs):")
    print(f"  cascade                    recall {recall:.3f}")
    print(f"  TF-IDF char 3-5 grams      recall {char:.3f}  (cascade / this: {recall / char:.2f})")
    print(
        f"  TF-IDF words 1-2 grams     recall {words:.3f}  (cascade / this: {recall / words:.2f})"
    )
    target_met = recall >= 0.95 and figures["kept_share"] <= 0.10
    print(f"target recall >= 0.95 at <= 10% kept: {'met' if target_met else 'NOT met'}")
    print(
        json.dumps(
            {
                "kept_share": figures["kept_share"],
                "llm_calls_share": figures["llm_calls_share"],
                "recall": recall,
                "positives": figures["positives"],
                "positives_kept": figures["positives_kept"],
                "baseline_char_recall": round(char, 4),
                "baseline_word_recall": round(words, 4),
                "recall_ratio_vs_char": round(recall / char, 3),
                "shadow_estimate": figures["shadow_estimate"],
                "scorer_recall": figures["scorer_recall"],
                "scorer_precision": figures["scorer_precision"],
                "scorer_spearman": figures["scorer_spearman"],
                "target_met": target_met,
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR)
