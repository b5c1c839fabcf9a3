"""Turn a comment's scores, its facts and its site's policy into a decision with the rules that fired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.tables import APPROVED, HELD, REJECTED
from service.text import matched_words

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Decision:
    status: str
    reasons: list[dict[str, Any]]


@dataclass(frozen=True)
class CommentFacts:
    """What the site's word, link and first-comment rules look at besides the scores."""

    body: str = ""
    link_count: int = 0
    author_approved_before: int = 0


def thresholds_of(policy: dict[str, Any] | None) -> dict[str, float]:
    return {k: float(v) for k, v in ((policy or {}).get("thresholds") or {}).items()}


def threshold_reasons(scores: dict[str, float], policy: dict[str, Any]) -> list[dict[str, Any]]:
    thresholds = thresholds_of(policy)
    fired = []
    for label, score in scores.items():
        threshold = thresholds.get(label, DEFAULT_THRESHOLD)
        if score >= threshold:
            fired.append({"code": label, "rule": "label_threshold", "score": score, "threshold": threshold})
    return sorted(fired, key=lambda reason: -float(reason["score"]))


def rule_reasons(facts: CommentFacts, policy: dict[str, Any]) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = []
    if suspect := matched_words(facts.body, policy.get("suspect_words") or []):
        reasons.append({"code": "suspect_word", "rule": "suspect_words", "words": suspect})
    if policy.get("hold_links") and facts.link_count:
        reasons.append({"code": "contains_link", "rule": "hold_links", "links": facts.link_count})
    if policy.get("premoderate_first_comment") and facts.author_approved_before == 0:
        reasons.append({"code": "first_comment", "rule": "premoderate_first_comment"})
    return reasons


def decide(scores: dict[str, float], policy: dict[str, Any] | None, facts: CommentFacts | None = None) -> Decision:
    """Reject on a banned word; hold when a label reaches its threshold or a site rule fires; else approve."""
    policy = policy or {}
    facts = facts or CommentFacts()
    if banned := matched_words(facts.body, policy.get("banned_words") or []):
        return Decision(REJECTED, [{"code": "banned_word", "rule": "banned_words", "words": banned}])
    held = threshold_reasons(scores, policy) + rule_reasons(facts, policy)
    if held:
        return Decision(HELD, held)
    top_label = max(scores, key=lambda label: scores[label]) if scores else None
    top_score = scores.get(top_label or "", 0.0)
    return Decision(
        APPROVED, [{"code": "below_thresholds", "rule": "label_threshold", "label": top_label, "score": top_score}]
    )
