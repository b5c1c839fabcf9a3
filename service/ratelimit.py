"""Fixed-window request counters in Redis, shared by every API process."""

from __future__ import annotations

import time

from redis import Redis

from service import keys


def hit(redis: Redis, scope: str, limit: int, window_seconds: int = 60) -> int:
    """Count a request; returns 0 if allowed, else the seconds until the window resets."""
    window = int(time.time()) // window_seconds
    key = keys.rate_limit_key(scope, window)
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, window_seconds + 1)
    count = int(pipe.execute()[0])
    if count <= limit:
        return 0
    return window_seconds - int(time.time()) % window_seconds
