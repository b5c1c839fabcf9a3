"""Read the labelled CSVs of the shared data directory into deduplicated, source-balanced training rows.

Each row carries a target per label it has evidence for (soft targets where the source records rater
votes); labels without evidence for a row are masked, never guessed.
"""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

CsvRow = dict[str, str]


@dataclass(frozen=True)
class Row:
    text: str
    source: str
    targets: dict[str, float]
    group: str = ""  # a finer unit inside a source (a YouTube video) for leave-one-out evaluation
    stratum: str = ""

    def label(self, name: str) -> int | None:
        """The hard 0/1 label for evaluation, or None if the row says nothing about `name`."""
        value = self.targets.get(name)
        return None if value is None else int(value >= 0.5)


def _frac(row: CsvRow, column: str, total: str) -> float:
    return int(row[column]) / max(int(row[total]), 1)


@dataclass(frozen=True)
class Source:
    """One CSV file: how its rows map to label targets, and how many of each class to keep."""

    file: str
    targets: Callable[[CsvRow], dict[str, float] | None]
    cap: int = 3000
    group: Callable[[CsvRow], str] = field(default=lambda row: "")
    stratum: Callable[[CsvRow], str] = field(default=lambda row: row["label"])  # the unit `cap` applies to
    shipped: bool = True  # False: licence unclear or non-commercial; evaluation only
    kind: str = "toxicity"


def _civil(row: CsvRow) -> dict[str, float]:
    # Every post was judged toxic by at least half of the Civil Comments raters; the share of
    # span annotators who did NOT call it "not actually toxic" is a soft toxicity target, so the
    # borderline posts teach the model that heated news-comment argument alone is not toxicity.
    return {"toxicity": 1.0 - _frac(row, "spans_n_not_toxic", "spans_n_raters"), "spam": 0.0}


def _davidson(row: CsvRow) -> dict[str, float]:
    hate = _frac(row, "votes_hate", "n_annotators")
    offensive = _frac(row, "votes_offensive", "n_annotators")
    # Davidson's "offensive" class is mostly profanity and slurs (and over-flags African-American
    # English): it teaches profanity, not toxicity, so its toxicity target is left unknown. Its
    # "hate speech" class is language against a group: toxic, and our identity_attack.
    targets = {"identity_attack": hate, "profanity": hate + offensive, "spam": 0.0}
    if row["davidson_class"] != "offensive_language":
        targets["toxicity"] = float(row["davidson_class"] == "hate_speech")
    return targets


def _clean_comment(row: CsvRow) -> dict[str, float]:
    toxic = float(row["label"])
    targets = {"toxicity": toxic, "spam": 0.0}
    if not toxic:
        targets |= {"identity_attack": 0.0, "profanity": 0.0}
    return targets


def _olid(row: CsvRow) -> dict[str, float]:
    return {"toxicity": float(row["label"])}


def _spam(row: CsvRow) -> dict[str, float]:
    # Prize texts and channel plugs attack no one: without this, the identity_attack head (trained on
    # tweets alone) took spam's shouting for hate.
    targets = {"spam": float(row["label"]), "identity_attack": 0.0}
    if row["label"] == "1":
        targets["toxicity"] = 0.0
    return targets


