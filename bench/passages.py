"""How the passage size of long comments trades clean long comments held against insults buried in them.

A comment over LONG_TEXT_CHARS scores as its worst passage (models/scorer.passages). For each passage size this
scores, with the artifact's thresholds:
- the identity subset's rows of the artifact's validation and test splits (ROC-AUC of `toxicity`): the one
  source whose comments run long;
- every clean comment over LONG_TEXT_CHARS in those two splits (the share held), and the same comments each
  with 4 short insults spliced in at a random sentence break, one at a time (the share held, and ROC-AUC of
  spliced against clean). The insults are the splits' toxic Wikipedia and Davidson comments of 20 to 200
  characters that score 0.9 or more alone, so a miss is the passage's dilution, not a mild insult.
"Held" is at the toxicity threshold an artifact scoring at that size would get: refitted for each size as
training fits it (the lowest from 0.5 up reaching precision 0.8 on the validation split, scored as served).
The figures behind models/sentences.PASSAGE_WORDS. Artifacts trained on moderators' labels are refused:
their split cannot be drawn again from the data directory alone.

    python bench/passages.py --data-dir ../shared/data [--artifact DIR] [--sizes 25,50,80,100]

Last line: key=value pairs per size (clean_held_<n>, spliced_held_<n>).
"""

from __future__ import annotations

import argparse
import json
import random
import warnings
from pathlib import Path

import numpy as np

from models import data
from models.evaluate import artifact_sample
from models.metrics import roc_auc, threshold_for_precision
from models.paths import ARTIFACTS_DIR, DEFAULT_VERSION
from models.scorer import load
from models.sentences import LONG_TEXT_CHARS, splice_points, spliced
from models.train import TARGET_PRECISION

IDENTITY_SUBSET = "wikipedia_toxicity_identity_testsubset.csv"


def splits(artifact: Path, data_dir: Path) -> tuple[list[data.Row], list[data.Row]]:
    """The artifact's validation and test rows, drawn as its training drew them."""
    training = json.loads((artifact / "config.json").read_text())["training"]
    if training.get("extra_labels"):
        raise SystemExit(f"{artifact} was trained on moderators' labels too: its split is not drawn here")
    rows = data.load_rows(data_dir, shipped_only=True, **artifact_sample(training))  # as evaluate draws them
    _, valid, test = data.split(rows, (0.1, 0.15), seed=training["seed"])
    return valid, test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--artifact", type=Path, default=ARTIFACTS_DIR / DEFAULT_VERSION)
    parser.add_argument("--sizes", default="25,50,80,100", help="passage sizes in words, comma-separated")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    scorer = load(args.artifact, precision="fp32")  # the precision its thresholds were fitted in

    def toxicity(texts: list[str]) -> np.ndarray:
        return np.array([result["toxicity"] for result in scorer.score(texts, batch_size=64)])

    valid, test = splits(args.artifact, args.data_dir)
    both = valid + test
    clean_long = [r.text for r in both if r.label("toxicity") == 0 and len(r.text) > LONG_TEXT_CHARS]
    candidates = [
        r.text
        for r in both
        if r.label("toxicity") == 1 and r.source.startswith(("wikipedia", "davidson")) and 20 < len(r.text) < 200
    ]
    insults = [text for text, alone in zip(candidates, toxicity(candidates), strict=True) if alone >= 0.9]
    rng = random.Random(5)
    spliced_texts = []
    for text in clean_long:
        # at the start, the end or a break between sentences, keeping the comment's own breaks (line or space)
        breaks = splice_points(text)
        for _ in range(4):
            at = rng.choice(breaks)
            spliced_texts.append(spliced(text, rng.choice(insults), at))
    own = scorer.thresholds["toxicity"]
    print(f"{args.artifact.name}: toxicity threshold {own}, its own passages {scorer.passage_words} words")
    print(f"clean comments over {LONG_TEXT_CHARS} characters: {len(clean_long)}; insults: {len(insults)}")
    summary = []
    scored_valid = [r for r in valid if r.label("toxicity") is not None]
    valid_labels = np.array([r.label("toxicity") for r in scored_valid], dtype=np.float64)
    for size in (int(s) for s in args.sizes.split(",")):
        scorer.passage_words = size
        threshold = threshold_for_precision(valid_labels, toxicity([r.text for r in scored_valid]), TARGET_PRECISION)
        aucs = []
        for name, rows in (("validation", valid), ("test", test)):
            subset = [r for r in rows if r.source == IDENTITY_SUBSET]
            labels = np.array([r.label("toxicity") for r in subset])
            aucs.append(f"{name} {roc_auc(labels, toxicity([r.text for r in subset])):.4f}")
        clean, with_insult = toxicity(clean_long), toxicity(spliced_texts)
        both_auc = roc_auc(np.r_[np.zeros(len(clean)), np.ones(len(with_insult))], np.r_[clean, with_insult])
        held_clean, held_spliced = float(np.mean(clean >= threshold)), float(np.mean(with_insult >= threshold))
        print(
            f"{size:>4} words, threshold {threshold:.2f}: identity subset ROC-AUC {', '.join(aucs)};"
            f" held: clean {held_clean:.3f}, with an insult {held_spliced:.3f};"
            f" spliced against clean ROC-AUC {both_auc:.4f}"
        )
        summary += [f"clean_held_{size}={held_clean:.3f}", f"spliced_held_{size}={held_spliced:.3f}"]
    print(" ".join(summary))


if __name__ == "__main__":
    main()
