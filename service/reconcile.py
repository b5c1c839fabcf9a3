"""Re-enqueue comments left pending too long, so no accepted comment waits forever; and deliveries and
explanations whose jobs were lost."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import and_, or_, select, true, update
from sqlalchemy.orm import Session

from service import keys
from service.config import Settings
from service.decisions import hold_unscored
from service.keys import explain_job_id, score_job_id, webhook_job_id
from service.queues import enqueue_explanation, enqueue_scoring, fetch_job
from service.tables import HELD, PENDING, Comment, WebhookDelivery, utcnow
from service.webhooks import enqueue_delivery, notify

log = logging.getLogger(__name__)
BATCH = 500
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def job_is_lost(redis: Redis, comment_id: str, settings: Settings, queued: dict[str, set[str]] | None = None) -> bool:
    """True when no live job will decide this comment: missing, ended, or started by a dead worker.

    `queued` caches each queue's job ids for one reconcile pass (one LRANGE, not an LPOS per comment).
    """
    job = fetch_job(redis, score_job_id(comment_id))
    if job is None:
        return True
    status = job.get_status(refresh=False)
    if status == JobStatus.QUEUED:
        # Queued but not in its queue: a worker took it off to batch it and died before marking it
        # started (the fault-injection suite caught this window with a SIGKILL).
        queued = {} if queued is None else queued
        if job.origin not in queued:
            queued[job.origin] = set(Queue(job.origin, connection=redis).get_job_ids())
        return job.id not in queued[job.origin]
    if status == JobStatus.SCHEDULED:
        # A retry whose time has long passed: the worker's scheduler process is gone (it dies on some
        # Redis errors, as the fault-injection suite showed after a Redis restart).
        try:
            due = ScheduledJobRegistry(queue=Queue(job.origin, connection=redis)).get_scheduled_time(job)
        except NoSuchJobError:
            return True
        return (utcnow() - due).total_seconds() > settings.reconcile_after_seconds
    if status in WAITING:
        return False
    if status == JobStatus.STARTED:
        # RQ kills a job at its timeout, so a job started longer ago than that has no live worker.
        limit = max(settings.job_timeout_seconds * 2, settings.reconcile_after_seconds)
        return job.started_at is None or (utcnow() - job.started_at).total_seconds() > limit
    return True


def reconcile_deliveries(session: Session, redis: Redis, settings: Settings) -> int:
    """Re-enqueue webhook deliveries still pending with no job: their enqueue failed (Redis was down)."""
    cutoff = utcnow() - timedelta(seconds=settings.reconcile_after_seconds)
    stale = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.updated_at < cutoff)
        .limit(BATCH)
    ).all()
    count = 0
    for delivery in stale:
        if fetch_job(redis, webhook_job_id(delivery.id)) is None:
            enqueue_delivery(redis, settings, delivery.id)
            count += 1
    return count


def reconcile(session: Session, redis: Redis, settings: Settings) -> int:
    """One pass: re-enqueue stale pending comments, holding those that keep failing. Returns how many."""
    cutoff = utcnow() - timedelta(seconds=settings.reconcile_after_seconds)
    stale = session.scalars(
        select(Comment)
        .where(Comment.status == PENDING, Comment.enqueued_at < cutoff)
        .order_by(Comment.enqueued_at)
        .limit(BATCH)
    ).all()
    handled = 0
    queued: dict[str, set[str]] = {}
    for comment in stale:
        if not job_is_lost(redis, comment.id, settings, queued):
            continue
        if comment.enqueue_count >= settings.max_enqueues:
            detail = f"not decided after {comment.enqueue_count} attempts"
            recorded = hold_unscored(session, comment, detail=detail, actor="reconciler")
            notify(redis, settings, recorded.delivery_id)
        else:
            attempt = comment.enqueue_count + 1
            enqueue_scoring(redis, settings, comment.id, replace_live=True)
            session.execute(
                update(Comment)
                .where(Comment.id == comment.id)
                .values(enqueued_at=utcnow(), enqueue_count=Comment.enqueue_count + 1)
            )
            session.commit()
            log.info("event=reenqueued comment_id=%s attempt=%d", comment.id, attempt)
        handled += 1
    return handled


def needs_explanation(reasons: list[dict] | None) -> bool:
    """A label fired on the comment's words and its spans were never written."""
    return any(r.get("rule") == "label_threshold" and "spans" not in r for r in reasons or [])


def reconcile_explanations(session: Session, redis: Redis, settings: Settings, model_version: str) -> int:
    """Re-enqueue explanations lost with Redis (or never enqueued) for comments held in the last day.

    Only comments the current model decided: the explain job skips the others, so they would come back on
    every pass. A failed explanation keeps its job record for a day, so it is not retried in a loop either.
    Each pass reads the next `BATCH` held comments from a cursor kept in Redis, newest first, and starts
    over at the newest when it reaches the day's end: under a wave of held comments every one is
    looked at in turn, not only the newest.
    """
    now = utcnow()
    newest = now - timedelta(seconds=settings.reconcile_after_seconds)
    # The cursor is (decided_at, id): a batch's decisions share one decided_at, and a cursor on the time
    # alone skipped the rest of a batch that straddled a page boundary.
    stored = redis.get(keys.EXPLAIN_SWEEP_CURSOR)
    if isinstance(stored, bytes):
        at, _, last_id = stored.decode().partition("|")
        cursor = datetime.fromisoformat(at)
        after_cursor = or_(Comment.decided_at < cursor, and_(Comment.decided_at == cursor, Comment.id < last_id))
    else:
        after_cursor = true()
    held = session.execute(
        select(Comment.id, Comment.reasons, Comment.decided_at)
        .where(
            Comment.status == HELD,
            Comment.model_version == model_version,
            Comment.decided_at < newest,
            after_cursor,
            Comment.decided_at > now - timedelta(days=1),
        )
        .order_by(Comment.decided_at.desc(), Comment.id.desc())
        .limit(BATCH)
    ).all()
    if len(held) == BATCH:
        last = held[-1]
        redis.set(keys.EXPLAIN_SWEEP_CURSOR, f"{last.decided_at.isoformat()}|{last.id}", ex=24 * 3600)
    else:
        redis.delete(keys.EXPLAIN_SWEEP_CURSOR)
    count = 0
    for comment_id, reasons, _ in held:
        if needs_explanation(reasons) and fetch_job(redis, explain_job_id(comment_id)) is None:
            enqueue_explanation(redis, settings, comment_id)
            log.info("event=explanation_reenqueued comment_id=%s", comment_id)
            count += 1
    return count
