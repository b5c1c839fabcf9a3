"""Spam evidence beyond the text: links and their domains, the author's URL and email, repeated text.

The model reads only the words; comment spam also gives itself away by what it links to and by being
posted again and again. Each signal has a fixed weight, combined with the text's spam probability by
noisy-OR, so every point of the final score is traceable to a named signal in the stored reasons.
Weights are set by hand (no labelled comment metadata exists to fit them) and named here, in one place.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

from redis import Redis

from service import keys

URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9-]+\.(?:com|net|org|info|biz|ru|cn|xyz|top|io|co|us|uk)\b(?:/[^\s<>\"']*)?",
    re.I,
)
SHORTENERS = frozenset(
    "bit.ly tinyurl.com goo.gl t.co ow.ly is.gd buff.ly cutt.ly rebrand.ly shorturl.at tiny.cc rb.gy s.id".split()
)
DISPOSABLE_EMAIL = frozenset(
    "mailinator.com guerrillamail.com 10minutemail.com tempmail.com temp-mail.org yopmail.com trashmail.com "
    "sharklasers.com getnada.com dispostable.com maildrop.cc throwawaymail.com fakeinbox.com".split()
)
WEIGHTS = {
    "link": 0.15,  # one link: weak, readers cite sources
    "many_links": 0.5,  # three or more
    "shortened_link": 0.5,  # hides where it goes
    "author_url_in_body": 0.4,  # promoting the site in the "website" field
    "disposable_email": 0.3,
    "repeated_text": 0.6,  # the same text seen before, on any site, in the last day
    "repeated_often": 0.9,  # seen five or more times
}
REPEAT_WINDOW_SECONDS = 24 * 3600
# "Thanks!" or "Great article" is said by many honest readers; repetition counts only for longer texts.
REPEAT_MIN_WORDS = 6


@dataclass(frozen=True)
class Signal:
    name: str
    weight: float
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"signal": self.name, "weight": self.weight, "detail": self.detail}


def domain_of(url: str) -> str:
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        url = "http://" + url
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def links(text: str) -> list[str]:
    return URL.findall(text)


def skeleton(text: str) -> str:
    """Text reduced to its letters: near-duplicates that differ in links, numbers, case or spacing match."""
    text = URL.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    return " ".join(re.sub(r"[^\w\s]|\d|_", " ", text).split())


def link_signals(body: str, author_url: str | None, author_email: str | None) -> list[Signal]:
    found = links(body)
    domains = {domain_of(link) for link in found}
    signals = []
    if len(found) >= 3:
        signals.append(Signal("many_links", WEIGHTS["many_links"], f"{len(found)} links"))
    elif found:
        signals.append(Signal("link", WEIGHTS["link"], ", ".join(sorted(domains))))
    if shortened := sorted(domains & SHORTENERS):
        signals.append(Signal("shortened_link", WEIGHTS["shortened_link"], ", ".join(shortened)))
    if author_url and domain_of(author_url) in domains:
        signals.append(Signal("author_url_in_body", WEIGHTS["author_url_in_body"], domain_of(author_url)))
    email_domain = (author_email or "").rpartition("@")[2].lower()
    if email_domain in DISPOSABLE_EMAIL:
        # The domain is left out: the reason is shown to the site, and it is part of the author's email.
        signals.append(Signal("disposable_email", WEIGHTS["disposable_email"], "disposable email domain"))
    return signals


def repeat_signal(redis: Redis, body: str, comment_id: str) -> Signal | None:
    """Count this text's skeleton across all sites for a day; a comment counts once even if rescored."""
    return repeat_signals(redis, [(body, comment_id)])[0]


def repeat_signals(redis: Redis, comments: list[tuple[str, str]]) -> list[Signal | None]:
    """`repeat_signal` for each (body, comment_id), in one round trip; in order, so a text repeated within
    the batch counts its earlier copies."""
    pipe = redis.pipeline(transaction=False)
    counted = []
    for body, comment_id in comments:
        reduced = skeleton(body)
        if len(reduced.split()) < REPEAT_MIN_WORDS:
            counted.append(False)
            continue
        key = keys.repeated_text_key(hashlib.sha256(reduced.encode()).hexdigest()[:32])
        # A HyperLogLog: constant memory under a spam wave, and adding the same comment twice counts once.
        pipe.pfadd(key, comment_id)
        pipe.expire(key, REPEAT_WINDOW_SECONDS)
        pipe.pfcount(key)
        counted.append(True)
    replies = iter(pipe.execute()[2::3] if any(counted) else [])
    return [repeat_signal_of(int(next(replies)) - 1) if was_counted else None for was_counted in counted]


def repeat_signal_of(seen: int) -> Signal | None:
    if seen >= 4:
        return Signal("repeated_often", WEIGHTS["repeated_often"], f"seen {seen} times before")
    if seen >= 1:
        return Signal("repeated_text", WEIGHTS["repeated_text"], f"seen {seen} time(s) before")
    return None


def combine(text_probability: float, signals: list[Signal]) -> float:
    """Noisy-OR: the comment is not spam only if neither the text nor any signal says it is."""
    not_spam = 1.0 - text_probability
    for signal in signals:
        not_spam *= 1.0 - signal.weight
    return round(1.0 - not_spam, 6)
