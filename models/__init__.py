"""The moderation model as a library: `load()` a scorer, then `score(texts)`."""

from models.labels import LABELS
from models.scorer import Scorer, load

__all__ = ["LABELS", "Scorer", "load"]
