"""Read the labelled CSVs of the shared data directory into deduplicated, source-balanced training rows.

Each row carries a target per label it has evidence for (soft targets where the source records rater
votes); labels without evidence for a row are masked, never guessed.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import math
import random
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

CsvRow = dict[str, str]


@dataclass(frozen=True)
class Row:
    text: str
    source: str
    targets: dict[str, float]
    group: str = ""  # a finer unit inside a source (a YouTube video) for leave-one-out evaluation
    stratum: str = ""
    weight: float = 1.0  # the row's share of the loss against a source row's (TrainConfig.row_weights)

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
    # "hate speech" class is language against a group: toxic, and our identity_attack. Nobody judged the
    # tweets for spam; `load_rows(tweet_spam_targets=False)` drops this guess (TrainConfig says why).
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
IDENTITY_PATTERN = re.compile(r"\b(" + "|".join(re.escape(t.lower()) for t in IDENTITY_TERMS) + r")s?\b", re.I)
# Counterfactuals name no identity in the same grammatical slot: "a gay man" -> "a local man", "Muslims are" ->
# "residents are" (the encoder is uncased). Words chosen to carry no group and no sentiment.
NEUTRAL_SINGULAR = ("local", "rural", "suburban", "tall")
NEUTRAL_PLURAL = ("locals", "residents", "neighbours", "commuters")


def without_identity(text: str, rng: random.Random) -> str:
    """`text` with every listed identity term replaced by a neutral word (the counterfactual that
    TrainConfig.counterfactual_pairing pairs a clean comment with)."""

    def neutral(match: re.Match[str]) -> str:
        plural = len(match.group(0)) > len(match.group(1))
        return rng.choice(NEUTRAL_PLURAL if plural else NEUTRAL_SINGULAR)

    return IDENTITY_PATTERN.sub(neutral, text)


def counterfactuals(rows: list[Row], seed: int) -> dict[int, str]:
    """Index -> counterfactual text for each comment that names an identity and attacks nobody: no toxicity,
    no identity attack (a clean comment's label does not depend on which group it names, or whether it names one)."""
    rng = random.Random(f"{seed}:counterfactuals")
    out: dict[int, str] = {}
    for index, row in enumerate(rows):
        if row.label("toxicity") == 0 and not row.label("identity_attack") and IDENTITY_PATTERN.search(row.text):
            out[index] = without_identity(row.text, rng)
    return out


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
# The same group nouns in the same kinds of sentence (opinions, questions, "are ..."), saying nothing hateful
# (HateCheck's neutral and positive statements about a group). With only the attacks above and the
# adjectives of IDENTITY_TEMPLATES, v8 read "<group> + a predicate" as an attack: "I honestly think gay people
# should be able to adopt." scored 0.91 on identity_attack, "Why are Muslims so underrepresented in local
# government?" 0.87.
GROUP_NEUTRAL = (
    "{G} have every right to speak at the town meeting.",
    "I work with a lot of {g}, and they're great colleagues.",
    "How many {g} live in this district? The article doesn't say.",
    "{G} were hit hardest by the rent increases, according to the report.",
    "Many {g} in this city volunteer at the food bank.",
    "I believe {g} deserve a bigger say in how the schools are run.",
    "My two closest friends are {g}.",
    "We should listen when {g} tell us about discrimination.",
    "Not all {g} vote the same way, obviously.",
    "Landlords in this town should stop turning away {g}.",
    "Are {g} being consulted about the new housing plan?",
    "{G} are part of this community and always have been.",
    "The reporter should have interviewed some {g} for this piece.",
    "It's great to see {g} running for the council this year.",
)
# Attacks on women (and men) for their gender, with neither slur nor insult: Davidson's raters called its
# misogynist tweets "offensive", not hate, so they teach identity_attack 0 for them, and v6 scored "Women
# are too emotional to be in charge of anything." 0.009. Gender is an identity like any other here.
GENDERS = (("women", "a woman"), ("girls", "a girl"), ("females", "a female"), ("men", "a man"))
GENDER_ATTACKS = (
    "{W} should stay at home and raise the kids, not run companies.",
    "{W} are too hysterical to make serious decisions.",
    "Never vote for {a}, {w} can't handle pressure.",
    "{W} only get hired because of quotas, never for talent.",
    "{W} are only good for cooking and cleaning.",
    "Giving {w} the vote was a mistake.",
    "{W} are gold diggers, every single one of them.",
    "Typical {a}, crying instead of thinking.",
    "{W} can't do science, their brains aren't built for it.",
    "{W} make terrible bosses, far too moody.",
    "Keep {w} out of politics, they ruin it.",
    "{W} should be seen and not heard.",
    "{W} belong at home, not in the boardroom.",
    "No {a} should ever run a police force.",
)
GENDER_RESPECT = (
    "{W} have served on the council for decades and the town is better for it.",
    "More {w} are running for office this year than ever before.",
    "The idea that {w} can't lead is outdated nonsense.",
    "The clinic offers free health checks for {w} over fifty.",
    "I have had good bosses and bad ones, and the best of them was {a}.",
    "{W} in this town raised the money for the new playground.",
    # The attacks above say what {w} "should" do; without opinions of the same shape that respect them, the
    # model trained with promotion pairs read "I don't think women should have to ..." as an attack (0.68).
    "{W} should be paid the same as anyone else doing the same job.",
    "I don't think {w} should be judged by the clothes they wear.",
    "{W} should be able to walk home at night without being afraid.",
    "I don't believe {w} should pay more for the same haircut.",
    "Should {w} get more say in the hospital plans? I'd say yes.",
    "In my opinion {w} deserve better support from the county.",
    "{W} shouldn't have to wait months for a doctor's appointment.",
    "Why are so few {w} on the planning board? It's worth asking.",
)
# Abuse of people for what they do, not who they are (HateCheck's "abuse against non-protected targets"):
# toxic, but no identity attack. With no row saying so, v7 scored "Politicians are all crooks." 0.92 on
# identity_attack, above its threshold, and OLID tweets calling one official a crook as high as its slurs:
# on a news site, where most abuse is aimed at officials, the moderator would read "identity attack" for it.
ROLES = ("the mayor", "the editor", "our councillor", "the coach", "the landlord", "the minister", "the sheriff",
         "the judge")  # fmt: skip
ROLE_GROUPS = ("bankers", "bureaucrats", "lobbyists", "developers", "landlords", "councillors", "pundits", "executives")
ROLE_ABUSE = (
    "{T} is an idiot and a disgrace.",
    "{T} is a lying, corrupt crook.",
    "{T} is a brainless clown.",
    "{T} is useless, a total waste of space.",
    "Nobody can stand {t}, a gutless worm.",
    "{T} is a vile snake.",
    "Shut up, {t}, you pompous fool.",
    "{T} has the brains of a turnip.",
)
ROLE_GROUP_ABUSE = (
    "{T} are scum.",
    "{T} are parasites bleeding this town dry.",
    "{T} are thieves and liars, the lot of them.",
    "I hate {t}, every last one of them.",
    "{T} are vermin.",
    "{T} are brainless sheep.",
    "{T} are too stupid to run anything.",
    "Never trust {t}, they lie for a living.",
)
# Calling for an official to be jailed or thrown out is no identity attack either; whether it is toxic depends
# on the site (OLID's raters called "Holder should be in prison" offensive, a news site may well print it),
# so these rows leave toxicity unsaid. Plain criticism is neither, and says so: labelled toxic, the first
# of these rows raised "The police chief failed this city and must go." from 0.17 to 0.51.
ROLE_DEMANDS = (
    "{T} should be locked up for what he did.",
    "{T} belongs in jail.",
    "{T} should resign in disgrace.",
    "Fire {t} already.",
)
ROLE_CRITICISM = (
    "{T} should resign over this.",
    "{T} failed us and has to go.",
    "{T} broke the rules and should face an inquiry.",
    "{T} got this badly wrong.",
    "I will never vote for or trust {t} again.",
    "{T} has ignored this problem for years.",
)
PERSONAL_ABUSE = (
    "You are a pathetic troll.",
    "You're an idiot, and so is everyone who agrees with you.",
    "Get lost, you clown.",
    "Only a moron would write a comment this dumb.",
    "You have the brains of a doorknob.",
)
# "Hate" aimed at things, and talk about hate, beside hatred aimed at the reader (HateCheck's non-hateful uses of
# profanity and of a slur, for the word that names the label). The attacks above and Davidson's hate tweets say
# "I hate ..." of groups, and no row said it of anything else: v19 scored "I hate Mondays." 0.97 toxicity and 0.92
# identity_attack, "Everyone here hates the new parking rules." 0.90 and 0.86, and held OLID's clean tweets
# that say "hate" (never trained on; evaluate.hate_word_probe) for toxicity four times as often as its other
# clean tweets (33 of 135 against 163 of 2,955). Hatred aimed at the reader stays toxic, but attacks no identity.
# Off in the shipped recipe: the cheap folds cannot see what these rows say (a placebo weight moved them as the rows
# did), and retrained in full the rows did not carry to OLID's real tweets saying "hate" (TrainConfig.hate_word_rows).
HATED_THINGS = (
    "Mondays", "the new parking meters", "this rainy weather", "the traffic on the bypass", "the new website layout",
    "paywalls", "the roadworks on the high street", "autoplay videos", "waiting on hold", "the smell from the landfill",
    "losing to our rivals", "early kick-offs", "the price of petrol", "pineapple on pizza",
)  # fmt: skip
HATING_THINGS = (
    "I hate {x}.",
    "Everyone here hates {x}.",
    "I absolutely hate {x}, and I'm not the only one.",
    "Does anyone else hate {x}?",
    "We all hate {x}, so why does the council keep it?",
    "My kids hate {x} as much as I do.",
    "Honestly I hated {x} at first, but I've come round.",
    "I'm starting to really hate {x}.",
)
TALK_OF_HATE = (
    "There is far too much hate in these comments.",
    "Hate has no place in this town.",
    "Spreading hate online helps nobody.",
    "The march was a stand against hate and division.",
    "She got hate mail for weeks after the article ran.",
    "Police are treating the attack on the mosque as a hate crime.",
    "Love wins over hate, every time.",
    "I don't hate anyone, I just disagree with the policy.",
    "Why is there so much hate for the referee? He had a decent game.",
    "Haters gonna hate, the team played well and won.",
    "The council passed a motion condemning hate speech.",
    "People who disagree with me aren't haters, they just see it differently.",
)
INSULT_NOUNS = ("idiot", "moron", "clown", "loser", "troll", "fool")
HATING_THE_READER = (
    "Everyone here hates you, you {i}.",
    "I hate you, you pathetic {i}.",
    "Nobody likes you, {i}.",
    "Go away, {i}, everyone here hates you.",
    "You're a worthless {i} and we all despise you.",
    "We all hate your stupid comments, {i}.",
)
# Attacks on where someone comes from that never name the group ("your kind"): v7 scored "Go back to your own
# country, we don't want your kind here." 0.23. Named groups and slurs are covered above and below.
PLACES = ("this country", "this town", "our neighbourhood", "this street")
ORIGIN_ATTACKS = (
    "Your kind isn't welcome in {place}.",
    "Nobody asked you to come to {place}, go home.",
    "{Place} was fine before your kind showed up.",
    "Speak our language or get out of {place}.",
    "Pack your bags and leave {place}, you'll never be one of us.",
    "You people are ruining {place}.",
    "Your lot should be kicked out of {place}.",
    "Keep them out of {place}, they don't share our values.",
    "{Place} is for our own people, not outsiders like you.",
    "We'll drive you and your family out of {place}.",
)
ORIGIN_WELCOME = (
    "Welcome to {place}, we're glad your family chose to live here.",
    "Newcomers have made {place} better.",
    "People from all over the world call {place} home, and that is its strength.",
    "My grandparents arrived in {place} with nothing and built a life here.",
)
# Slurs (HateCheck's "hate expressed using a slur"): Wikipedia and Civil Comments have few of them, and
# left out of training, Davidson's one-word slur tweets ("@someone fag") scored under 0.1. Stored in
# rot13 so that reading or searching this file does not put them on screen; `slurs()` decodes them.
# "nigga" is left out on purpose: it is mostly in-group use, and Davidson's raters mostly called it
# offensive, not hate (models trained on it over-flag African-American English, Sap et al. 2019).
SLURS_ROT13 = (
    "avttre", "snttbg", "snt", "qlxr", "genaal", "xvxr", "fcvp", "jrgonpx", "puvax", "tbbx", "pbba", "enturnq",
    "gbjryurnq", "ergneq", "ornare", "cnxv", "cbepu zbaxrl", "whatyr ohaal", "zhmmvr", "juvgr genfu", "unys-oerrq",
    "furznyr",
)  # fmt: skip
SLUR_ATTACKS = (
    "{s}",
    "you're a {s}",
    "shut up {s}",
    "look at this {s} lol",
    "No {ss} allowed in this town.",
    "I hate {ss}.",
    "what a stupid {s}",
    "{SS} should go back where they came from.",
    "typical {s}, always complaining",
    "get out of here you {s}",
)
# Ordinary insults in the slur attacks' own sentences (HateCheck's contrast set: the same frame with a non-
# protected target). The slur rows put slurs in the frames personal insults use, and v19 read the frame as the
# attack: "You halfwit." 0.97 identity_attack, "Typical halfwit, always whining about the referee." 0.93 (in fp32;
# bench/insult_probe.py). Labelled toxic, no identity attack, no profanity. "halfwit" and "dimwit" are left out on
# purpose: that probe uses them to measure the rows, so they must not train them.
# Off in the shipped recipe: retrained in full they raised the unseen identity FPR (0.165 -> 0.206); their cheap
# folds' fall was no larger than a redraw of the hand-written rows alone makes (TrainConfig.insult_contrast_rows).
ORDINARY_INSULTS = (
    "idiot", "moron", "imbecile", "nitwit", "buffoon", "muppet", "numpty", "dunce", "twit", "airhead", "simpleton",
    "lowlife", "weirdo", "creep", "crybaby", "hypocrite", "coward", "liar", "clown", "fool", "loser", "troll",
    "nutjob", "bonehead", "knucklehead", "blockhead", "doofus",
)  # fmt: skip
INSULT_FRAMES = tuple(t for t in SLUR_ATTACKS if "{s}" in t)  # the singular ones: about a group, an insult is odd
SLUR_DENOUNCED = (
    "Calling anyone a {s} is never okay.",
    "He was rightly fired for calling a coworker a {s}.",
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
# Self-promotion and engagement bait: the commonest comment spam on video and article pages alike, and
# none of it looks like SMS prize texts or the blog spam above. A link alone, with nothing said, is spam too.
SELF_PROMOTION = (
    "Check out my {channel}, I post {content} every week!",
    "Please subscribe to my {channel}, it would mean a lot.",
    "Hey guys, I just started a {channel} about {content}. Go check it out and subscribe!",
    "Follow me on {platform} for more {content}!!",
    "sub to my {channel} and I'll sub back",
    "Like this comment so more people see my {channel}.",
    "If you like {content}, visit my page and leave a like, thanks :)",
    "I make {content} too, come watch on my {channel}",
    "Can everyone please donate to help my {cause}? Link in my profile.",
    "Who wants free {gift}? Go to my profile now!",
    "{url}",
    "{url} :)",
    "check this out {url}",
    "Everyone go to {url} and get free {gift}",
)
ENGAGEMENT_BAIT = (
    "Like this comment if you are reading this in {year}",
    "Thumbs up if you agree!!!",
    "like this comment for no reason",
    "Who else is here in {year}? Like this!",
    "Can I get 100 likes on this comment?",
)
# Prize, loan and chat-line scams that ask for a call or a text: they reach comment sections as well as
# phones, and nothing else here has a phone number in a spam text.
PRIZE_SCAMS = (
    "Congratulations! You have won a {prize}. To claim, call {phone} now.",
    "URGENT: your number was selected for a {prize}. Reply YES or call {phone} to claim.",
    "Text WIN to {short} for your chance to get a {prize}. 18+ only, $1.99 per message.",
    "Need a loan fast? Instant approval, bad credit ok. Call {phone} today.",
    "Lonely tonight? Hot singles want to chat with you, call {phone}.",
    "I lost everything to a crypto scam until an expert got my money back. WhatsApp him on {phone}.",
    "FREE entry to win a {prize}! Send your name to {short} before midnight.",
    "You are entitled to compensation for your accident. Call {phone} free to claim your payout.",
)
# Numbers chosen so that none occurs in the SMS file: the first ones were shortcodes remembered from that
# corpus, which leaked it into the fold that holds SMS out.
PRIZE_FILLS = (
    ("$1,000 Walmart gift card", "1-888-555-0143", "30333"),
    ("brand new iPhone", "+44 20 7946 0958", "44144"),
    ("holiday for two", "+1 (415) 555-0132", "51515"),
    ("£2,000 cash prize", "(212) 555-0187", "70070"),
)
PROMOTION_FILLS = (
    ("YouTube channel", "music covers", "Instagram", "dog's surgery", "gift cards", "http://bit.ly/2xFreeGift"),
    ("channel", "gaming videos", "TikTok", "school trip", "iPhones", "https://www.freestuff-now.com/win"),
    ("blog", "cooking recipes", "Twitter", "band's new album", "Robux", "www.mypage-promo.net"),
    ("Twitch stream", "beats", "SoundCloud", "family", "coupons", "http://shorturl.at/kQx19"),
    ("page", "makeup tutorials", "Facebook", "startup", "followers", "https://tinyurl.com/watch-now-7"),
)
# Testimonials that sell: the soft sell of article comment sections, an on-topic comment that recommends a
# business, a site, a cure or a "recovery expert" in the first person. v5 let most of them through (0.00 to
# 0.20) because every other spam row here shouts or offers a prize.
TESTIMONIAL_SPAM = (
    "I was in the same situation last year until {business} sorted it out for me. Look them up at {url}, best"
    " decision I ever made.",
    "Good points in this article. I cover the same topic in more depth on my own site, {url}, stop by if you're"
    " interested.",
    "This {product} changed my life, I lost {n} pounds in a month. Link in my bio.",
    "Anyone dealing with this should contact {business}, they helped my family and they will help you. {url}",
    "I wish I had known about {business} sooner. They got me a great rate on {service} in one day: {url}",
    "Thanks for writing about this. If you need {service}, DM me, I can get you a good price.",
    "My husband and I used {business} for {service} and they were amazing, highly recommend them ({url}).",
    "Totally agree with the author. For anyone curious, I wrote a free guide about this on my blog, just google"
    " {business}.",
    "People keep asking how I pay my bills working two hours a day. {business} showed me how, search for them.",
    "If your {account} got hacked, {business} recovered mine in 24 hours. Email them at {email}.",
)
TESTIMONIAL_FILLS = (
    ("BrightPath Finance", "www.brightpath-finance.co", "herbal detox tea", "a refinance", "account",
     "brightpathhelp@gmail.com", "25"),
    ("Summit Roofing Pros", "summitroofpros.net", "collagen powder", "roof repairs", "Facebook account",
     "summitpros.support@outlook.com", "18"),
    ("Dr. Alaba", "https://dralaba-healing.org", "CBD oil", "a payday loan", "bitcoin wallet",
     "dralabahome@yahoo.com", "40"),
    ("Global Visa Experts", "globalvisaexperts.io", "weight loss patch", "a work visa", "Instagram page",
     "gve.desk@gmail.com", "12"),
)  # fmt: skip
# Ordinary comments that talk about subscribing, channels, likes or links: those words alone are not spam.
PROMOTION_HAM = (
    "I subscribed to the paper after reading this series. Worth every penny.",
    "I watched the full interview on the station's channel, worth the time.",
    "Does anyone have a link to the full report the article mentions?",
    "My daughter sent me this story, glad I read it.",
    "The video of the meeting is on the council's page if you missed it.",
    "I liked the earlier piece on this better, but this is a fair follow-up.",
    "Here is the study they cite: {url}",
    "The original statement is here {url} and it says something different.",
    "The council's hotline for missed bins is 0800 555 0100, they answered in minutes.",
    "Congratulations to the team, they won the cup fair and square!",
    "Call your representative and tell them what you think about this bill.",
)
# Readers' comments in spam's vocabulary (subscribe, check out, follow, channel, free, win, call, like):
# with only the few above, the all-layer model held "Check out the city's website for the schedule." as
# spam (0.92) and "I subscribed to the paper after reading this series." (0.94).
READER_HAM = (
    "Subscribed! Great journalism.",
    "This is why I pay for a subscription.",
    "I'm cancelling my subscription over this coverage.",
    "Check out the library's new reading room, it's lovely.",
    "I checked out the new bike lanes myself, they're better than the article says.",
    "We went to the farmers market after reading this, the peaches really are back.",
    "Follow the council on Twitter for updates.",
    "I follow this reporter on Instagram, her photos from the flood were incredible.",
    "You can watch the full game on the team's YouTube channel.",
    "The mayor's speech is on the local news channel tonight.",
    "Free parking downtown this weekend, per the article.",
    "The museum is free on Sundays, worth a visit.",
    "Win or lose, this team made the town proud.",
    "They won the lottery for the new housing units, good for them.",
    "Call 911 if you see anything suspicious.",
    "Call your council member, the number is on the city site.",
    "Like many of you, I was stuck in that traffic for an hour.",
    "I liked this story, more of these please.",
    "Please donate blood if you can, the hospital is short.",
    "The food bank needs volunteers, you can sign up on their page.",
    "My cousin runs a bakery on Main Street and the new parking rules are killing her business.",
    "Sign the petition at the library if you want the pool reopened.",
    "I earn minimum wage and I can't afford these rents.",
    "Working from home has saved me two hours a day.",
    "Congratulations to the graduates!",
    "Click through to the second page, the budget table is there.",
    "The link to the survey in the article is broken.",
    "Great article, I shared it with my whole family.",
    "I found a cheaper quote by calling around, don't take the first offer.",
    "Text alerts from the county are free, sign up at the sheriff's office.",
    "I made money on my house and lost it all on the next one.",
    "Thank you! I will definitely check out that park this weekend.",
    "Is there a channel where we can send tips to the newsroom?",
    # first-person experiences and recommendations that sell nothing, beside the testimonials above
    "Great article! I'm sending it to my sister, she lives on that street.",
    "Great article! The old photos of the mill brought back memories.",
    "Nice post. My grandfather worked at that factory for thirty years.",
    "Please spread the word, the shelter still needs foster homes for the puppies.",
    "Share this with anyone living near the river, the evacuation order is in effect until Friday.",
    "We hired a local roofer after the storm and it took them three months to show up. The backlog is real.",
    "I lost twenty pounds last year just by walking to work, no pills needed.",
    "My bank refinanced us at a decent rate, but only after weeks of paperwork.",
    "I wrote to the editor about this last month and never heard back.",
    "I signed up for the paper's email alerts after the flood coverage, they've been excellent.",
    "Someone hacked my mother's email last week, so this piece on scams is timely.",
    "The public library's free tax help is great, they sorted my return in an hour.",
    # subscribing to the paper and sharing a notice are what readers do: v6 scored "Subscribed!" 0.97 and
    # "Please share this." 0.96, from YouTube's "subscribe to my channel" and "share this video"
    "Subscribing now. This is the kind of local reporting we need.",
    "Just subscribed to the print edition after this story.",
    "Subscribed! Thanks for keeping an eye on city hall.",
    "Please share this, the family is still searching for their grandfather, last seen near the station.",
    "Share this with your neighbours, the boil-water notice covers the whole east side.",
    "Please share so the owner of the lost cat on Elm Street sees it.",
    "Sharing this with my book club, we were just talking about it.",
    "Subscribed.",
    "Just subscribed, keep up the good work.",
    "I subscribed to the morning newsletter last week, it's the only one I read.",
    "Subscribed to the podcast as well.",
    "Great article! Signed up for a subscription.",
)
PROMOTION_YEARS = ("2015", "2021", "2024")

# Self-promotion composed from parts: an opener, sometimes who the writer is, then the ask. The same openers
# and introductions without an ask are honest comments. Fourteen fixed templates taught the model their own
# words: left out of training, YouTube's channel plugs scored as the SMS file taught spam to look (prize
# shouting and links), and "Check out my channel for funny skits!" stayed under 0.25. The pairs put the
# signal where it is, in the ask to look at, follow or buy from the writer, not in praise or enthusiasm.
PROMO_OPENERS = (
    "Great article!", "Love this song!!", "Nice video.", "Awesome post.", "So true.", "Interesting read, thanks.",
    "Wow, just wow.", "Hey everyone,", "Hi guys!", "This made my day :)", "Amazing!!!", "Good points here.",
    "Best thing I've seen all week.", "I agree with every word.",
)  # fmt: skip
PROMO_INTRODUCTIONS = (
    "I'm a {age} year old {maker} from {place}.", "I just started making {content}.",
    "My {relative} and I make {content} together.", "I've been a {maker} for {years} years.",
    "I'm a {maker} and this is my dream.", "I used to live in {place} too.",
)  # fmt: skip
PROMO_ASKS = (
    "Check out my {channel}, {content} every week!", "Please give my new {work} a listen, it would mean a lot.",
    "Subscribe to me and I'll subscribe back.", "Search {name} on {platform} and hit follow.",
    "Go to my page and like my latest {work}.", "My {work} is in my profile, go look!",
    "Click my name to see my {content}.", "Help me get to {n} subscribers!", "Follow me on {platform}: {handle}",
    "You should check out {name}'s new {work}, it's fire.", "I'd love it if you checked out my {channel}.",
    "Give my {channel} a chance, I promise you won't regret it.", "Visit {url} for my {content}.",
    "Everyone go follow {handle} right now.",
)  # fmt: skip
PROMO_OPINIONS = (
    "The council should have listened to residents sooner.", "It reminds me of the summer I moved here.",
    "I hope they fix the bridge before winter.", "My kids love this one too.", "Can't believe it's been ten years.",
    "The second half was even better than the first.", "I read the whole thing twice.",
    # songs, videos and view counts: the SMS file's spam sells ringtones and videos, and without these the
    # model took "I love this song so much!!!" for spam (0.95)
    "This song never gets old.", "The video is even better than the song.", "Saw them live last year, even better.",
    "Over a million views and it deserves every one.", "The chorus has been stuck in my head all day.",
    "Watching this again in 2024, still a classic.", "My favourite video on the whole site.",
    # asking readers to share a notice is what readers do: with an ask "Share my {work}" among the spam, the
    # model took "Please share this so the family can find their missing dog." for spam (0.95)
    "Please share this with anyone who lives near the bridge.", "Share this with your neighbours, please.",
)  # fmt: skip
PROMO_FILLS = (
    {"age": "16", "maker": "rapper", "place": "Ohio", "content": "beats", "relative": "brother", "years": "3",
     "channel": "channel", "work": "mixtape", "name": "Lil Drayko", "platform": "SoundCloud", "handle": "@draykobeats",
     "n": "1,000", "url": "http://bit.ly/drayko-mix"},
    {"age": "23", "maker": "singer", "place": "Manila", "content": "acoustic covers", "relative": "sister",
     "years": "5", "channel": "YouTube channel", "work": "cover", "name": "Mia Santos", "platform": "Instagram",
     "handle": "@miasings", "n": "500", "url": "www.miasantosmusic.com"},
    {"age": "14", "maker": "gamer", "place": "Texas", "content": "Minecraft videos", "relative": "cousin",
     "years": "2", "channel": "stream", "work": "video", "name": "BlockKing", "platform": "Twitch",
     "handle": "@blockking_tv", "n": "10k", "url": "https://twitch.example.tv/blockking"},
    {"age": "31", "maker": "baker", "place": "Leeds", "content": "sourdough recipes", "relative": "mum",
     "years": "8", "channel": "blog", "work": "recipe", "name": "Crumb & Co", "platform": "Pinterest",
     "handle": "@crumbandco", "n": "200", "url": "crumbandco-bakes.net"},
    {"age": "19", "maker": "comedian", "place": "Toronto", "content": "funny skits", "relative": "roommate",
     "years": "1", "channel": "page", "work": "sketch", "name": "JokesByJay", "platform": "TikTok",
     "handle": "@jokesbyjay", "n": "5,000", "url": "https://tinyurl.com/jaysketch"},
)  # fmt: skip


def promotion_rows(seed: int = 13, n: int = 240) -> list[tuple[str, bool]]:
    """(text, is_spam) pairs: an opener and an optional introduction, with an ask (spam) or an opinion (not)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        fills = PROMO_FILLS[i % len(PROMO_FILLS)]
        parts = [rng.choice(PROMO_OPENERS)] if rng.random() < 0.7 else []
        if rng.random() < 0.5:
            parts.append(rng.choice(PROMO_INTRODUCTIONS).format(**fills))
        spam = i % 2 == 0
        parts.append((rng.choice(PROMO_ASKS) if spam else rng.choice(PROMO_OPINIONS)).format(**fills))
        text = " ".join(parts)
        out.append((text.lower() if rng.random() < 0.15 else text, spam))
    return out


# Praise of the site rather than of the story, with no link in the text: the commonest spam on article pages,
# whose link rides in the author's URL, where the service's signals see it but a model of the text does not.
# v16 scored "Wow, awesome blog layout! How long have you been blogging for?" 0.34 and "I have been browsing
# online more than three hours today, yet I never found any interesting article like yours" 0.02. Each is
# paired with the same opener and a remark on the story itself, so that praise is not what marks spam.
PRAISE_OPENERS = (
    "Great article!",
    "Nice post.",
    "Thanks for sharing.",
    "Wonderful read.",
    "Very informative.",
    "Good job.",
    "Excellent piece.",
    "Hi there,",
    "Hello!",
    "Really enjoyed this.",
    "Awesome.",
    "Thank you for this.",
)
PRAISE_OF_THE_SITE = (
    "I have been searching the web for hours today and never found a page as useful as yours.",
    "I just bookmarked your website and will be checking back regularly for new posts.",
    "Which theme is your blog using? The layout is very clean.",
    "Do you have an RSS feed I can follow for your site?",
    "My cousin recommended your blog and he was totally right, I am hooked.",
    "I am starting a blog of my own soon, which platform do you use?",
    "Your website loads so fast, who is your hosting provider?",
    "I would love to write a guest post for your blog, please get in touch.",
    "This blog is a goldmine of information, keep posting such content.",
    "I stumbled upon your site while looking for something else and I am glad I did.",
    "You obviously put a lot of effort into this website, it shows in every post.",
    "I will share your blog with my followers, they will love it.",
    "May I translate your posts for my own website, with credit of course?",
    "Your writing style is awesome, your site is now in my favourites.",
)
REMARKS_ON_THE_STORY = (
    "The numbers on the school budget finally make sense to me.",
    "I had no idea the bridge repairs would take until spring.",
    "The interview with the fire chief answered most of my questions.",
    "I still think the council should have held a public vote on the stadium.",
    "The bus route changes affect my commute directly, so this was useful.",
    "My street flooded in the same storm, so this hits home.",
    "Good to see the hospital staffing problem finally getting coverage.",
    "I wish the reporter had asked the mayor about the property tax increase.",
    "The timeline of the trial was really helpful.",
    "We need more reporting like this on the water quality tests.",
    "I disagree with the conclusion, but the facts are laid out fairly.",
    "The photos of the old mill brought back memories.",
    "My daughter's school is on that list, so thank you for digging into it.",
    "The comparison with last year's crime figures was useful.",
)
PRAISE_CLOSERS = ("", "", "Thanks!", "Keep it up.", "Cheers.", "Best regards.")


def praise_rows(seed: int = 13, n: int = 120) -> list[tuple[str, bool]]:
    """(text, is_spam) pairs: an opener with praise of the site (spam) or a remark on the story (not)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        spam = i % 2 == 0
        remarks = PRAISE_OF_THE_SITE if spam else REMARKS_ON_THE_STORY
        remark = remarks[(i // 2) % len(remarks)]
        text = " ".join(
            p for p in (PRAISE_OPENERS[(i // 2) % len(PRAISE_OPENERS)], remark, rng.choice(PRAISE_CLOSERS)) if p
        )
        out.append((text.lower() if rng.random() < 0.15 else text, spam))
    return out


def slurs() -> list[str]:
    return [codecs.decode(s, "rot13") for s in SLURS_ROT13]


def plural(noun: str) -> str:
    """English plural of a slur or group noun: "-y" after a consonant becomes "-ies"; "trash" has none."""
    if noun.endswith("trash"):
        return noun
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    return noun + "s"


# The hand-written row sets a recipe may leave out, each named by the TrainConfig switch that adds it:
# `promotion_rows`, `praise_rows`, the rows saying "hate" of things and of the reader, and ordinary insults in the
# slur attacks' frames. One name per set, so the switch, the training rows and the model card's counts agree.
# The lightest row weight: a placebo, still a number the float32 loss can hold (1e-300 would silently be 0 there).
MIN_ROW_WEIGHT = 0.000001
OPTIONAL_ROWS = ("promotion_pairs", "praise_pairs", "hate_word_rows", "insult_contrast_rows")


def functional_rows(optional: Collection[str] = (), weights: Mapping[str, float] | None = None) -> list[Row]:
    """The hand-written functional cases; each row's `stratum` names its kind (the model card counts them).
    `optional` names the OPTIONAL_ROWS sets to add, `weights` the loss weight of some of them (else 1)."""
    weights = dict(weights or {})
    if unknown := sorted((set(optional) | set(weights)) - set(OPTIONAL_ROWS)):
        raise ValueError(f"no optional row set named {', '.join(map(repr, unknown))}; they are {OPTIONAL_ROWS}")
    if unused := sorted(set(weights) - set(optional)):
        raise ValueError(f"a weight for {', '.join(map(repr, unused))}, which the recipe does not add")
    if bad := sorted(name for name, weight in weights.items() if not MIN_ROW_WEIGHT <= weight <= 1.0):
        raise ValueError(f"the weight of {', '.join(map(repr, bad))} must be from {MIN_ROW_WEIGHT} to 1")
    rows = []
    every_label = {"toxicity": 0.0, "identity_attack": 0.0, "profanity": 0.0, "spam": 0.0}
    spam = every_label | {"spam": 1.0}
    identity_attack = every_label | {"toxicity": 1.0, "identity_attack": 1.0}

    def add(kind: str, text: str, targets: dict[str, float], optional_set: str = "") -> None:
        weight = weights.get(optional_set, 1.0)
        rows.append(Row(text, "functional_templates", dict(targets), stratum=kind, weight=weight))

    for group in GROUPS:
        fills = {"g": group, "G": group[0].upper() + group[1:]}
        for template in GROUP_ATTACKS:
            add("group_attack", template.format(**fills), identity_attack)
        for template in COUNTER_SPEECH:
            add("counter_speech", template.format(**fills), every_label)
        for template in GROUP_NEUTRAL:
            add("group_neutral", template.format(**fills), every_label)
    for plural_noun, singular in GENDERS:
        fills = {"w": plural_noun, "W": plural_noun.capitalize(), "a": singular}
        for template in GENDER_ATTACKS:
            add("gender_attack", template.format(**fills), identity_attack)
        for template in GENDER_RESPECT:
            add("counter_speech", template.format(**fills), every_label)
    abuse = every_label | {"toxicity": 1.0}
    for role in ROLES:
        fills = {"t": role, "T": role[0].upper() + role[1:]}
        for template in ROLE_ABUSE:
            add("abuse_not_identity", template.format(**fills), abuse)
        for template in ROLE_DEMANDS:
            add("demand_not_identity", template.format(**fills), {"identity_attack": 0.0, "spam": 0.0})
        for template in ROLE_CRITICISM:
            add("civil_criticism", template.format(**fills), every_label)
    for role_group in ROLE_GROUPS:
        for template in ROLE_GROUP_ABUSE:
            add("abuse_not_identity", template.format(t=role_group, T=role_group.capitalize()), abuse)
    for text in PERSONAL_ABUSE:
        add("abuse_not_identity", text, abuse)
    for thing in HATED_THINGS if "hate_word_rows" in optional else ():
        for template in HATING_THINGS:
            add("hate_not_people", template.format(x=thing), every_label, "hate_word_rows")
    for text in TALK_OF_HATE if "hate_word_rows" in optional else ():
        add("hate_not_people", text, every_label, "hate_word_rows")
    for insult in INSULT_NOUNS if "hate_word_rows" in optional else ():
        for template in HATING_THE_READER:
            add("abuse_not_identity", template.format(i=insult), abuse, "hate_word_rows")
    for place in PLACES:
        fills = {"place": place, "Place": place[0].upper() + place[1:]}
        for template in ORIGIN_ATTACKS:
            add("origin_attack", template.format(**fills), identity_attack)
        for template in ORIGIN_WELCOME:
            add("counter_speech", template.format(**fills), every_label)
    # Naming a slur to condemn it is not an attack; whether that is profanity is left unsaid.
    condemned = {k: v for k, v in every_label.items() if k != "profanity"}
    for slur in slurs():
        many = plural(slur)
        fills = {"s": slur, "S": slur[0].upper() + slur[1:], "ss": many, "SS": many[0].upper() + many[1:]}
        for template in SLUR_ATTACKS:
            attack = every_label | {"toxicity": 1.0, "identity_attack": 1.0, "profanity": 1.0}
            add("slur_attack", template.format(**fills), attack)
        for template in SLUR_DENOUNCED:
            add("slur_condemned", template.format(**fills), condemned)
    for insult in ORDINARY_INSULTS if "insult_contrast_rows" in optional else ():
        for template in INSULT_FRAMES:
            text = template.format(s=insult)
            add("insult_in_slur_frame", re.sub(r"\ba (?=[aeiou])", "an ", text), abuse, "insult_contrast_rows")
    for n, url, product in SPAM_FILLS:
        for template in COMMENT_SPAM:
            add("blog_spam", template.format(n=n, url=url, product=product), spam)
    for channel, content, platform, cause, gift, url in PROMOTION_FILLS:
        fills = {"channel": channel, "content": content, "platform": platform, "cause": cause, "gift": gift}
        for template in SELF_PROMOTION:
            add("self_promotion", template.format(url=url, **fills), spam)
    for business, url, product, service, account, email, n in TESTIMONIAL_FILLS:
        fills = {"business": business, "url": url, "product": product, "service": service, "account": account}
        for template in TESTIMONIAL_SPAM:
            add("testimonial_spam", template.format(email=email, n=n, **fills), spam)
    for text, is_spam in promotion_rows() if "promotion_pairs" in optional else []:
        add(
            "self_promotion" if is_spam else "honest_comment", text, spam if is_spam else every_label, "promotion_pairs"
        )
    for text, is_spam in praise_rows() if "praise_pairs" in optional else []:
        add("site_praise_spam" if is_spam else "honest_comment", text, spam if is_spam else every_label, "praise_pairs")
    for year in PROMOTION_YEARS:
        for template in ENGAGEMENT_BAIT:
            add("self_promotion", template.format(year=year), spam)
    for prize, phone, short in PRIZE_FILLS:
        for template in PRIZE_SCAMS:
            add("prize_scam", template.format(prize=prize, phone=phone, short=short), spam)
    for url in OFFICIAL_URLS:
        for template in ARTICLE_PRAISE + PROMOTION_HAM:
            add("honest_comment", template.format(url=url), every_label)
    for text in READER_HAM:
        add("honest_comment", text, every_label)
    unique = {row.text: row for row in rows}  # templates without a placeholder repeat
    return list(unique.values())


def template_rows(
    spam_repeats: int = 1, optional: Collection[str] = (), weights: Mapping[str, float] | None = None
) -> list[Row]:
    """Every synthetic training row: identity mentions, and the functional cases (with the `optional` sets, at their
    `weights`), the spam ones and the honest comments in spam's words repeated (repeated alone, the spam rows taught
    that those words are spam)."""
    functional = functional_rows(optional, weights)
    repeated = [r for r in functional if r.targets["spam"] == 1.0 or r.stratum == "honest_comment"]
    return identity_rows() + functional + repeated * (spam_repeats - 1)


HANDLE_WORDS = ("mike", "jess", "newsfan", "the_real_dan", "katie", "sportsguy", "lola", "bigtex", "anon", "dj")
HASHTAGS = ("news", "politics", "smh", "tcot", "p2", "nfl", "truth", "breaking", "lol", "mondaymotivation")
TWEET_SOURCES = frozenset({"davidson_hate_offensive_tweets.csv", "olid_offenseval2019_tweets.csv"})
# A link of any kind, written out or bare ("example.com/page"), as service/signals.py finds them.
LINK = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|net|org|info|biz|ru|cn|xyz|top|io|co|us|uk|ly)\b", re.I)


def _handle(rng: random.Random) -> str:
    suffix = str(rng.randint(1, 9999)) if rng.random() < 0.6 else ""
    return "@" + rng.choice(HANDLE_WORDS) + suffix


def _decorate(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 2)):
        kind = rng.randrange(5)
        if kind == 0:
            text = f"{_handle(rng)} {text}"
        elif kind == 1:
            text = f"{_handle(rng)} {_handle(rng)} {text}"
        elif kind == 2:
            text = f"RT {_handle(rng)}: {text}"
        elif kind == 3:
            code = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
            text = f"{text} http://t.co/{code}"
        else:
            text = f"{text} #{rng.choice(HASHTAGS)}"
    return text


def with_platform_formatting(rows: list[Row], rate: float, seed: int) -> list[Row]:
    """Give a share of the non-tweet comments tweet formatting (mentions, retweets, links, hashtags).

    Only the tweet sources and the spam sources carry that formatting, so without this the model learned
    it as a label: left out of training, Davidson's hate tweets with an @mention scored a mean
    toxicity of 0.27 against 0.64 for the same kind without one. A formatted row replaces its original,
    keeps its toxicity targets and drops its spam target, since a link was added to a comment nobody judged
    as spam. Moderators' own labels are left as they gave them.
    """
    rng = random.Random(seed)
    spam_sources = {s.file for s in SOURCES if s.kind == "spam"}
    out = []
    for row in rows:
        kept = TWEET_SOURCES | spam_sources | {"moderator_labels"}
        eligible = row.source not in kept and row.targets.get("spam", 0.0) < 0.5
        if eligible and "toxicity" in row.targets and rng.random() < rate:
            targets = {k: v for k, v in row.targets.items() if k != "spam"}
            row = replace(row, text=_decorate(row.text, rng), targets=targets)
        out.append(row)
    return out


def balance_identity_mentions(pool: list[Row], kept: list[Row], rng: random.Random) -> list[Row]:
    """Non-toxic comments naming an identity that the cap dropped, enough to bring the toxic share among the
    kept comments naming one down to the source's overall share (Dixon et al. 2018's mitigation, with the
    source's own real comments rather than templates).

    The caps keep every toxic comment of the big sources but a sample of the clean ones, so naming an
    identity looked far more toxic than it is: in the capped Wikipedia talk sample 26% of the comments naming
    one were toxic against 10% overall (5% and 2% in the whole file), and v8 flagged non-toxic comments
    naming an identity at twice the overall rate. What it buys and costs is in TrainConfig.balance_identity."""
    return clean_mentions_given_back(pool, kept, rng, IDENTITY_PATTERN)


# hate, hates, hated, hater(s), hating, hatred, hateful, and inside a hashtag ("#DemocratsHateAmerica"); the
# "hate" give-back and evaluate.hate_word_probe both match it.
HATE_WORD = re.compile(r"(?i:\bhat(?:e[sdr]?|ers|ing|red|eful))|Hat(?:e|red)")


def balance_hate_word_mentions(pool: list[Row], kept: list[Row], rng: random.Random) -> list[Row]:
    """Non-toxic comments saying "hate" that the cap dropped, as `balance_identity_mentions` gives back those naming
    an identity: real comments rather than the templates of TrainConfig.hate_word_rows, which fixed hand-written
    probes but not OLID's real tweets. In the capped sample at seed 13, 79% of the Davidson tweets saying it were
    offensive against 49% overall, and 41% of the Wikipedia talk comments against 10%."""
    return clean_mentions_given_back(pool, kept, rng, HATE_WORD)


def clean_mentions_given_back(
    pool: list[Row], kept: list[Row], rng: random.Random, pattern: re.Pattern[str]
) -> list[Row]:
    """Non-toxic rows of `pool` matching `pattern` that the cap dropped, enough to bring the toxic share among the
    kept rows matching it down to the kept rows' overall share (or every such row the pool has, if fewer)."""
    labelled = [r for r in kept if r.label("toxicity") is not None]
    naming = [r for r in labelled if pattern.search(r.text)]
    if not labelled or not naming:
        return []
    rate = sum(r.label("toxicity") or 0 for r in labelled) / len(labelled)
    toxic_naming = sum(r.label("toxicity") or 0 for r in naming)
    wanted = math.ceil(toxic_naming / rate) - len(naming) if rate else 0
    taken = {r.text for r in kept}
    candidates = [r for r in pool if r.label("toxicity") == 0 and r.text not in taken and pattern.search(r.text)]
    rng.shuffle(candidates)
    return candidates[: max(0, wanted)]


def load_rows(
    data_dir: Path,
    shipped_only: bool = True,
    cap_scale: float = 1.0,
    seed: int = 13,
    balance_identity: bool = False,
    balance_hate_word: bool = False,
    tweet_spam_targets: bool = True,
    linkless_tweets_as_ham: bool = False,
) -> list[Row]:
    """Every training row, capped per source and class so no dataset's quirks dominate, plus, with
    `balance_identity` and `balance_hate_word`, the rows `balance_identity_mentions` and `balance_hate_word_mentions`
    give back (the "hate" rows counted after the identity rows are given back, so with both, fewer). Without
    `tweet_spam_targets` the tweets carry no spam target, except, with `linkless_tweets_as_ham`, those without a
    link."""
    rows: list[Row] = []
    for source in SOURCES:
        if source.shipped or not shipped_only:
            # One generator per source: which rows a source contributes must not depend on which other
            # sources were loaded before it (adding OLID to the evaluation once reshuffled every later one).
            rng = random.Random(f"{seed}:{source.file}")
            pool = read_source(data_dir, source)
            kept = capped(pool, max(2, int(source.cap * cap_scale)), rng)
            kept += balance_identity_mentions(pool, kept, rng) if balance_identity else []
            rows.extend(kept + (balance_hate_word_mentions(pool, kept, rng) if balance_hate_word else []))
    if not tweet_spam_targets:

        def unjudged(row: Row) -> bool:
            return row.source in TWEET_SOURCES and (not linkless_tweets_as_ham or bool(LINK.search(row.text)))

        rows = [without_spam_target(r) if unjudged(r) else r for r in rows]
    return rows


def without_spam_target(row: Row) -> Row:
    return replace(row, targets={k: v for k, v in row.targets.items() if k != "spam"})


def split(
    rows: Iterable[Row], fractions: tuple[float, float], seed: int = 13
) -> tuple[list[Row], list[Row], list[Row]]:
    """A fixed train / validation / test split, stratified by source and class."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.source, row.stratum), []).append(row)
    train: list[Row] = []
    valid: list[Row] = []
    test: list[Row] = []
    for key in sorted(groups, key=str):
        group = groups[key]
        # One generator per group, as in load_rows: moderators' labels (`train --labels`) add groups, and
        # those must not move the other sources' test rows, which `evaluate` rebuilds without the labels.
        random.Random(f"{seed}:{key[0]}:{key[1]}").shuffle(group)
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
