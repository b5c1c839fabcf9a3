"""A comment's most suspicious sentence, scored beside the whole comment for labels written in one sentence.

Spam on comment pages often opens on topic and turns in its last sentence: "this song is so addicting. the hook
is dope and catchy. I'm getting popular fast because i rap real.. thumbs up if you..." Mean-pooled over the
whole comment, the on-topic sentences outweigh the pitch. Left out of training, YouTube's comments (v17's
recipe, trained on SMS and the rest; one trained fold, rescored) scored spam ROC-AUC 0.958 by the whole comment;
as the higher of the whole comment and each of its sentences, 0.971. Encoding every sentence again would
roughly double the encoder's work, so only the sentence the n-gram model finds most like the label is encoded: 0.969
(SMS left out: 0.969 either way). Pooling each sentence's tokens out of the whole comment's own forward pass,
which costs nothing, reached only 0.966: the on-topic context leaks into every token.

Up to v19 every picked sentence counted, even one the n-gram model called clean. Encoded alone, short ordinary
sentences draw spam scores their whole message never had ("I will search online and let you know."): with SMS
left out (v18's fold network, rescored), 661 of 1,095 picked sentences raised their message's score. Counting a
sentence only where the n-gram model alone gives it calibrated log-odds of at least 0 took that fold from 0.9686
to 0.9699, but left-out YouTube from 0.9689 to 0.9610 (gate -2: 0.9694 and 0.9649; +1: 0.9693 and 0.9600): there
the encoder recognises pitches whose words the n-gram model, trained on SMS spam, has never seen.

Since v20 a sentence far below that is neither counted nor encoded (`sentence_gate`, calibrated log-odds -5): on an
ordinary comment the picked sentence is plainly not spam to the n-gram model, and encoding it alone was the one
cost the scorer had beyond the first version's. On bench/workload.py's 1,024 comments, scored one at a time as the
service scores them (long ones passage by passage), the encoder read 79,794 tokens in v1 and 91,132 in v19; with
the gate, 79,859: only 13 of those sentences (65 tokens) are still encoded. Measured before choosing -5:
- Left-out spam sources, networks of v19's recipe (1 epoch, caps x0.3, one network per fold rescored at each
  gate): YouTube message style ROC-AUC 0.9581 ungated, 0.9578 at -5 (13% of its picked sentences skipped), 0.9581
  at -4, 0.9576 at -2; SMS 0.9705, 0.9703 (12% skipped), 0.9699, 0.9708. The gates that cost v18's fold networks
  (above) cost these next to nothing; v19's sentence rows, which train the encoder on those sentences alone, may be
  why, but these networks are smaller than v18's, and no network of this size without the rows was measured.
- v19 itself on its fixed test split and unseen sources, as served: of 4,371 picked sentences (4,283 comments),
  -5 skipped 65% and changed no decision at 0.5. Of the 4,257 comments of up to 1,000 characters, 41 clean ones'
  scores fell by more than 0.01 (at most 0.22): raises their ordinary sentence alone had drawn. One skipped
  sentence was a spam comment's (one passage of a long one, whose score another passage kept at 0.99). At -4, 81%
  skipped, but 2 decisions changed; so -5. That choice was made on v19's test split, which is v20's too, so v20's
  figures there slightly favour the gate.
"""

from __future__ import annotations

