"""The only writer of a comment's status: the decision, its audit event and its webhook delivery land in
one transaction, so a decision is never recorded without its audit trail or its notification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from service.tables import APPROVED, HELD, PENDING, REJECTED, Comment, ModerationEvent, Site, WebhookDelivery, utcnow
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


@dataclass(frozen=True)
class AutomaticDecision:
    """One pending comment's decision, as `record_automatic_decisions` takes it."""

    comment: Comment
    status: str
    reasons: list[dict[str, Any]]
    scores: dict[str, float] | None
    model_version: str | None
    model_precision: str | None
    actor: str


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
    model_precision: str | None = None,
) -> Recorded:
    """Move `comment` from `from_status` only, and commit; a concurrent change makes this a no-op.

    The conditional UPDATE is what makes a comment decided exactly once even when two workers score
    it, or two moderators click at once: the loser updates no row.
    """
    values = _new_values(to_status, reasons, scores, model_version, model_precision, action)
    result = session.execute(
        update(Comment).where(Comment.id == comment.id, Comment.status == from_status).values(**values),
        # The row is set below from `values`: matching the statement against every loaded object (the
        # default) and reloading the row would only add work while the write lock is held.
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return Recorded(False)
    site = session.get(Site, comment.site_id)
    event, delivery = _record_written(
        session, comment, site, values, from_status=from_status, action=action, actor=actor
    )
    session.commit()
    return Recorded(True, delivery.id if delivery else None, event.id)


def _new_values(
    to_status: str,
    reasons: list[dict[str, Any]],
    scores: dict[str, float] | None,
    model_version: str | None,
    model_precision: str | None,
    action: str,
) -> dict[str, Any]:
    values: dict[str, Any] = {"status": to_status, "reasons": reasons, "decided_at": utcnow()}
    if action == "decide":
        values |= {"scores": scores, "model_version": model_version, "model_precision": model_precision}
    return values


def _record_written(
    session: Session,
    comment: Comment,
    site: Site | None,
    values: dict[str, Any],
    *,
    from_status: str,
    action: str,
    actor: str,
) -> tuple[ModerationEvent, WebhookDelivery | None]:
    """After the row was updated to `values`: the loaded comment, its audit event and its delivery (added,
    not committed)."""
    for column, value in values.items():
        set_committed_value(comment, column, value)
    event = ModerationEvent(
        comment_id=comment.id,
        site_id=comment.site_id,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=values["status"],
        reasons=values["reasons"],
        scores=comment.scores,
        model_version=comment.model_version,
        model_precision=comment.model_precision,
        created_at=values["decided_at"],
    )
    session.add(event)
    delivery = add_delivery(session, site, comment, actor)
    return event, delivery


_DECIDE_PENDING = (
    update(Comment.__table__)  # type: ignore[arg-type]
    .where(Comment.__table__.c.id == bindparam("comment_id"), Comment.__table__.c.status == PENDING)
    .values(
        {
            column: bindparam(f"new_{column}", type_=Comment.__table__.c[column].type)
            for column in ("status", "reasons", "decided_at", "scores", "model_version", "model_precision")
        }
    )
)


def record_automatic_decisions(session: Session, decisions: list[AutomaticDecision]) -> list[Recorded]:
    """Decide a batch of pending comments in one transaction and one UPDATE statement (executemany).

    On SQLite every writer waits while one holds the write lock, and the API's POSTs are writers: the
    batch's write phase must be short. One commit instead of one per comment, and no per-comment ORM
    statement, took 32 decisions from 44 ms to a few. If the rows updated fall short of the batch, some
    comment was decided meanwhile (by a moderator, or a rescoring): the batch is rolled back and
    recorded comment by comment, where the conditional UPDATE tells which one lost.
    """
    if not decisions:
        return []
    values = [
        _new_values(d.status, d.reasons, d.scores, d.model_version, d.model_precision, "decide") for d in decisions
    ]
    params = [
        {f"new_{column}": value for column, value in row.items()} | {"comment_id": d.comment.id}
        for d, row in zip(decisions, values, strict=True)
    ]
    # In id order, so two overlapping batches lock their rows in the same order and cannot deadlock.
    result = session.connection().execute(_DECIDE_PENDING, sorted(params, key=lambda row: row["comment_id"]))
    if result.rowcount != len(decisions):
        session.rollback()
        return [
            record_automatic_decision(
                session,
                d.comment,
                status=d.status,
                reasons=d.reasons,
                scores=d.scores,
                model_version=d.model_version,
                model_precision=d.model_precision,
                actor=d.actor,
            )
            for d in decisions
        ]
    # Held here: the session keeps loaded objects only while something refers to them.
    sites = {site_id: session.get(Site, site_id) for site_id in {d.comment.site_id for d in decisions}}
    written = [
        _record_written(
            session, d.comment, sites[d.comment.site_id], row, from_status=PENDING, action="decide", actor=d.actor
        )
        for d, row in zip(decisions, values, strict=True)
    ]
    session.commit()
    return [Recorded(True, delivery.id if delivery else None, event.id) for event, delivery in written]


def record_automatic_decision(
    session: Session,
    comment: Comment,
    *,
    status: str,
    reasons: list[dict[str, Any]],
    scores: dict[str, float] | None,
    model_version: str | None,
    model_precision: str | None,
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
        model_precision=model_precision,
    )


def hold_unscored(session: Session, comment: Comment, *, detail: str, actor: str) -> Recorded:
    """Fail closed: hold a pending comment no model could score, with reason `scoring_failed` and no scores."""
    return record_automatic_decision(
        session,
        comment,
        status=HELD,
        reasons=[{"code": "scoring_failed", "rule": "scoring_failed", "detail": detail}],
        scores=None,
        model_version=None,
        model_precision=None,
        actor=actor,
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
