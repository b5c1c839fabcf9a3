"""Character spans that drive a score, found by occlusion, in Perspective's spanScores shape.

Why occlusion: removing a span and re-scoring measures that span's effect on *this* model's output
directly, in the units of the score itself, for any model; attention weights or gradients only
correlate with it. Its known limit is redundancy: two insults in one comment each look less
important alone than together, so a span's score is a lower bound on its weight.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

_WORD = re.compile(r"\S+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
MAX_UNITS = 64
MIN_DROP = 0.02
MAX_SPANS = 8


class ScoresTexts(Protocol):
    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]: ...


def units(text: str, max_units: int = MAX_UNITS) -> list[tuple[int, int]]:
    """Words, or sentences for a text with too many words to occlude one by one."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if len(words) <= max_units:
        return words
    sentences = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]
    return sentences[:max_units]


def explain(
    scorer: ScoresTexts, text: str, labels: list[str], base: dict[str, float] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """For each label: the spans whose removal lowers its probability most, strongest first."""
    spans = units(text)
    if not spans or not labels:
        return {label: [] for label in labels}
    base = base or scorer.score([text])[0]
    occluded = scorer.score([text[:begin] + text[end:] for begin, end in spans])
    result: dict[str, list[dict[str, Any]]] = {}
    for label in labels:
        drops = [
            {"begin": begin, "end": end, "score": round(base[label] - scores[label], 4)}
            for (begin, end), scores in zip(spans, occluded, strict=True)
            if base[label] - scores[label] >= MIN_DROP
        ]
        result[label] = sorted(drops, key=lambda span: -span["score"])[:MAX_SPANS]
    return result
