"""Turn a comment's scores and its site's policy into a decision with the reasons that fired."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.tables import APPROVED, HELD

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Decision:
    status: str
    reasons: list[dict[str, Any]]


def thresholds_of(policy: dict[str, Any] | None) -> dict[str, float]:
    return {k: float(v) for k, v in ((policy or {}).get("thresholds") or {}).items()}


def decide(scores: dict[str, float], policy: dict[str, Any] | None) -> Decision:
    """Hold when any label's score reaches its threshold, else approve; name what fired."""
    thresholds = thresholds_of(policy)
    fired: list[dict[str, Any]] = []
    for label, score in scores.items():
        threshold = thresholds.get(label, DEFAULT_THRESHOLD)
        if score >= threshold:
            fired.append({"code": label, "rule": "label_threshold", "score": score, "threshold": threshold})
    if fired:
        fired.sort(key=lambda reason: -float(reason["score"]))
        return Decision(HELD, fired)
    top_label = max(scores, key=lambda label: scores[label]) if scores else None
    return Decision(
        APPROVED,
        [
            {
                "code": "below_thresholds",
                "rule": "label_threshold",
                "label": top_label,
                "score": scores.get(top_label or "", 0.0),
            }
        ],
    )
