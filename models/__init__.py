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


def load(path: str | Path | None = None) -> Scorer:
    """Load the scorer from an artifact directory (default: the shipped one)."""
    from models.scorer import load as load_scorer

    return load_scorer(path)


def __getattr__(name: str) -> Any:
    if name == "Scorer":
        from models.scorer import Scorer

        return Scorer
    raise AttributeError(name)
