"""Does the word "hate" decide toxicity? Threshold-free, on OLID's tweets (never trained on), for each artifact given.

    python bench/hate_word_auc.py --data-dir ../shared/data models/artifacts/v19 [OTHER_ARTIFACT ...]

The card's `hate_word` table counts flags at each artifact's own threshold, so two artifacts with different
thresholds are compared there by their thresholds as much as by their reading of the word. Here, in fp32:
- `clean_vs_clean_auc`: clean tweets saying "hate" ranked against clean tweets not saying it (0.5: the word moves
  nothing; v19 0.789);
- `saying_auc` / `others_auc`: offensive against clean, among the tweets saying it (all of them) and among 1,500 not
  saying it (a fixed sample);
- flag rates of the clean tweets saying it at the artifact's threshold and at 0.68 (v19's).
One line per artifact: key=value pairs.
"""

from __future__ import annotations

import argparse
import csv
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

import models
from models import data
from models.evaluate import OLID_FILE

V19_THRESHOLD = 0.68


def toxicity(scorer: Any, rows: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Each tweet's toxicity and whether OLID calls it offensive."""
    scored = scorer.score([data.normalize(r["text"]) for r in rows])
    return np.array([s["toxicity"] for s in scored]), np.array([r["subtask_a"] == "OFF" for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("artifacts", nargs="+")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with open(args.data_dir / OLID_FILE, newline="", encoding="utf-8") as handle:
        tweets = [r for r in csv.DictReader(handle) if r.get("subtask_a") in ("NOT", "OFF")]
    saying = [r for r in tweets if data.HATE_WORD.search(r["text"])]
    others = [r for r in tweets if not data.HATE_WORD.search(r["text"])]
    random.Random(5).shuffle(others)
    others = others[:1500]
    for path in args.artifacts:
        scorer = models.load(path, precision="fp32")
        threshold = scorer.thresholds.get("toxicity", 0.5)

        said, said_offensive = toxicity(scorer, saying)
        other, other_offensive = toxicity(scorer, others)
        clean_said, clean_other = said[~said_offensive], other[~other_offensive]
        figures = {
            "artifact": path,
            "threshold": threshold,
            "clean_vs_clean_auc": roc_auc_score(
                np.r_[np.ones(len(clean_said)), np.zeros(len(clean_other))], np.r_[clean_said, clean_other]
            ),
            "saying_auc": roc_auc_score(said_offensive, said),
            "others_auc": roc_auc_score(other_offensive, other),
            "clean_saying_n": len(clean_said),
            "clean_saying_flagged": float((clean_said >= threshold).mean()),
            "clean_saying_flagged_at_068": float((clean_said >= V19_THRESHOLD).mean()),
            "clean_others_flagged": float((clean_other >= threshold).mean()),
        }
        print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
