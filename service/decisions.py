"""The only writer of a comment's status: the decision, its audit event and its webhook delivery land in
one transaction, so a decision is never recorded without its audit trail or its notification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.tables import APPROVED, HELD, PENDING, REJECTED, Comment, ModerationEvent, Site, utcnow
from service.webhooks import add_delivery

MODERATOR_TARGETS = (APPROVED, REJECTED)
REJECTION_REASONS = ("spam", "insult", "hate_speech", "threat", "off_topic", "illegal_content", "other")


@dataclass(frozen=True)
class Recorded:
    """Whether the change was written, and the webhook delivery to enqueue once committed."""

    ok: bool
    delivery_id: int | None = None
    event_id: int | None = None

    def __bool__(self) -> bool:
        return self.ok


def _transition(
    session: Session,
    comment: Comment,
    *,
    from_status: str,
    to_status: str,
    action: str,
    actor: str,
    reasons: list[dict[str, Any]],
    scores: dict[str, float] | None = None,
    model_version: str | None = None,
) -> Recorded:
    """Move `comment` from `from_status` only; a concurrent change makes this a no-op (returns not ok).

    The conditional UPDATE is what makes a comment decided exactly once even when two workers score
    it, or two moderators click at once: the loser updates no row.
    """
    now = utcnow()
    values: dict[str, Any] = {"status": to_status, "reasons": reasons, "decided_at": now}
    if action == "decide":
        values |= {"scores": scores, "model_version": model_version}
    result = session.execute(
        update(Comment).where(Comment.id == comment.id, Comment.status == from_status).values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return Recorded(False)
    event = ModerationEvent(
        comment_id=comment.id,
        site_id=comment.site_id,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reasons=reasons,
        scores=scores if action == "decide" else comment.scores,
        model_version=model_version if action == "decide" else comment.model_version,
        created_at=now,
    )
    session.add(event)
    session.refresh(comment)
    delivery = add_delivery(session, session.get(Site, comment.site_id), comment, actor)
    session.commit()
    return Recorded(True, delivery.id if delivery else None, event.id)


def record_automatic_decision(
    session: Session,
    comment: Comment,
    *,
    status: str,
    reasons: list[dict[str, Any]],
    scores: dict[str, float] | None,
    model_version: str | None,
    actor: str,
) -> Recorded:
    """Decide a pending comment (model, rules, or fail-closed); not ok if it was already decided."""
    return _transition(
        session,
        comment,
        from_status=PENDING,
        to_status=status,
        action="decide",
        actor=actor,
        reasons=reasons,
        scores=scores,
        model_version=model_version,
    )


def record_moderator_decision(
    session: Session, comment: Comment, *, moderator: str, to_status: str, reason_code: str | None, note: str = ""
) -> Recorded:
    """A moderator approves or rejects a held comment, or reverses an earlier decision."""
    if to_status not in MODERATOR_TARGETS:
        raise ValueError(f"a moderator can only approve or reject, not {to_status!r}")
    if to_status == REJECTED and reason_code not in REJECTION_REASONS:
        raise ValueError(f"a rejection needs a reason: one of {', '.join(REJECTION_REASONS)}")
    from_status = comment.status
    if from_status == to_status:
        return Recorded(False)
    action = {HELD: "", PENDING: ""}.get(from_status, "reverse_") + ("approve" if to_status == APPROVED else "reject")
    reason = {"code": reason_code or "approved", "rule": "moderator", "moderator": moderator}
    if note:
        reason["note"] = note[:1000]
    return _transition(
        session,
        comment,
        from_status=from_status,
        to_status=to_status,
        action=action,
        actor=f"moderator:{moderator}",
        reasons=[reason],
    )