import re
from typing import Any

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
# Words per passage (runs of whole sentences). The service keeps a long comment's worst passage, and the more
# passages, the more chances one calm passage scores high. `bench/passages.py` on v21 (its validation and test
# splits; the threshold refitted for each size as training fits it: 0.68 at 25 words, 0.67 at 80): of the 56
# clean comments there over LONG_TEXT_CHARS, 25-word passages held 8 (0.143; v21's test split holds 0.057 of all
# its clean comments), 80-word ones 3 (0.054); the identity subset's test split ranked at ROC-AUC 0.954 and 0.970.
# The cost: of those comments with a short insult (scoring 0.9 or more alone) spliced in at a random sentence
# break, 4 each, 0.982 were held at 25 words and 0.897 at 80 (50: 0.089 clean, 0.978 spliced; 100: 0.018, 0.790).
# Those comments' 80-word passages average 64 words and 96 tokens, 9 in 10 under 116: inside the 128 tokens that
# the shipped recipe trains on of each comment (`TrainConfig.max_length`). Chosen on v20's scores at its threshold,
# where the figures were alike (80: 0.036 clean, 0.884 spliced).
PASSAGE_WORDS = 80
PASSAGE_WORDS_BEFORE_V21 = 25  # artifacts that record none: their thresholds were fitted to passages this long
# Where a long comment's passages may break: after . ! ? and a space, or at a line break.
PASSAGE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")


def splice_points(text: str) -> list[int]:
    """Where a sentence can be spliced into `text` whole: its start, each passage break and its end."""
    return [0, *(match.start() for match in PASSAGE_BREAK.finditer(text)), len(text)]


def spliced(text: str, insert: str, at: int) -> str:
    """`text` with `insert` put in at `at` (one of `splice_points`), keeping the break that was there."""
    return f"{text[:at]} {insert} {text[at:]}".strip()


def passage_sentences(text: str, words_per_passage: int) -> list[list[tuple[int, int]]]:
    """Character bounds of the sentences of each passage of `text`: runs of whole sentences of up to
    `words_per_passage` words (a longer sentence is a passage alone). The scorer scores these passages and the
    explainer looks for spans in them, so both read the same ones."""
    pieces, position = [], 0
    for match in PASSAGE_BREAK.finditer(text):
        pieces.append((position, match.start()))
        position = match.end()
    pieces.append((position, len(text)))
    groups: list[list[tuple[int, int]]] = []
    current: list[tuple[int, int]] = []
    words = 0
    for begin, end in pieces:
        piece = text[begin:end]
        begin, end = begin + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())
        if begin >= end:
            continue
        length = len(text[begin:end].split())
        if current and words + length > words_per_passage:
            groups.append(current)
            current, words = [], 0
        current.append((begin, end))
        words += length
    if current:
        groups.append(current)
    return groups


def sentences(text: str) -> list[str]:
    """The sentences of a comment of up to LONG_TEXT_CHARS that has two or more of MIN_WORDS words; else none."""
    if len(text) > LONG_TEXT_CHARS:
        return []
    found = [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if len(s.split()) >= MIN_WORDS]
    return found if len(found) > 1 else []


def most_suspicious(
    texts: list[str],
    lexical: LexicalModel,
    label: str,
    blend_parts: dict[str, Any] | None = None,
    gate: float | None = None,
) -> tuple[list[str], list[int]]:
    """Per comment with several sentences, the one the n-gram model scores highest for `label`, and the index
    of the comment it came from; with a `gate`, only those `sentence_counts` passes (`blend_parts` calibrates)."""
    split = [sentences(text) for text in texts]
    flat = [s for parts in split for s in parts]
    if not flat:
        return [], []
    column = lexical.logits(flat)[:, lexical.labels.index(label)]
    picks = highest_of_each(split, column)
    if gate is not None:
        if blend_parts is None:
            raise ValueError("a sentence gate needs the blend's calibration of the n-gram model")
        picks = [(best, owner) for best, owner in picks if sentence_counts(column[best], blend_parts[label], gate)]
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


def sentence_counts(lexical_logit: float, blend_parts: dict[str, Any], gate: float | None) -> bool:
    """Whether a picked sentence is encoded and counted: always without a gate, else where the n-gram model alone
    gives it calibrated log-odds of at least `gate`."""
    if gate is None:
        return True
    lexical = blend_parts["lexical"]
    return bool(lexical["a"] * float(lexical_logit) + lexical["b"] >= gate)
