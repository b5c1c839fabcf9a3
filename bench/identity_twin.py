"""Would averaging a comment with its identity-neutral twin lower the identity false-positive rate, and at what cost?

    python bench/identity_twin.py --data-dir ../shared/data [--artifact models/artifacts/v21] [--weights 0 0.2 0.5]

A serving-time form of counterfactual logit pairing (Garg et al. 2019; `civility train --counterfactual-pairing`
is the training-time one): a comment naming a listed identity scores toxicity as (1 - w) * its own log-odds + w *
the log-odds of the same comment with every identity replaced by a neutral word (`data.without_identity`, "a gay
man" -> "a local man"). Nothing is retrained; the threshold is refitted on the validation split for precision 0.8,
as training fits it. Every comment is scored as served, in fp32. For each weight and split (validation, the fixed
test split, the unseen sources), one line of key=value pairs: the threshold, false-positive rates of clean comments
overall and of those naming an identity, recall overall and on toxic comments naming one (with counts), and
ROC-AUC overall and per source. `--show W` also prints every comment whose decision differs between weight W and
weight 0, each at its own threshold (where the threshold moves, comments naming no identity flip too).
"""

from __future__ import annotations

import argparse
import json
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from passages import splits as passage_splits  # bench/ is on the path when this runs as a script

import models
from models import data
from models.data import IDENTITY_PATTERN
from models.evaluate import _shipped, artifact_sample
from models.metrics import roc_auc, threshold_for_precision
from models.paths import default_artifact_dir
from models.train import TARGET_PRECISION


def log_odds(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))  # type: ignore[no-any-return]


def splits(artifact: Path, data_dir: Path) -> dict[str, list[data.Row]]:
    """The artifact's validation and test splits (bench/passages.py draws them as training did) and the sources it
    never saw, each with their toxicity-labelled rows only."""
    training = json.loads((artifact / "config.json").read_text())["training"]
    valid, test = passage_splits(artifact, data_dir)
    unseen_sample = artifact_sample(training) | {"balance_identity": False, "balance_hate_word": False}
    unseen = [r for r in data.load_rows(data_dir, shipped_only=False, **unseen_sample) if not _shipped(r.source)]
    return {
        name: [r for r in rows if r.label("toxicity") is not None]
        for name, rows in (("validation", valid), ("test", test), ("unseen", unseen))
    }


def toxicity_log_odds(scorer: Any, rows: list[data.Row]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Toxicity log-odds as written, those of the neutral twin (the same where no identity is named), and whether
    one is named."""
    texts = [r.text for r in rows]
    written = log_odds(np.array([s["toxicity"] for s in scorer.score(texts)]))
    named = np.array([bool(IDENTITY_PATTERN.search(t)) for t in texts])
    rng = random.Random("identity_twin")
    twin_texts = [data.without_identity(texts[i], rng) for i in np.flatnonzero(named)]
    twins = written.copy()
    twins[named] = log_odds(np.array([s["toxicity"] for s in scorer.score(twin_texts)]))
    return written, twins, named


def share(flagged: np.ndarray, rows: np.ndarray) -> str:
    """The share of `rows` flagged, with its counts: the subgroups are small enough that counts matter."""
    return f"{flagged[rows].mean():.3f}({int(flagged[rows].sum())}/{int(rows.sum())})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--artifact", type=Path, default=default_artifact_dir())
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3, 0.5])
    parser.add_argument(
        "--show",
        type=float,
        default=None,
        help="print the comments decided otherwise at this weight than at 0, each at its own threshold",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    scorer = models.load(args.artifact, precision="fp32")
    rows = splits(args.artifact, args.data_dir)
    scored = {name: toxicity_log_odds(scorer, split_rows) for name, split_rows in rows.items()}
    truth = {name: np.array([r.label("toxicity") for r in split_rows]) for name, split_rows in rows.items()}

    def probabilities(name: str, weight: float) -> np.ndarray:
        written, twins, _ = scored[name]
        return 1 / (1 + np.exp(-((1 - weight) * written + weight * twins)))  # type: ignore[no-any-return]

    for weight in args.weights:
        threshold = threshold_for_precision(truth["validation"], probabilities("validation", weight), TARGET_PRECISION)
        for name, split_rows in rows.items():
            probs, y, named = probabilities(name, weight), truth[name], scored[name][2]
            flagged, clean, toxic = probs >= threshold, y == 0, y == 1
            parts = [
                f"weight={weight}",
                f"split={name}",
                f"threshold={threshold:.2f}",
                f"fpr_clean={flagged[clean].mean():.3f}",
                f"fpr_naming={share(flagged, clean & named)}",
                f"recall={flagged[toxic].mean():.3f}",
                f"recall_naming={share(flagged, toxic & named)}",
                f"auc={roc_auc(y, probs):.4f}",
            ]
            for source in sorted({r.source for r in split_rows}):
                idx = [i for i, r in enumerate(split_rows) if r.source == source]
                if (auc := roc_auc(y[idx], probs[idx])) is not None:
                    parts.append(f"auc[{source.removesuffix('.csv')}]={auc:.4f}")
            print(" ".join(parts), flush=True)
    if args.show is not None:
        before = threshold_for_precision(truth["validation"], probabilities("validation", 0.0), TARGET_PRECISION)
        after = threshold_for_precision(truth["validation"], probabilities("validation", args.show), TARGET_PRECISION)
        for name, split_rows in rows.items():
            was, now = probabilities(name, 0.0) >= before, probabilities(name, args.show) >= after
            for i in np.flatnonzero(was != now):
                kind = "toxic" if truth[name][i] == 1 else "clean"
                print(f"{name} {kind} {'held->passed' if was[i] else 'passed->held'} {split_rows[i].text[:160]!r}")


if __name__ == "__main__":
    main()
