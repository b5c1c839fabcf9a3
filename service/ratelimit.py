"""Fixed-window request counters in Redis, shared by every API process."""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import RedisError

from service import keys

log = logging.getLogger(__name__)


def hit(redis: Redis, scope: str, limit: int, window_seconds: int = 60) -> int:
    """Count a request; returns 0 if allowed, else the seconds until the window resets.

    Fails open: with Redis down a comment must still be accepted into the database (the reconciler
    queues it later), so a missing counter never turns into an error.
    """
    window = int(time.time()) // window_seconds
    key = keys.rate_limit_key(scope, window)
    try:
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds + 1)
        count = int(pipe.execute()[0])
    except RedisError:
        log.warning("event=rate_limit_unavailable scope=%s", scope.split(":")[0])
        return 0
    if count <= limit:
        return 0
    return window_seconds - int(time.time()) % window_seconds
