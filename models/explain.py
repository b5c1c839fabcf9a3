"""Character spans that drive a score, found by occlusion, in Perspective's spanScores shape.

Why occlusion: removing a span and re-scoring measures that span's effect on *this* model's output
directly, in the units of the score itself, for any model; attention weights or gradients only
correlate with it. Its known limit is redundancy: in "pathetic idiot ... worthless garbage" removing
any one insult leaves the others, so each alone barely moves the score. So occlusion runs greedily:
remove the most important span, re-occlude what remains, and repeat until the score has halved; the
spans removed together share the drop they caused.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

_WORD = re.compile(r"\S+")
LONG_TEXT_CHARS = 1000  # as models.scorer: longer texts are scored passage by passage
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
MAX_UNITS = 64
MIN_DROP = 0.02
# A span must also carry a quarter of the strongest span's weight: beside an insult worth 0.19, v6 gave
# "park." and "The" of the calm sentence before it 0.03 each, which highlighted noise for the moderator.
RELATIVE_MIN_DROP = 0.25
MAX_SPANS = 8
GREEDY_ROUNDS = 4


class ScoresTexts(Protocol):
    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]: ...


def units(text: str, max_units: int = MAX_UNITS) -> list[tuple[int, int]]:
    """Words, or sentences for a text with too many words to occlude one by one."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if len(words) <= max_units:
        return words
    sentences = [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]
    return sentences[:max_units]


def _without(text: str, spans: list[tuple[int, int]], removed: set[int]) -> str:
    out, position = [], 0
    for index in sorted(removed, key=lambda i: spans[i][0]):
        begin, end = spans[index]
        out.append(text[position:begin])
        position = end
    return "".join(out) + text[position:]


def _greedy(
    scorer: ScoresTexts,
    text: str,
    spans: list[tuple[int, int]],
    label: str,
    base: float,
    first_round: list[dict[str, float]],
) -> dict[int, float]:
    """Remove the most important span until the score halves; the removed spans share the drop.

    `first_round` is each span occluded alone, which the caller has already scored for every label.
    """
    removed: list[int] = []
    current = base
    for round_number in range(GREEDY_ROUNDS):
        candidates = [i for i in range(len(spans)) if i not in removed]
        if not candidates or current < base / 2:
            break
        if round_number == 0:
            scores = first_round
        else:
            scores = scorer.score([_without(text, spans, {*removed, i}) for i in candidates])
        best = max(range(len(candidates)), key=lambda k: current - scores[k][label])
        if scores[best][label] >= current:
            break
        removed.append(candidates[best])
        current = scores[best][label]
    if not removed:
        return {}
    share = (base - current) / len(removed)
    return {index: share for index in removed}


def passage_bounds(text: str, max_words: int = 25) -> list[tuple[int, int]]:
    """Character bounds of runs of sentences of about `max_words` words."""
    bounds: list[tuple[int, int]] = []
    begin: int | None = None
    end = words = 0
    for match in _SENTENCE.finditer(text):
        if not match.group().strip():
            continue
        length = len(match.group().split())
        if begin is not None and words + length > max_words:
            bounds.append((begin, end))
            begin, words = None, 0
        if begin is None:
            begin = match.start()
        end, words = match.end(), words + length
    if begin is not None:
        bounds.append((begin, end))
    return bounds


def explain(
    scorer: ScoresTexts, text: str, labels: list[str], base: dict[str, float] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """For each label: the spans whose removal lowers its probability most, strongest first.

    A long comment scores as its worst passage, so its spans are found inside that passage: occluding
    words of the whole text would cost a full re-scoring of every passage per word.
    """
    if len(text) > LONG_TEXT_CHARS and len(bounds := passage_bounds(text)) > 1:
        scores = scorer.score([text[b:e] for b, e in bounds])
        result = {}
        for label in labels:
            k = max(range(len(bounds)), key=lambda i: scores[i].get(label, 0.0))
            begin, end = bounds[k]
            inner = _explain_short(scorer, text[begin:end], [label], scores[k])[label]
            result[label] = [dict(s, begin=s["begin"] + begin, end=s["end"] + begin) for s in inner]
        return result
    return _explain_short(scorer, text, labels, base)


def _explain_short(
    scorer: ScoresTexts, text: str, labels: list[str], base: dict[str, float] | None = None
) -> dict[str, list[dict[str, Any]]]:
    spans = units(text)
    if not spans or not labels:
        return {label: [] for label in labels}
    base = base or scorer.score([text])[0]
    occluded = scorer.score([_without(text, spans, {i}) for i in range(len(spans))])
    result: dict[str, list[dict[str, Any]]] = {}
    for label in labels:
        weight = {i: base[label] - scores[label] for i, scores in enumerate(occluded)}
        for index, share in _greedy(scorer, text, spans, label, base[label], occluded).items():
            weight[index] = max(weight[index], share)
        cutoff = max(MIN_DROP, RELATIVE_MIN_DROP * max(weight.values()))
        found = [
            {"begin": spans[i][0], "end": spans[i][1], "score": round(w, 4)} for i, w in weight.items() if w >= cutoff
        ]
        result[label] = sorted(found, key=lambda span: -span["score"])[:MAX_SPANS]
    return result
