"""A comment's most suspicious sentence, scored beside the whole comment for labels written in one sentence.

Spam on comment pages often opens on topic and turns in its last sentence: "this song is so addicting. the hook
is dope and catchy. I'm getting popular fast because i rap real.. thumbs up if you..." Mean-pooled over the
whole comment, the on-topic sentences outweigh the pitch. Left out of training, YouTube's comments (v17's
recipe, trained on SMS and the rest; one trained fold, rescored) scored spam ROC-AUC 0.958 by the whole comment;
as the higher of the whole comment and each of its sentences, 0.971. Encoding every sentence again would
roughly double the encoder's work, so only the sentence the n-gram model finds most like the label is encoded: 0.969
(SMS left out: 0.969 either way). Pooling each sentence's tokens out of the whole comment's own forward pass,
which costs nothing, reached only 0.966: the on-topic context leaks into every token.

Every picked sentence counts, even one the n-gram model calls clean. Encoded alone, short ordinary sentences
draw spam scores their whole message never had ("I will search online and let you know."): with SMS left out
(v18's fold network, rescored), 661 of 1,095 picked sentences raised their message's score. Counting a sentence
only where the n-gram model alone gives it calibrated log-odds of at least 0 took that fold from 0.9686 to
0.9699, but left-out YouTube from 0.9689 to 0.9610 (gate -2: 0.9694 and 0.9649; +1: 0.9693 and 0.9600): there
the encoder recognises pitches whose words the n-gram model, trained on SMS spam, has never seen.
"""

from __future__ import annotations

import re

import numpy as np

from models.lexical import LexicalModel

# A sentence ends at . ! ? followed by a space (not after a title, an initial or "e.g."), at a line break, or
# after ".." glued to the next word ("real..thumbs up").
_SENTENCE_END = re.compile(
    r"(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr|vs)\.)(?<!\bMrs\.)(?<!\b[A-Za-z]\.)(?<!\b[a-z]\.[a-z]\.)(?<=[.!?])\s+"
    r"|(?<=\.\.)(?=[^\s.])|\n+"
)
MIN_WORDS = 3  # shorter fragments ("Thanks.", "lol!") say too little to be judged alone
# Longer comments are scored passage by passage (scorer.passages), each passage a few sentences; defined here,
# where the scorer and the explainer take it from, since this module cannot import the scorer.
LONG_TEXT_CHARS = 1000


def sentences(text: str) -> list[str]:
    """The sentences of a comment of up to LONG_TEXT_CHARS that has two or more of MIN_WORDS words; else none."""
    if len(text) > LONG_TEXT_CHARS:
        return []
    found = [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if len(s.split()) >= MIN_WORDS]
    return found if len(found) > 1 else []


def most_suspicious(texts: list[str], lexical: LexicalModel, label: str) -> tuple[list[str], list[int]]:
    """Per comment with several sentences, the one the n-gram model scores highest for `label`, and the index
    of the comment it came from."""
    split = [sentences(text) for text in texts]
    flat = [s for parts in split for s in parts]
    if not flat:
        return [], []
    column = lexical.logits(flat)[:, lexical.labels.index(label)]
    picks = highest_of_each(split, column)
    return [flat[best] for best, _ in picks], [owner for _, owner in picks]


def highest_of_each(split: list[list[str]], column: np.ndarray) -> list[tuple[int, int]]:
    """(index into the flattened sentences, index of the comment) of each comment's highest-scoring sentence,
    for comments with sentences; `column` scores the flattened sentences in order."""
    picks: list[tuple[int, int]] = []
    start = 0
    for index, parts in enumerate(split):
        if parts:
            picks.append((start + int(np.argmax(column[start : start + len(parts)])), index))
            start += len(parts)
    return picks
