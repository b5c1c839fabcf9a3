"""A lexical model beside the encoder: hashed word and character n-grams, one logistic regression per label.

Why a second model: spam is written in formulas ("check out my channel", "subscribe", "visit my site") whose
exact words and spellings carry over from one place to another better than a sentence embedding does. Left
out of training, YouTube's comments (trained on SMS spam and the hand-written rows) scored spam ROC-AUC 0.834
by the fine-tuned encoder alone and 0.925 by this model alone. The two are blended as the mean of their
calibrated log-odds (`blend`): each model's Platt scaling is fitted on the validation split, but the equal
weights between them were fixed before measuring, not fitted there; the validation split is in-distribution
and would favour whichever model fits the training sources closest.

Features are hashed, so the artifact stores no vocabulary: only each feature's idf and each label's weights.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

LEXICAL_FILE = "lexical.safetensors"
# Per analyzer. v13's training rows fill 57% of the word buckets and 67% of the character ones, so many
# n-grams share a weight with another; 2^18 keeps the file at 2 MB, and the rows that mark spam are few and
# formulaic enough that the folds' figures above were measured with these collisions.
N_FEATURES = 2**18
# Character n-grams within word boundaries catch spellings that words miss ("fr33", "c0ck", "youtube.com/...").
WORDS = HashingVectorizer(n_features=N_FEATURES, ngram_range=(1, 2), alternate_sign=False, norm=None)
CHARACTERS = HashingVectorizer(
    n_features=N_FEATURES, analyzer="char_wb", ngram_range=(2, 5), alternate_sign=False, norm=None
)
# CHARACTERS' n-grams never cross a space, so a text's counts are the sum of its words'. `character_counts` keeps
# each word's; this vectorizer reads a word already lowercased with the rest of its text, so it skips a second pass.
WORD_CHARACTERS = HashingVectorizer(
    n_features=N_FEATURES, analyzer="char_wb", ngram_range=(2, 5), alternate_sign=False, norm=None, lowercase=False
)
# The cache is bounded by its n-grams, not by its words: a 10,000-character token alone has ~28,000. Filled from
# Wikipedia talk comments it held 33,953 words and 991,412 n-grams in 23 MB. "Words" over CACHED_WORD_CHARS (links,
# pasted blobs) are rarely seen twice and are never kept, and a full cache is emptied rather than frozen, so it keeps
# up with the words comments use now.
CACHED_NGRAMS = 1_000_000
CACHED_WORD_CHARS = 40
_word_ngrams: dict[str, tuple[np.ndarray, np.ndarray]] = {}
_cached_ngrams = 0
REGULARIZATION_C = 4.0
DIGIT = re.compile(r"\d")
DIGIT_RUN = re.compile(r"\d+")
# How the n-gram model reads digits (an artifact's config names its way: the weights only fit text read so).
DIGITS_RAW, DIGITS_EACH, DIGITS_RUNS, DIGITS_ROUND = "raw", "each", "runs", "round"  # to v13, v14, v15, from v16
DIGIT_READINGS = (DIGITS_RAW, DIGITS_EACH, DIGITS_RUNS, DIGITS_ROUND)
# A run of this many digits or more is a phone number, a shortcode or a prize code rather than a year or a count.
LONG_RUN = 5
# ...unless it is a round number: up to three significant digits, then zeros ("12000", "1000000000").
ROUND_NUMBER = re.compile(r"[1-9][0-9]{0,2}0+")


def digit_shapes(text: str) -> str:
    """Every digit read as 0 (v14): a phone number, a price or a prize code says "spam" by its shape, not its value.

    Read raw, the weights went to the training sources' own shortcodes and to the random letters and digits of
    short links. With v13's folds (its encoder logits saved, only the n-gram model refitted), shapes took
    left-out SMS from 0.945 to 0.958 and moved the YouTube folds by -0.007 to +0.001, and the share of 800
    Davidson tweets with a link that the n-gram model alone put at 0.5 or more fell in five folds of six (SMS
    0.285 to 0.206, Eminem 0.603 to 0.386). Links replaced by a placeholder token did the opposite: every
    link looked alike, so every link looked like spam (0.285 to 0.351, Eminem 0.603 to 0.744)."""
    return DIGIT.sub("0", text)


def digit_runs(text: str) -> str:
    """Each run of digits read as one of two shapes (v15): "0" up to four digits, "00000" from five.

    Read digit by digit, a year shared its n-grams ("0000") with every phone number and shortcode, so v14 put "2015
    I like video" at spam 0.78 and "My grandfather worked at the mill from 1962 to 1991." at 0.14 (v15: 0.48 and
    0.02). Years, counts, prices and times are ordinary in honest comments; runs of five digits or more are what SMS
    spam's numbers have and honest comments rarely do, though a five-digit count now reads like a phone number
    ("Population grew by 12000 between 2010 and 2020.": v14 0.57, v15 0.79). Refitting only the n-gram model on
    v14's fold encoders (full recipe, same rows), runs took left-out YouTube message style from 0.946 to 0.953, SMS
    from 0.965 to 0.966 and the LMFAO video from 0.964 to 0.965. Of seven readings tried on the first two (raw, each
    digit, runs split at 4, at 5, at 4 and 7, years alone as a word), this one was the best on YouTube and within
    0.001 of the best on SMS."""
    return DIGIT_RUN.sub(lambda run: "0" if len(run.group()) < LONG_RUN else "0" * LONG_RUN, text)


def digit_runs_round(text: str) -> str:
    """As `digit_runs` (v16), but a long run that is a round number reads as a short one: it is a count.

    By length alone, v15 read "12000" and "1000000000" like a phone number: "Population grew by 12000 between
    2010 and 2020." scored spam 0.79 and was held. Phone numbers and shortcodes are seldom three digits and
    zeros, and where they start with 0 (as UK numbers do) they stay long. Refitting only the n-gram model on
    v15's folds (same rows; the YouTube fold with its encoder logits saved): left-out YouTube message style
    0.9534 to 0.9526 blended, and by the n-gram model alone SMS 0.9436 to 0.9441 and the LMFAO video 0.9578 to
    0.9612. Shipped (v16), the first now scores 0.08, "The city spent 250000 dollars on the new bridge." 0.01 and
    "1000000000 views." 0.01, while "Call 08712404000 now to claim your 2000 prize" stays at 1.0. What it gives
    up: a shortcode such as 86000 now reads like a count."""

    def read(run: re.Match[str]) -> str:
        digits = run.group()
        return "0" if len(digits) < LONG_RUN or ROUND_NUMBER.fullmatch(digits) else "0" * LONG_RUN

    return DIGIT_RUN.sub(read, text)


def read_digits(texts: list[str], digits: str) -> list[str]:
    if digits == DIGITS_EACH:
        return [digit_shapes(text) for text in texts]
    if digits == DIGITS_RUNS:
        return [digit_runs(text) for text in texts]
    if digits == DIGITS_ROUND:
        return [digit_runs_round(text) for text in texts]
    if digits == DIGITS_RAW:
        return texts
    raise ValueError(f"unknown digit reading {digits!r}; known: {', '.join(DIGIT_READINGS)}")


def recorded_digits(described: dict[str, Any], key: str = "digits", older_key: str = "digit_shapes") -> str:
    """The digit reading a config records; before v15 it was a flag: v14 read each digit as 0, v13 raw."""
    if key in described:
        return str(described[key])
    return DIGITS_EACH if described.get(older_key) else DIGITS_RAW


def character_counts(texts: list[str]) -> sparse.csr_matrix:
    """`CHARACTERS.transform(texts)`, the same numbers, with each word's n-grams hashed once while it stays cached.

    One comment and its sentences spent 0.54 ms a call in sklearn's character n-grams, two thirds of the n-gram
    model's time, mostly building and hashing the n-gram strings of the same everyday words again. Over 3,000
    Wikipedia talk comments and their sentences, from an empty cache: 0.24 ms each against sklearn's 0.36. A word
    not cached yet costs more than in sklearn (60 words never seen: 0.66 ms against 0.39)."""
    global _cached_ngrams
    words_of = [text.lower().split() for text in texts]
    unseen = list(dict.fromkeys(word for words in words_of for word in words if word not in _word_ngrams))
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if unseen:
        rows = WORD_CHARACTERS.transform(unseen)
        for row, word in enumerate(unseen):
            start, end = rows.indptr[row], rows.indptr[row + 1]
            # Copies: a view would keep this call's whole matrix alive for as long as one word stays cached.
            found[word] = (rows.indices[start:end].copy(), rows.data[start:end].copy())
    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    indptr = [0]
    total = 0
    for words in words_of:
        for word in words:
            word_indices, word_values = _word_ngrams.get(word) or found[word]
            indices.append(word_indices)
            values.append(word_values)
            total += len(word_indices)
        indptr.append(total)
    for word, (word_indices, word_values) in found.items():
        if len(word) <= CACHED_WORD_CHARS:
            if _cached_ngrams + len(word_indices) > CACHED_NGRAMS:
                _word_ngrams.clear()
                _cached_ngrams = 0
            _word_ngrams[word] = (word_indices, word_values)
            _cached_ngrams += len(word_indices)
    matrix = sparse.csr_matrix(
        (
            np.concatenate(values) if values else np.zeros(0),
            np.concatenate(indices) if indices else np.zeros(0, dtype=np.int32),
            np.asarray(indptr),
        ),
        shape=(len(texts), N_FEATURES),
    )
    matrix.sum_duplicates()  # also sorts each row's indices, as sklearn's own transform leaves them
    return matrix


def counts(texts: list[str], digits: str) -> sparse.csr_matrix:
    """Sub-linear n-gram counts: log(1 + count), so a word repeated ten times is not ten times the evidence.
    `digits`: how digits are read (`read_digits`)."""
    texts = read_digits(texts, digits)
    matrix = sparse.hstack([WORDS.transform(texts), character_counts(texts)]).tocsr()
    matrix.data = np.log1p(matrix.data)
    return matrix


def as_stored(values: np.ndarray) -> np.ndarray:
    """Rounded as the file stores them (fp16 halves it), so training calibrates the model the service runs."""
    return values.astype(np.float16).astype(np.float32)  # type: ignore[no-any-return]


class LexicalModel:
    """TF-IDF over hashed n-grams and a linear head per label; `logits` gives uncalibrated log-odds."""

    def __init__(self, labels: tuple[str, ...], idf: np.ndarray, weight: np.ndarray, bias: np.ndarray, digits: str):
        expected = ((2 * N_FEATURES,), (len(labels), 2 * N_FEATURES), (len(labels),))
        if (idf.shape, weight.shape, bias.shape) != expected:
            raise ValueError(
                f"lexical model of shapes idf {idf.shape}, weight {weight.shape}, bias {bias.shape} does not fit"
                f" {len(labels)} label(s) over {2 * N_FEATURES} hashed features"
            )
        self.labels = labels
        self.idf = as_stored(idf)
        self.weight = as_stored(weight)
        # The TF-IDF rows are float64, and scipy converted a float32 weight (4 MB per label) to float64 on every
        # call: 240 µs, against 6 µs for the product itself. Converted once here, the logits are the same bits.
        self.weight_t = self.weight.T.astype(np.float64)
        self.bias = bias.astype(np.float32)
        read_digits([], digits)  # an unknown reading fails here, not at the first comment
        self.digits = digits

    def tf_idf(self, matrix: sparse.csr_matrix) -> sparse.csr_matrix:
        """Counts to TF-IDF rows of unit length, in place. Scaled through the sparse arrays themselves: a
        diagonal idf matrix of 2^19 entries cost ~20 ms per call, more than the n-grams of a whole batch."""
        matrix.data *= self.idf[matrix.indices]
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(rows, weights=matrix.data**2, minlength=matrix.shape[0]))
        matrix.data /= np.maximum(norms, 1e-12)[rows]
        return matrix

    def logits(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.asarray(self.tf_idf(counts(texts, self.digits)) @ self.weight_t) + self.bias

    @classmethod
    def fit(
        cls,
        texts: list[str],
        targets: dict[str, np.ndarray],
        digits: str = DIGITS_ROUND,
        row_weights: np.ndarray | None = None,
    ) -> LexicalModel:
        """One logistic regression per label on the rows with a target for it (NaN: no target).

        A soft target t enters as two copies of the row, positive with weight t and negative with 1 - t, both
        times the row's own weight (`row_weights`, default 1: a light hand-written row must be light here too)."""
        from sklearn.linear_model import LogisticRegression

        raw = counts(texts, digits)
        document_frequency = np.bincount(raw.indices, minlength=raw.shape[1])
        idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1  # scikit-learn's smoothed idf
        weight, bias = np.zeros((len(targets), raw.shape[1])), np.zeros(len(targets))
        matrix = cls(tuple(targets), idf, weight, bias, digits).tf_idf(raw)
        for j, (label, target) in enumerate(targets.items()):
            rows = np.flatnonzero(~np.isnan(target))
            if rows.size == 0:
                raise ValueError(f"no training row has a {label} target")
            y = np.r_[np.ones(rows.size), np.zeros(rows.size)]
            row_weight = np.ones(rows.size) if row_weights is None else row_weights[rows]
            w = np.r_[target[rows] * row_weight, (1 - target[rows]) * row_weight]
            keep = w > 0
            regression = LogisticRegression(C=REGULARIZATION_C, max_iter=2000)
            regression.fit(sparse.vstack([matrix[rows], matrix[rows]])[keep], y[keep], sample_weight=w[keep])
            weight[j], bias[j] = regression.coef_[0], regression.intercept_[0]
        return cls(tuple(targets), idf, weight, bias, digits)

    def save(self, directory: Path) -> None:
        tensors: dict[str, np.ndarray] = {
            "idf": self.idf.astype(np.float16),
            "weight": self.weight.astype(np.float16),
            "bias": self.bias,
        }
        save_file(tensors, str(directory / LEXICAL_FILE))

    @classmethod
    def load(cls, directory: Path, labels: tuple[str, ...], digits: str) -> LexicalModel:
        """`digits` comes from the artifact's config: the weights only fit text read the way they were fitted."""
        tensors = load_file(str(directory / LEXICAL_FILE))
        return cls(labels, tensors["idf"], tensors["weight"], tensors["bias"], digits)


def blend(
    encoder_logits: np.ndarray,
    labels: tuple[str, ...],
    lexical_logits: np.ndarray,
    lexical_labels: tuple[str, ...],
    parts: dict[str, Any],
) -> np.ndarray:
    """The encoder's log-odds with each lexical label replaced by the mean of both models' calibrated log-odds.

    `parts[label]` holds the Platt parameters of each model alone (fitted on the validation split); the mean
    is calibrated again afterwards like any head."""
    out = np.array(encoder_logits, dtype=np.float64, copy=True)
    for k, label in enumerate(lexical_labels):
        j = labels.index(label)
        encoder_side = parts[label]["encoder"]["a"] * out[:, j] + parts[label]["encoder"]["b"]
        lexical_side = parts[label]["lexical"]["a"] * lexical_logits[:, k] + parts[label]["lexical"]["b"]
        out[:, j] = (encoder_side + lexical_side) / 2
    return out
