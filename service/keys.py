"""Every Redis key, queue name and job id the service uses, built in one place."""

PREFIX = "civility:"

QUEUE_REALTIME = "moderation-realtime"
QUEUE_MODERATION = "moderation"
QUEUE_WEBHOOKS = "webhooks"
QUEUE_EXPLAIN = "explain"
# Listed in priority order: a worker drains synchronous requests before the backlog, and decides
# comments before it computes the spans that explain held ones (the costliest step, ~60% of a
# worker's time at 100 comments/s when done inline), so a burst delays explanations, not decisions.
WORKER_QUEUES = (QUEUE_REALTIME, QUEUE_MODERATION, QUEUE_WEBHOOKS, QUEUE_EXPLAIN)

RECONCILE_LOCK = PREFIX + "lock:reconcile"
EXPLAIN_SWEEP_CURSOR = PREFIX + "cursor:explain-sweep"


def score_job_id(comment_id: str) -> str:
    """Derived from the comment id so a comment enqueued twice is still one job."""
    return f"score-{comment_id}"


def repeated_text_key(digest: str) -> str:
    """Distinct comment ids whose text reduces to the same skeleton, kept for a day."""
    return f"{PREFIX}repeat:{digest}"


def explain_job_id(comment_id: str) -> str:
    return f"explain-{comment_id}"


def webhook_job_id(delivery_id: int) -> str:
    return f"webhook-{delivery_id}"


def histogram_key(name: str) -> str:
    return f"{PREFIX}histogram:{name}"


def rate_limit_key(scope: str, window: int) -> str:
    return f"{PREFIX}ratelimit:{scope}:{window}"