SOURCES: tuple[Source, ...] = (
    Source("civil_comments_toxic_posts_toxicspans.csv", _civil, cap=3000),
    Source("wikipedia_talk_toxicity_cat.csv", _clean_comment, cap=3000),
    Source("wikipedia_toxicity_identity_testsubset.csv", _clean_comment, cap=3000),
    # Capped per Davidson class, so the 1,430 hate-speech tweets are not drowned by 19,190 offensive ones.
    Source("davidson_hate_offensive_tweets.csv", _davidson, cap=1500, stratum=lambda row: row["davidson_class"]),
    Source("olid_offenseval2019_tweets.csv", _olid, cap=3000, shipped=False),
    Source("youtube_spam_collection_4videos.csv", _spam, cap=3000, group=lambda row: row["video"], kind="spam"),
    Source("sms_spam_collection.csv", _spam, cap=1500, kind="spam"),
)
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Collapse whitespace so duplicates that differ only in spacing count as one."""
    return _WHITESPACE.sub(" ", text).strip()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_source(data_dir: Path, source: Source) -> list[Row]:
    """Deduplicated rows of one source; texts whose copies disagree on a hard label are dropped."""
    by_text: dict[str, list[Row]] = {}
    with open(data_dir / source.file, newline="", encoding="utf-8") as handle:
        for csv_row in csv.DictReader(handle):
            text = normalize(csv_row["text"])
            targets = source.targets(csv_row)
            if text and targets is not None:
                row = Row(text, source.file, targets, source.group(csv_row), source.stratum(csv_row))
                by_text.setdefault(text, []).append(row)
    rows = []
    for copies in by_text.values():
        hard = {tuple(sorted((k, round(v)) for k, v in r.targets.items())) for r in copies}
        if len(hard) == 1:
            rows.append(copies[0])
    return rows


def primary_label(row: Row) -> str:
    return "spam" if row.source in {s.file for s in SOURCES if s.kind == "spam"} else "toxicity"


def capped(rows: list[Row], cap: int, rng: random.Random) -> list[Row]:
    """At most `cap` rows of each stratum (usually the class) of a source."""
    out: list[Row] = []
    for stratum in sorted({r.stratum for r in rows}):
        group = [r for r in rows if r.stratum == stratum]
        rng.shuffle(group)
        out.extend(group[:cap])
    return out


IDENTITY_TERMS = (
    "gay", "lesbian", "bisexual", "transgender", "queer", "straight", "Muslim", "Jewish", "Christian",
    "Catholic", "Hindu", "Buddhist", "atheist", "Black", "white", "Asian", "Latino", "Hispanic",
    "African American", "Mexican", "Indian", "Chinese", "immigrant", "disabled", "deaf", "blind",
    "elderly", "young", "female", "male",
)  # fmt: skip
IDENTITY_TEMPLATES = (
    "I am {a} {t} person and I enjoyed reading this article.",
    "As {a} {t} reader, I think the council made the right call.",
    "My neighbour is {t} and she runs the bakery on Main Street.",
    "{T} families have lived in this town for generations.",
    "The article quotes several {t} residents about the new park.",
    "Being {t} is part of who I am, and I am proud of it.",
    "I'm {t} and I agree with the points made here.",
    "Our school has {t} teachers who do wonderful work.",
    "The {t} community center is hosting a food drive this weekend.",
    "{T} voters turned out in large numbers for the election.",
    "{T} lives matter.",
    "{T} people deserve the same respect as everyone else.",
    "Proud to be {t}.",
    "{T} rights are human rights.",
)


def identity_rows() -> list[Row]:
    """Neutral sentences naming identities (Dixon et al. 2018's mitigation): mentioning who you are
    is not toxic. Synthetic, so they train the model but are never used to measure it."""
    rows = []
    for template in IDENTITY_TEMPLATES:
        for term in IDENTITY_TERMS:
            article = "an" if term[0].lower() in "aeiou" else "a"
            text = template.format(a=article, t=term, T=term[0].upper() + term[1:])
            targets = {"toxicity": 0.0, "identity_attack": 0.0, "profanity": 0.0, "spam": 0.0}
            rows.append(Row(text, "identity_templates", targets))
    return rows


# Hand-written functional cases in the manner of HateCheck (Röttger et al. 2021): no source here has
# attacks on a group that use no slur ("X are a disease"), and none has blog-style comment spam. They are
# training rows only, never measured, and the model card says so.
GROUPS = (
    "Jews", "Muslims", "Christians", "Catholics", "Hindus", "gay people", "lesbians", "trans people",
    "Black people", "white people", "Asians", "Latinos", "Mexicans", "Arabs", "immigrants", "refugees",
    "disabled people", "women", "Chinese people", "Indians",
)  # fmt: skip
GROUP_ATTACKS = (
    "{G} are a disease.",
    "{G} are vermin and should be wiped out.",
    "{G} are subhuman.",
    "All {g} are criminals.",
    "{G} should be deported, every last one of them.",
    "I hate {g}. They ruin everything they touch.",
    "{G} are parasites living off the rest of us.",
    "{G} don't deserve the same rights as real citizens.",
    "Never trust {g}, they are all liars.",
    "{G} are animals.",
    "Get {g} out of our country.",
    "The world would be better off without {g}.",
    "{G} are too stupid to be allowed to vote.",
    "Typical {g}, always whining and scheming.",
)
COUNTER_SPEECH = (
    "Saying {g} are a disease is hateful, and it has no place here.",
    "Calling {g} animals is disgusting. Stop it.",
    "I'm tired of people blaming {g} for everything.",
    "{G} are our neighbours and friends, not a threat.",
)
COMMENT_SPAM = (
    "Great article! I make ${n} a day working from home, see how at {url}",
    "Nice post. Check out my blog at {url} for more tips like this.",
    "Thanks for sharing! Visit {url} for cheap {product}.",
    "I earned ${n} last month from home with one simple trick: {url}",
    "Best {product} at the lowest prices online, visit {url} today!",
    "Very informative. Buy {product} online without a prescription at {url}",
    "Looking for {product}? We have the best deals anywhere: {url}",
    "Work from home and earn ${n} a week. No experience needed. Details at {url}",
    "Interesting read. By the way, I found great {product} discounts here {url}",
    "Great article! My aunt makes ${n} a month online from home, just message me to learn how.",
    "Awesome blog! Is this a paid theme? I got mine from {url}, they have cheap {product} too.",
    "Hi, I run a {product} store and would love a link exchange. Contact me at {url}",
)
ARTICLE_PRAISE = (
    "Great article, thanks for the thorough reporting.",
    "Thanks for sharing this, very informative.",
    "Nice post. I learned something new about the council today.",
    "Great read! I had no idea the park would cost that much.",
    "The full council minutes are at {url} if anyone wants the details.",
    "Thanks for the update. The timetable is on the city website: {url}",
)
SPAM_FILLS = (
    ("500", "http://bit.ly/easy-cash-now", "watches"),
    ("300", "www.cheap-replica-shop.com", "designer bags"),
    ("1,200", "https://best-deals-online.net/promo", "sunglasses"),
    ("850", "http://tinyurl.com/earn-fast", "Instagram followers"),
    ("95", "www.pharma-discount.biz", "viagra"),
    ("4,000", "https://crypto-signals.top/join", "crypto signals"),
    ("250", "http://seo-boost.xyz", "SEO services"),
)
OFFICIAL_URLS = ("https://www.example.gov/council/minutes", "https://city.example.org/transit")


def functional_rows() -> list[Row]:
    """Group attacks without slurs, counter-speech, blog-style comment spam and honest praise."""
    rows = []
    every_label = {"toxicity": 0.0, "identity_attack": 0.0, "profanity": 0.0, "spam": 0.0}
    for group in GROUPS:
        fills = {"g": group, "G": group[0].upper() + group[1:]}
        for template in GROUP_ATTACKS:
            targets = every_label | {"toxicity": 1.0, "identity_attack": 1.0}
            rows.append(Row(template.format(**fills), "functional_templates", targets))
        for template in COUNTER_SPEECH:
            rows.append(Row(template.format(**fills), "functional_templates", dict(every_label)))
    for n, url, product in SPAM_FILLS:
        for template in COMMENT_SPAM:
            text = template.format(n=n, url=url, product=product)
            rows.append(Row(text, "functional_templates", every_label | {"spam": 1.0}))
    for url in OFFICIAL_URLS:
        for template in ARTICLE_PRAISE:
            rows.append(Row(template.format(url=url), "functional_templates", dict(every_label)))
    unique = {row.text: row for row in rows}  # templates without a placeholder repeat
    return list(unique.values())


def template_rows() -> list[Row]:
    """Every synthetic training row: identity mentions, and the functional cases."""
    return identity_rows() + functional_rows()


def load_rows(data_dir: Path, shipped_only: bool = True, cap_scale: float = 1.0, seed: int = 13) -> list[Row]:
    """Every training row, capped per source and class so no dataset's quirks dominate."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for source in SOURCES:
        if source.shipped or not shipped_only:
            rows.extend(capped(read_source(data_dir, source), max(2, int(source.cap * cap_scale)), rng))
    return rows


def split(
    rows: Iterable[Row], fractions: tuple[float, float], seed: int = 13
) -> tuple[list[Row], list[Row], list[Row]]:
    """A fixed train / validation / test split, stratified by source and class."""
    rng = random.Random(seed)
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.source, row.stratum), []).append(row)
    train: list[Row] = []
    valid: list[Row] = []
    test: list[Row] = []
    for key in sorted(groups, key=str):
        group = groups[key]
        rng.shuffle(group)
        n_valid, n_test = int(len(group) * fractions[0]), int(len(group) * fractions[1])
        valid.extend(group[:n_valid])
        test.extend(group[n_valid : n_valid + n_test])
        train.extend(group[n_valid + n_test :])
    return train, valid, test


def used_files(data_dir: Path, shipped_only: bool = True) -> dict[str, str]:
    """SHA-256 of every file that trains the artifact."""
    return {s.file: file_sha256(data_dir / s.file) for s in SOURCES if s.shipped or not shipped_only}


def read_label_export(path: Path) -> list[Row]:
    """Rows from `civility export-labels` (columns text,label,target,...): moderators' decisions."""
    targets: dict[str, dict[str, float]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for csv_row in csv.DictReader(handle):
            text = normalize(csv_row["text"])
            if text and csv_row["target"]:
                targets.setdefault(text, {})[csv_row["target"]] = float(csv_row["label"])
    return [Row(text, "moderator_labels", t, stratum=str(t)) for text, t in targets.items()]
