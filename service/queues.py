"""Enqueue work by dotted path, so the web process never imports the model or the job code."""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from service import keys
from service.config import Settings

log = logging.getLogger(__name__)

SCORE_JOB = "workers.jobs.score_comment"
SCORE_FAILED_CALLBACK = "workers.jobs.on_score_failure"
EXPLAIN_JOB = "workers.jobs.explain_comment"
# A job in one of these states is still going to run: enqueueing it again would only duplicate it.
LIVE_STATUSES = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED}


def queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis)


def fetch_job(redis: Redis, job_id: str) -> Job | None:
    try:
        return Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return None


def enqueue_scoring(
    redis: Redis, settings: Settings, comment_id: str, *, replace_live: bool = False, new_comment: bool = False
) -> Job:
    """Enqueue `score_comment`; a live job for the comment is kept unless `replace_live`.

    `new_comment` says the comment was just created, so no job for it can exist: the look-up is skipped and
    the job is written in one round trip, which is most of what a POST spends in Redis.
    """
    job_id = keys.score_job_id(comment_id)
    existing = None if new_comment else fetch_job(redis, job_id)
    if existing is not None:
        status = existing.get_status(refresh=False)
        if status in LIVE_STATUSES and not replace_live:
            return existing
        if status == JobStatus.STARTED:
            # Its worker is gone (the reconciler decided so): free the slot in the registry.
            queue(redis, existing.origin).started_job_registry.remove_executions(existing)
        elif status == JobStatus.SCHEDULED:
            # Its retry is overdue (no scheduler runs it): a scheduler coming back must not run it too.
            queue(redis, existing.origin).scheduled_job_registry.remove(existing)
    retry = (
        Retry(max=len(settings.retry_intervals), interval=list(settings.retry_intervals))
        if settings.retry_intervals
        else None
    )
    pipe = redis.pipeline()
    job = queue(redis, keys.QUEUE_MODERATION).enqueue(
        SCORE_JOB,
        comment_id,
        job_id=job_id,
        retry=retry,
        on_failure=Callback(SCORE_FAILED_CALLBACK),
        job_timeout=settings.job_timeout_seconds,
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        pipeline=pipe,
    )
    pipe.execute()
    return job


def enqueue_explanation(redis: Redis, settings: Settings, comment_id: str) -> None:
    """Spans come after the decision, from a lower-priority queue: a burst delays them, not decisions."""
    try:
        queue(redis, keys.QUEUE_EXPLAIN).enqueue(
            EXPLAIN_JOB,
            comment_id,
            job_id=keys.explain_job_id(comment_id),
            job_timeout=settings.job_timeout_seconds,
            retry=Retry(max=3, interval=[10, 60, 300]),
            result_ttl=600,
            failure_ttl=24 * 3600,
        )
    except RedisError:
        # The decision stands without spans; moderators still see the scores and the rule that fired, and
        # the reconciler enqueues it again.
        log.exception("event=explain_enqueue_failed comment_id=%s", comment_id)
