"""Read the labelled CSVs of the shared data directory into per-label, deduplicated example lists."""

from __future__ import annotations

import csv
import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Example:
    text: str
    label: int
    source: str


@dataclass(frozen=True)
class Source:
    """One CSV file feeding one label; `keep` filters rows, `cap` limits rows per class."""

    file: str
    target: str
    cap: int = 3000

    def keep(self, row: dict[str, str]) -> bool:
        # Toxic Spans posts most raters called "not actually toxic" are borderline, not positives.
        return row.get("spans_majority_not_toxic", "0") != "1"


# Shipped-artifact sources only: licences that allow redistribution (README of shared/data).
# OLID and OffComBR state no licence, the hotel reviews are non-commercial, and the Korean
# comments are outside the English encoder's reach, so none of them trains the shipped model.
TOXICITY_SOURCES = (
    Source("civil_comments_toxic_posts_toxicspans.csv", "toxicity"),
    Source("wikipedia_talk_toxicity_cat.csv", "toxicity"),
    Source("wikipedia_toxicity_identity_testsubset.csv", "toxicity"),
    Source("davidson_hate_offensive_tweets.csv", "toxicity", cap=2000),
)
SPAM_SOURCES = (
    Source("youtube_spam_collection_4videos.csv", "spam"),
    Source("sms_spam_collection.csv", "spam", cap=2000),
)
# Ordinary comments are what comment spam must be told apart from: clean Wikipedia talk
# comments and toxic news comments both count as "not spam".
SPAM_NEGATIVE_SOURCES = (
    Source("wikipedia_talk_toxicity_cat.csv", "spam", cap=1500),
    Source("civil_comments_toxic_posts_toxicspans.csv", "spam", cap=1000),
)
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Collapse whitespace so duplicates that differ only in spacing count as one."""
    return _WHITESPACE.sub(" ", text).strip()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_source(data_dir: Path, source: Source, only_negatives: bool = False) -> list[Example]:
    """Deduplicated examples of one source; texts with conflicting labels are dropped."""
    labels: dict[str, set[int]] = {}
    with open(data_dir / source.file, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = normalize(row["text"])
            if text and source.keep(row):
                label = 0 if only_negatives else int(row["label"])
                labels.setdefault(text, set()).add(label)
    return [Example(text, next(iter(ls)), source.file) for text, ls in labels.items() if len(ls) == 1]


def capped(examples: list[Example], cap: int, rng: random.Random) -> list[Example]:
    """At most `cap` examples of each class, so no source's class balance dominates."""
    out: list[Example] = []
    for label in (0, 1):
        group = [e for e in examples if e.label == label]
        rng.shuffle(group)
        out.extend(group[:cap])
    return out


def dataset(data_dir: Path, target: str, seed: int = 13, cap_scale: float = 1.0) -> list[Example]:
    """Every example for one label, balanced across sources."""
    rng = random.Random(seed)
    sources = TOXICITY_SOURCES if target == "toxicity" else SPAM_SOURCES
    examples: list[Example] = []
    for source in sources:
        examples.extend(capped(read_source(data_dir, source), max(1, int(source.cap * cap_scale)), rng))
    if target == "spam":
        for source in SPAM_NEGATIVE_SOURCES:
            negatives = [e for e in read_source(data_dir, source, only_negatives=True)]
            examples.extend(capped(negatives, max(1, int(source.cap * cap_scale)), rng))
    return examples


def split(examples: list[Example], test_fraction: float, seed: int = 13) -> tuple[list[Example], list[Example]]:
    """A fixed train/test split stratified by source and class."""
    rng = random.Random(seed)
    train: list[Example] = []
    test: list[Example] = []
    groups: dict[tuple[str, int], list[Example]] = {}
    for e in examples:
        groups.setdefault((e.source, e.label), []).append(e)
    for key in sorted(groups):
        group = groups[key]
        rng.shuffle(group)
        n_test = int(len(group) * test_fraction)
        test.extend(group[:n_test])
        train.extend(group[n_test:])
    return train, test


def used_files(data_dir: Path) -> dict[str, str]:
    """SHA-256 of every file that trains the shipped artifact."""
    files = {s.file for s in TOXICITY_SOURCES + SPAM_SOURCES + SPAM_NEGATIVE_SOURCES}
    return {f: file_sha256(data_dir / f) for f in sorted(files)}
