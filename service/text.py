"""Normalise text for word matching, so banned words can't hide behind case, accents or look-alikes."""

from __future__ import annotations

import re
import unicodedata

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))
# Cyrillic and Greek letters that render like Latin ones, and the usual digit and symbol stand-ins.
LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁɡοαεικνρτυχ0134578@$!|",
    "aeopcyxijsdgoaeikvptuxoieastbasii",
)


def fold(text: str) -> str:
    """Lower-case, accent-free, zero-width-free text with look-alike characters mapped to Latin."""
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.translate(LOOKALIKES)


def matched_words(text: str, words: list[str]) -> list[str]:
    """The listed words or phrases that occur in `text` as whole words, after folding both."""
    folded = fold(text)
    found = []
    for word in words:
        target = fold(word).strip()
        if target and re.search(r"(?<![a-z0-9])" + re.escape(target) + r"(?![a-z0-9])", folded):
            found.append(word)
    return found
