"""Fixed-window request counters in Redis, shared by every API process."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from redis import Redis
from redis.exceptions import RedisError

from service import keys

log = logging.getLogger(__name__)


def hit(redis: Redis, scope: str, limit: int, window_seconds: int = 60) -> int:
    """Count a request; returns 0 if allowed, else the seconds until the window resets."""
    return hit_all(redis, [(scope, limit)], window_seconds)


def hit_all(redis: Redis, limits: Sequence[tuple[str, int]], window_seconds: int = 60) -> int:
    """Count a request against several (scope, limit) pairs in one round trip; 0 if every limit allows it,
    else the seconds until the window resets.

    Fails open: with Redis down a comment must still be accepted into the database (the reconciler
    queues it later), so a missing counter never turns into an error.
    """
    window = int(time.time()) // window_seconds
    try:
        pipe = redis.pipeline(transaction=False)
        for scope, _ in limits:
            key = keys.rate_limit_key(scope, window)
            pipe.incr(key)
            pipe.expire(key, window_seconds + 1)
        counts = [int(count) for count in pipe.execute()[::2]]
    except RedisError:
        log.warning("event=rate_limit_unavailable scopes=%s", ",".join(scope.split(":")[0] for scope, _ in limits))
        return 0
    if all(count <= limit for count, (_, limit) in zip(counts, limits, strict=True)):
        return 0
    return window_seconds - int(time.time()) % window_seconds
