"""The moderation model as a library: `load()` a scorer, then `score(texts)`.

Importing this package is cheap: torch and transformers load only with `load()`, so the web
process can use `LABELS` without pulling the model into memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.labels import LABELS

if TYPE_CHECKING:
    from pathlib import Path

    from models.scorer import Scorer

__all__ = ["LABELS", "Scorer", "load"]


def load(path: str | Path | None = None, precision: str | None = None) -> Scorer:
    """Load a scorer: our artifact directory (default: the shipped one), or any Hugging Face
    sequence-classification model's directory, its `id2label` mapped onto our labels.

    `precision`: auto (bf16 where the CPU computes it natively, else int8 with AVX512-VNNI, else fp32), fp32,
    bf16 or int8; default from CIVILITY_MODEL_PRECISION, else auto. A Hugging Face model runs in the format
    it was saved in."""
    from models.scorer import load as load_scorer

    return load_scorer(path, precision)


def recommended_thresholds(path: str | Path | None = None) -> dict[str, float]:
    """The artifact's per-label thresholds, read from its config without loading torch."""
    import json
    from pathlib import Path

    from models.paths import default_artifact_dir

    config = Path(path or default_artifact_dir()) / "config.json"
    try:
        return {k: float(v) for k, v in json.loads(config.read_text()).get("thresholds", {}).items()}
    except (OSError, ValueError):
        return {}


def __getattr__(name: str) -> Any:
    if name == "Scorer":
        from models.scorer import Scorer

        return Scorer
    raise AttributeError(name)
