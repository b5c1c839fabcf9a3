"""The only writer of a comment's status: the decision and its audit event land in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.tables import PENDING, Comment, ModerationEvent, utcnow


def record_automatic_decision(
    session: Session,
    comment: Comment,
    *,
    status: str,
    reasons: list[dict[str, Any]],
    scores: dict[str, float] | None,
    model_version: str | None,
    actor: str,
) -> bool:
    """Decide a pending comment; returns False (writing nothing) if it was already decided.

    The conditional UPDATE is what makes a comment decided exactly once even when two workers
    score it (a re-enqueued job racing a slow one): the loser updates no row.
    """
    now = utcnow()
    result = session.execute(
        update(Comment)
        .where(Comment.id == comment.id, Comment.status == PENDING)
        .values(status=status, reasons=reasons, scores=scores, model_version=model_version, decided_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    session.add(
        ModerationEvent(
            comment_id=comment.id,
            site_id=comment.site_id,
            actor=actor,
            action="decide",
            from_status=PENDING,
            to_status=status,
            reasons=reasons,
            scores=scores,
            model_version=model_version,
            created_at=now,
        )
    )
    session.commit()
    return True
