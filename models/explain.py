"""Character spans that drive a score, in Perspective's spanScores shape: Shapley values over words.

Why Shapley values: plain occlusion (remove one word, re-score) measures only what each word is
*necessary* for, and fails on the comments moderators most need explained. In "You are a pathetic idiot
and a worthless piece of garbage. Shut your stupid mouth." each insult suffices alone, so removing any one
leaves the score where it was (v10: 0.844, no single word moved it more than 0.013) and nothing was shown.
A word's Shapley value is its average effect on the score when it is added to the comment, over every
order in which the comment's words could be put back one at a time. Shapley's axioms are what a moderator
needs of a share: words with the same effect get the same share (so redundant insults share the credit
instead of cancelling out), a word that never moves the score gets none, and the shares add up exactly to
the comment's score minus the score of the text with every word taken out. It is measured on this model's
own output, in the score's own units.

Every order is too many, so orders are sampled, each beside its reverse (antithetic pairs lower the
variance: a word put back early in one is put back late in the other; Mitchell et al., "Sampling
permutations for Shapley value estimation", JMLR 2022). The sums stay exact, but equal words get equal
shares only on average: the sample decides the order of near-equal spans. It is seeded by the number of
words, so the same comment always gets the same spans. Cost: about `MAX_TEXTS` short texts scored per
comment (up to 65 x `MIN_ORDERS` for the longest), and once per distinct worst passage of a long comment.
"""

from __future__ import annotations

import random
import re
from typing import Any, Protocol

# longer texts are scored passage by passage, as the scorer does
from models.sentences import LONG_TEXT_CHARS, PASSAGE_WORDS, passage_sentences

_WORD = re.compile(r"\S+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
MAX_UNITS = 64
MIN_SHARE = 0.02
# A span must also carry a quarter of the strongest span's share: beside an insult worth 0.19, v6 gave
# "park." and "The" of the calm sentence before it 0.03 each, which highlighted noise for the moderator.
RELATIVE_MIN_SHARE = 0.25
MAX_SPANS = 8
# Orders sampled per comment, and the cap on texts scored for them. At 32 orders the spans of a 15-word
# comment were stable across seeds; at 8, "idiot" moved between 0.01 and 0.09 from one seed to the next.
# Comments of 40 words or more get MIN_ORDERS, noisier but within the compatibility API's 5 s deadline.
ORDERS = 32
MAX_TEXTS = 512
MIN_ORDERS = 12


class ScoresTexts(Protocol):
    def score(self, texts: list[str], batch_size: int = 32) -> list[dict[str, float]]: ...


def units(text: str, max_units: int = MAX_UNITS) -> list[tuple[int, int]]:
    """Words, or sentences for a text with too many words to weigh one by one."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    if len(words) <= max_units:
        return words
    # a sentence's span starts at its first word, not at the space before it, so the highlight is the sentence
    sentences = [(m.start() + len(m.group()) - len(m.group().lstrip()), m.end()) for m in _SENTENCE.finditer(text)]
    return [(begin, end) for begin, end in sentences if begin < end][:max_units]


def without(text: str, spans: list[tuple[int, int]], removed: set[int]) -> str:
    out, position = [], 0
    for index in sorted(removed, key=lambda i: spans[i][0]):
        begin, end = spans[index]
        out.append(text[position:begin])
        position = end
    return "".join(out) + text[position:]


def shapley_values(
    scorer: ScoresTexts, text: str, spans: list[tuple[int, int]], full_scores: dict[str, float] | None = None
) -> list[dict[str, float]]:
    """Each span's Shapley value for every label, estimated from sampled antithetic orders.

    Within each order the values add up to score(text) - score(text without every span), so the estimate
    keeps that sum exactly. `full_scores`: the whole text's scores from this scorer, when the caller has them.
    """
    n = len(spans)
    pairs = max(MIN_ORDERS, min(ORDERS, MAX_TEXTS // (n + 1))) // 2
    rng = random.Random(n)
    orders: list[list[int]] = []
    for _ in range(pairs):
        order = list(range(n))
        rng.shuffle(order)
        orders += [order, order[::-1]]
    everything = frozenset(range(n))
    # Orders share their first and last texts (nothing, everything) and sometimes more: score each once.
    wanted = {frozenset(order[:k]) for order in orders for k in range(n + 1)}
    known = {everything: full_scores} if full_scores is not None else {}
    todo = [kept for kept in wanted if kept not in known]
    scored = scorer.score([without(text, spans, set(everything - kept)) for kept in todo])
    known.update(zip(todo, scored, strict=True))
    labels = [label for label in known[frozenset()] if label in known[everything]]
    values = [dict.fromkeys(labels, 0.0) for _ in range(n)]
    for order in orders:
        before = known[frozenset()]
        for k, index in enumerate(order):
            after = known[frozenset(order[: k + 1])]
            for label in labels:
                values[index][label] += (after[label] - before[label]) / len(orders)
            before = after
    return values


def passage_bounds(text: str, max_words: int) -> list[tuple[int, int]]:
    """Character bounds of the passages the scorer reads at `max_words` words (models/scorer.passages)."""
    return [(group[0][0], group[-1][1]) for group in passage_sentences(text, max_words)]


def explain(
    scorer: ScoresTexts, text: str, labels: list[str], base: dict[str, float] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """For each label: the spans with the largest shares of its probability, strongest first.

    A long comment scores as its worst passage, so its spans are found inside that passage: sampling
    orders over the words of the whole text would re-score every passage for each of thousands of texts.
    """
    # The scorer's own passages (an artifact before v21 has shorter ones). A Hugging Face model reads no passages
    # (it reads a comment's first 256 tokens): its long comments are searched in the recipe's, for one to explain.
    words = getattr(scorer, "passage_words", PASSAGE_WORDS)
    if len(text) > LONG_TEXT_CHARS and len(bounds := passage_bounds(text, words)) > 1:
        scores = scorer.score([text[b:e] for b, e in bounds])
        labels_by_passage: dict[int, list[str]] = {}
        for label in labels:
            worst = max(range(len(bounds)), key=lambda i: scores[i].get(label, 0.0))
            labels_by_passage.setdefault(worst, []).append(label)
        result = {}
        for k, passage_labels in labels_by_passage.items():
            begin, end = bounds[k]
            inner = _explain_short(scorer, text[begin:end], passage_labels, scores[k])
            for label, spans in inner.items():
                result[label] = [dict(s, begin=s["begin"] + begin, end=s["end"] + begin) for s in spans]
        return {label: result[label] for label in labels}
    return _explain_short(scorer, text, labels, base)


def _explain_short(
    scorer: ScoresTexts, text: str, labels: list[str], base: dict[str, float] | None = None
) -> dict[str, list[dict[str, Any]]]:
    spans = units(text)
    if not spans or not labels:
        return {label: [] for label in labels}
    values = shapley_values(scorer, text, spans, base)
    result: dict[str, list[dict[str, Any]]] = {}
    for label in labels:
        shares = [value.get(label, 0.0) for value in values]
        cutoff = max(MIN_SHARE, RELATIVE_MIN_SHARE * max(shares))
        found = [
            {"begin": b, "end": e, "score": round(share, 4)}
            for (b, e), share in zip(spans, shares, strict=True)
            if share >= cutoff
        ]
        result[label] = sorted(found, key=lambda span: -span["score"])[:MAX_SPANS]
    return result
