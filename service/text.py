"""Normalise text for word matching, so banned words can't hide behind case, accents or look-alikes."""

from __future__ import annotations

import re
import unicodedata

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))
# Cyrillic and Greek letters that render like Latin ones.
LETTER_LOOKALIKES = str.maketrans("аеорсухіјѕԁɡοαεικνρτυχ", "aeopcyxijsdgoaeikvptux")
# Digits and symbols used as stand-ins for letters ("sh!t", "$cum", "1d10t").
STAND_INS = str.maketrans("0134578@$!|", "oieastbasii")
# The stand-ins that are never punctuation at the end of a word ("!" and "|" can be).
LETTERLIKE_STAND_INS = str.maketrans("0134578@$", "oieastbas")
_STAND_IN_BEFORE_WORD_CHAR = re.compile(r"[0134578@$!|](?=[^\W_])")


def fold_letters(text: str) -> str:
    """Lower-case, accent-free, zero-width-free text with look-alike letters mapped to Latin."""
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.translate(LETTER_LOOKALIKES)


def fold(text: str) -> str:
    """`fold_letters`, with every digit and symbol stand-in mapped to its letter too."""
    return fold_letters(text).translate(STAND_INS)


def foldings(text: str) -> set[str]:
    """The readings a word filter must try (a few, each cheap).

    Mapping every stand-in alone is wrong for punctuation: "idiot!" would read "idioti" and slip past a
    filter for "idiot" (hypothesis found this). So the text is also read with no stand-ins mapped, and
    with only those followed by a letter or digit, as inside a word ("sh!t", "1d10t!").
    """
    letters = fold_letters(text)
    inner = _STAND_IN_BEFORE_WORD_CHAR.sub(lambda m: m.group().translate(STAND_INS), letters)
    return {letters, inner, letters.translate(LETTERLIKE_STAND_INS), letters.translate(STAND_INS)}


def matched_words(text: str, words: list[str]) -> list[str]:
    """The listed words or phrases that occur in `text` as whole words, after folding both."""
    readings = foldings(text)
    found = []
    for word in words:
        # A listed "b1tch" or "a$$hole" stands for every spelling of its letters too.
        targets = {t for t in (fold_letters(word).strip(), fold(word).strip()) if t}
        patterns = [re.compile(r"(?<![a-z0-9])" + re.escape(t) + r"(?![a-z0-9])") for t in targets]
        if any(p.search(reading) for p in patterns for reading in readings):
            found.append(word)
    return found
