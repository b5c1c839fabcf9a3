"""Synchronous scoring for the compatibility APIs: a job on the high-priority queue, awaited with a timeout.

The web process never loads the model; it waits on the worker's result instead (RQ publishes results to a
Redis stream, so the wait wakes as soon as the job ends). The job is deleted afterwards so the text does
not outlive the request in Redis.
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.results import Result

from service import keys

SCORE_TEXT_JOB = "workers.jobs.score_text"


class ScoringUnavailable(Exception):
    """No worker answered in time, or scoring failed."""


def score_now(redis: Redis, text: str, span_labels: list[str], timeout: float) -> dict[str, Any]:
    """{"scores": {label: p}, "spans": {label: [...]}, "model_version": str} from a worker, or raise."""
    queue = Queue(keys.QUEUE_REALTIME, connection=redis)
    try:
        job = queue.enqueue(
            SCORE_TEXT_JOB, text, span_labels, job_timeout=30, result_ttl=60, failure_ttl=60, ttl=int(timeout) + 1
        )
        try:
            result = job.latest_result(timeout=max(1, int(round(timeout))))
        finally:
            job.delete()
    except RedisError as error:
        raise ScoringUnavailable("the scoring queue is unreachable") from error
    if result is None or result.type != Result.Type.SUCCESSFUL:
        raise ScoringUnavailable("no worker scored the text in time" if result is None else "scoring failed")
    return dict(result.return_value or {})
