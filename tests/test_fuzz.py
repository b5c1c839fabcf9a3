"""Hardened input: schemathesis against /openapi.json, hypothesis for text folding and policy, and the
Unicode comments real readers send, through the real API, queue, worker and model."""

from __future__ import annotations

import unicodedata

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from service.policy import CommentFacts, decide
from service.tables import APPROVED, HELD, REJECTED
from service.text import ZERO_WIDTH, fold, matched_words
from tests.conftest import auth, comment_payload

# --- schemathesis: every operation of the published schema, authenticated -------------------------


@pytest.fixture
def site_key(make_site):
    # Fuzzing sends many comments from few addresses: the submission limits are not under test here.
    _, key = make_site(submissions_per_minute=10**6, submissions_per_ip_per_minute=10**6)
    return key


def test_every_operation_answers_without_5xx_and_as_documented(app, site_key):
    # schemathesis's pytest plugin does not load under this pytest, so the operations are driven directly.
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/comments", "/v1/comments/{comment_id}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            headers = {"Authorization": f"Bearer {site_key}"}
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.path, response.text)
            case.validate_response(response, headers=headers)

        check()


# --- hypothesis: text folding ----------------------------------------------------------------------

HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "y": "у", "x": "х", "i": "і", "s": "ѕ"}
ZERO_WIDTH_CHARS = "".join(chr(c) for c in ZERO_WIDTH)


@given(st.text())
def test_folding_is_idempotent_and_leaves_no_zero_width_or_combining_marks(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert not set(folded) & set(ZERO_WIDTH_CHARS)
    assert not any(unicodedata.combining(c) for c in folded)


disguise = st.tuples(st.sampled_from(["plain", "upper", "homoglyph"]), st.sampled_from(["", *ZERO_WIDTH_CHARS]))


@given(
    word=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=12),
    disguises=st.lists(disguise, min_size=12, max_size=12),
    before=st.sampled_from(["", "You ", "¡", "«", "\u202e", "שלום "]),
    after=st.sampled_from(["", "!", " now.", "»", " 😡"]),
)
def test_a_banned_word_is_found_through_case_homoglyphs_and_zero_width_characters(word, disguises, before, after):
    disguised = ""
    for char, (how, joiner) in zip(word, disguises, strict=False):
        shown = {"plain": char, "upper": char.upper(), "homoglyph": HOMOGLYPHS.get(char, char)}[how]
        disguised += shown + joiner
    assert matched_words(before + disguised + after, [word]) == [word]


@given(
    word=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8),
    prefix=st.text(alphabet="bcdfghjklmnpqrtvwz", min_size=1, max_size=3),
)
def test_a_banned_word_inside_a_longer_word_is_not_a_match(word, prefix):
    assert matched_words(f"the {prefix}{word}{prefix} was fine", [word]) == []


# --- hypothesis: policy ----------------------------------------------------------------------------

LABELS = ("toxicity", "identity_attack", "profanity", "spam")
scores_strategy = st.fixed_dictionaries({label: st.floats(0, 1) for label in LABELS})
thresholds_strategy = st.fixed_dictionaries({label: st.floats(0.01, 1) for label in LABELS})


@given(scores=scores_strategy, thresholds=thresholds_strategy)
def test_a_comment_is_held_exactly_when_a_label_reaches_its_threshold(scores, thresholds):
    decision = decide(scores, {"thresholds": thresholds})
    reached = {label for label in LABELS if scores[label] >= thresholds[label]}
    assert decision.status == (HELD if reached else APPROVED)
    if reached:
        assert {r["code"] for r in decision.reasons} == reached
        ordered = [r["score"] for r in decision.reasons]
        assert ordered == sorted(ordered, reverse=True)


@given(scores=scores_strategy, thresholds=thresholds_strategy, label=st.sampled_from(LABELS), bump=st.floats(0, 1))
def test_a_higher_score_never_turns_a_hold_into_an_approval(scores, thresholds, label, bump):
    before = decide(scores, {"thresholds": thresholds})
    after = decide(dict(scores, **{label: min(1.0, scores[label] + bump)}), {"thresholds": thresholds})
    if before.status == HELD:
        assert after.status == HELD


@given(scores=scores_strategy, body=st.text(max_size=200))
def test_a_banned_word_rejects_whatever_the_scores(scores, body):
    decision = decide(scores, {"banned_words": ["scumbag"]}, CommentFacts(body=f"{body} SCUMBAG {body}"))
    assert decision.status == REJECTED
    assert decision.reasons[0]["words"] == ["scumbag"]


# --- Unicode comments through the whole pipeline ---------------------------------------------------

UNICODE_COMMENTS = {
    "arabic_rtl": "شكرا على هذا التقرير الرائع عن مجلس المدينة",
    "hebrew_rtl_mixed": "תודה על הכתבה about the council vote, מאוד מעניין",
    "rtl_override": "Great point \u202egnitsereti yrev\u202c about the budget",
    "zero_width": "Thanks\u200b for\u200d the\u2060 report\ufeff on the new park",
    "emoji_only": "👏👏👏🔥🙌",
    "flags_and_skin_tones": "🇺🇦🇵🇸🇮🇱 👍🏽👍🏿 👨‍👩‍👧‍👦",
    "combining_marks": "Z̷̢a̶l̸g̵o̴ text is annoying but harmless",
    "cjk": "市议会的决定太仓促了，居民们没有被征求意见。",
    "ten_thousand": ("The council's plan deserves a careful read. " * 250)[:10_000],
}


@pytest.mark.parametrize("kind", sorted(UNICODE_COMMENTS))
def test_unicode_comments_are_stored_unchanged_and_decided(kind, client, make_site, drain):
    site, key = make_site()
    body = UNICODE_COMMENTS[kind]
    response = client.post("/v1/comments", json=comment_payload(body=body), headers=auth(key))
    assert response.status_code == 202, response.get_json()
    comment_id = response.get_json()["id"]
    drain()
    result = client.get(f"/v1/comments/{comment_id}", headers=auth(key)).get_json()
    assert result["body"] == body
    assert result["status"] in (APPROVED, HELD)
    assert set(result["scores"]) >= {"toxicity", "spam"}


def test_a_homoglyph_spelling_of_a_banned_word_is_rejected_end_to_end(client, make_site, drain):
    site, key = make_site(banned_words=["scumbag"])
    disguised = "You \u0455\u0441um\u200bb\u0430g, read the article first."  # Cyrillic s, c, a; a zero-width space
    response = client.post("/v1/comments", json=comment_payload(body=disguised), headers=auth(key))
    comment_id = response.get_json()["id"]
    drain()
    result = client.get(f"/v1/comments/{comment_id}", headers=auth(key)).get_json()
    assert result["status"] == REJECTED
    assert result["reasons"][0]["code"] == "banned_word"


def test_a_comment_over_ten_thousand_characters_is_refused_with_the_field_named(client, make_site):
    site, key = make_site()
    response = client.post("/v1/comments", json=comment_payload(body="a" * 10_001), headers=auth(key))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "10000" in error["fields"]["body"] and "body" in error["message"]


def test_a_nul_character_is_dropped_not_a_database_error(client, make_site):
    site, key = make_site()
    response = client.post("/v1/comments", json=comment_payload(body="fine\x00 comment"), headers=auth(key))
    assert response.status_code == 202
    comment_id = response.get_json()["id"]
    assert client.get(f"/v1/comments/{comment_id}", headers=auth(key)).get_json()["body"] == "fine comment"
