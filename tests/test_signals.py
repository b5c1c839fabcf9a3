"""Spam signals from metadata and repetition, on real Redis."""

from __future__ import annotations

import pytest

from service import signals


def names(found):
    return {s.name for s in found}


def test_links_and_their_domains_are_found_in_plain_and_bare_forms():
    body = "see https://www.Example.com/a?b=1 and www.foo.org plus cheap-pills.biz/buy"
    assert [signals.domain_of(link) for link in signals.links(body)] == ["example.com", "foo.org", "cheap-pills.biz"]


def test_one_cited_source_is_only_a_weak_signal():
    found = signals.link_signals("The report is at https://council.gov.example/report.pdf", None, "a@example.org")
    assert names(found) == {"link"} and signals.combine(0.1, found) < 0.3


@pytest.mark.parametrize(
    ("body", "author_url", "email", "expected"),
    [
        ("a http://a.com b http://b.com c http://c.com", None, "x@example.org", {"many_links"}),
        ("win at http://bit.ly/abc", None, "x@example.org", {"link", "shortened_link"}),
        ("Great post! more at myshop.com", "https://www.myshop.com/", "x@example.org", {"link", "author_url_in_body"}),
        ("Nice article.", None, "bot@Mailinator.com", {"disposable_email"}),
    ],
)
def test_metadata_signals(body, author_url, email, expected):
    assert names(signals.link_signals(body, author_url, email)) == expected


def test_near_duplicates_share_a_skeleton():
    a = signals.skeleton("Earn $500/day from HOME!!! http://x.example/1")
    b = signals.skeleton("earn $900/day   from home... https://y.example/2")
    assert a == b == "earn day from home"


def test_noisy_or_combination_is_bounded_and_monotonic():
    strong = signals.Signal("shortened_link", 0.5, "bit.ly")
    assert signals.combine(0.0, []) == 0.0
    assert signals.combine(0.2, [strong]) == pytest.approx(0.6)
    assert signals.combine(0.99, [strong, strong]) <= 1.0


def test_repetition_counts_distinct_comments_for_a_day(redis):
    text = "Work from home and earn thousands every single week guaranteed"
    assert signals.repeat_signal(redis, text, "c1") is None
    assert signals.repeat_signal(redis, text, "c1") is None  # the same comment rescored
    second = signals.repeat_signal(redis, text + " http://spam.example", "c2")
    assert second is not None and second.name == "repeated_text"
    for n in range(3, 7):
        last = signals.repeat_signal(redis, text, f"c{n}")
    assert last is not None and last.name == "repeated_often"
    assert 0 < redis.ttl(next(iter(redis.scan_iter("civility:repeat:*")))) <= signals.REPEAT_WINDOW_SECONDS


def test_short_common_phrases_are_not_counted_as_repetition(redis):
    for n in range(5):
        assert signals.repeat_signal(redis, "Great article, thanks!", f"c{n}") is None
