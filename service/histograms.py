"""Histograms kept in Redis, so every worker on every machine adds to the same buckets and /metrics,
served by any API process, reads one truth (a prometheus_client Histogram lives in one process)."""

from __future__ import annotations

import logging

from prometheus_client.utils import floatToGoString
from redis import Redis
from redis.exceptions import RedisError

from service import keys

log = logging.getLogger(__name__)

SCORING_SECONDS = "scoring_seconds"
SCORING_BATCH_SIZE = "scoring_batch_size"
BUCKETS: dict[str, tuple[float, ...]] = {
    SCORING_SECONDS: (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    SCORING_BATCH_SIZE: (1, 2, 4, 8, 16, 32, 64),
}
HELP = {
    SCORING_SECONDS: "Model time per scoring batch (all comments in it)",
    SCORING_BATCH_SIZE: "Comments scored together in one model batch",
}


def observe(redis: Redis | None, name: str, value: float) -> None:
    """Count `value` into every bucket it falls under (buckets are cumulative, as Prometheus wants)."""
    if redis is None:
        return
    pipe = redis.pipeline(transaction=False)
    key = keys.histogram_key(name)
    for bound in BUCKETS[name]:
        if value <= bound:
            pipe.hincrby(key, f"{bound:g}", 1)
    pipe.hincrby(key, "+Inf", 1)
    pipe.hincrbyfloat(key, "sum", value)
    try:
        pipe.execute()
    except RedisError:
        log.warning("event=histogram_unavailable name=%s", name)  # a metric never fails a job


def read(redis: Redis, name: str) -> tuple[list[tuple[str, float]], float]:
    """Cumulative (upper bound, count) pairs ending with +Inf, and the sum of observations."""
    stored: dict[bytes, bytes] = redis.hgetall(keys.histogram_key(name))  # type: ignore[assignment]
    raw = {k.decode(): float(v) for k, v in stored.items()}
    buckets = [(floatToGoString(bound), raw.get(f"{bound:g}", 0.0)) for bound in BUCKETS[name]]
    return buckets + [("+Inf", raw.get("+Inf", 0.0))], raw.get("sum", 0.0)
