"""ROC-AUC of the shipped artifact in fp32 and in bf16 on the same rows (the fixed test split and the
unseen source), so the faster precision is only used where it keeps ROC-AUC within 0.005 of fp32.

Needs the training data: python bench/precision_auc.py --data-dir ../shared/data
Last line: key=value pairs.
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

from models.paths import ARTIFACTS_DIR, DEFAULT_VERSION


def roc_aucs(report: dict, prefix: str = "") -> dict[str, float]:
    found: dict[str, float] = {}
    for key, value in report.items():
        if isinstance(value, dict):
            found |= roc_aucs(value, f"{prefix}{key}/")
        elif key == "roc_auc" and isinstance(value, float) and "alt-profanity-check" not in prefix:
            found[prefix.rstrip("/")] = value
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--artifact", type=Path, default=ARTIFACTS_DIR / DEFAULT_VERSION)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from models.evaluate import fixed_split

    results = {}
    for precision in ("fp32", "bf16"):
        os.environ["CIVILITY_MODEL_PRECISION"] = precision
        results[precision] = roc_aucs(fixed_split(args.artifact, args.data_dir))
    worst = 0.0
    for name, fp32 in sorted(results["fp32"].items()):
        bf16 = results["bf16"][name]
        worst = max(worst, abs(bf16 - fp32))
        print(f"{name:75s} fp32 {fp32:.4f}  bf16 {bf16:.4f}  {bf16 - fp32:+.4f}")
    print(f"max_abs_roc_auc_diff={worst:.4f} rows_compared={len(results['fp32'])}")


if __name__ == "__main__":
    main()
