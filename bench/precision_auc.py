"""Each label's ROC-AUC, probability movement and changed decisions of the shipped artifact in bf16 and int8
against fp32, on the same rows (the fixed test split and the unseen sources): the figures behind the formats
`auto` picks by CPU (models/encoder.py, to_precision). Per-source ROC-AUCs in a precision: CIVILITY_MODEL_PRECISION
with `civility evaluate`.

Needs the training data: python bench/precision_auc.py --data-dir ../shared/data
Last line: key=value pairs.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from models.paths import ARTIFACTS_DIR, DEFAULT_VERSION

OTHERS = ("bf16", "int8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--artifact", type=Path, default=ARTIFACTS_DIR / DEFAULT_VERSION)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import models
    from models.evaluate import fixed_split_rows
    from models.metrics import roc_auc
    from models.train import TRAINED_LABELS, served_probabilities

    test, unseen = fixed_split_rows(args.artifact, args.data_dir)
    rows = test + unseen
    probs = {}
    for precision in ("fp32", *OTHERS):
        scorer = models.load(args.artifact, precision=precision)
        probs[precision] = served_probabilities(scorer, rows)
    thresholds = np.array([scorer.thresholds.get(label, 0.5) for label in TRAINED_LABELS])
    summary: dict[str, object] = {}
    for other in OTHERS:
        moved = np.abs(probs[other] - probs["fp32"])
        changed = (probs[other] >= thresholds) != (probs["fp32"] >= thresholds)
        worst_auc = 0.0
        for j, label in enumerate(TRAINED_LABELS):
            line = f"{other} {label:16s} mean move {moved[:, j].mean():.4f} max {moved[:, j].max():.4f}"
            line += f" decisions changed {int(changed[:, j].sum())}/{len(rows)}"
            for name, part in (("test split", test), ("unseen", unseen)):
                offset = 0 if part is test else len(test)
                idx = [offset + i for i, r in enumerate(part) if r.label(label) is not None]
                y = np.array([rows[i].label(label) for i in idx])
                if len(set(y)) < 2:
                    continue
                base, fast = roc_auc(y, probs["fp32"][idx, j]), roc_auc(y, probs[other][idx, j])
                assert base is not None and fast is not None  # both classes are present
                worst_auc = max(worst_auc, abs(fast - base))
                line += f" | {name} ROC-AUC fp32 {base:.4f} {other} {fast:.4f}"
            print(line, flush=True)
        summary |= {
            f"{other}_max_abs_roc_auc_diff": f"{worst_auc:.4f}",
            f"{other}_mean_move": f"{moved.mean():.4f}",
            f"{other}_decisions_changed": int(changed.sum()),
        }
    print(" ".join(f"{key}={value}" for key, value in (summary | {"rows": len(rows)}).items()))


if __name__ == "__main__":
    main()
