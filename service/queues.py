"""Enqueue work by dotted path, so the web process never imports the model or the job code."""

from __future__ import annotations

from redis import Redis
from rq import Callback, Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from service import keys
from service.config import Settings

SCORE_JOB = "workers.jobs.score_comment"
SCORE_FAILED_CALLBACK = "workers.jobs.on_score_failure"
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
