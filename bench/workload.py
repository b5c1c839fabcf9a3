"""The comments every scoring benchmark measures on, and how it times them: no import of `models`, so a
benchmark can time an older checkout's scorer on exactly the same workload (bench/first_version.py)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

WORDS = (
    "the council vote on the new park was rushed and residents say they were never asked about it . "
    "I think the mayor should answer for the budget , not the teachers who already work hard ! "
    "this article explains the traffic plan well but misses what people on the east side need . "
    "why does the paper keep ignoring the school board ? thanks for the careful reporting , really ."
).split()


def corpus(n: int, seed: int = 7) -> list[str]:
    """`n` comments whose word counts are log-normal (median ~60 words and tokens), capped at 480."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        length = min(480, max(3, int(rng.lognormvariate(4.1, 0.7))))
        start = rng.randrange(len(WORDS))
        texts.append(" ".join(WORDS[(start + i) % len(WORDS)] for i in range(length)))
    return texts


def rate(fn: Callable[[list[str]], object], texts: list[str], batch: int, seconds: float) -> float:
    """Comments/s of `fn` over consecutive slices of `texts` of size `batch`, for about `seconds`."""
    fn(texts[:batch])  # warm-up
    done, started, position = 0, time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        chunk = texts[position : position + batch] or texts[:batch]
        position = position + batch if position + batch < len(texts) else 0
        fn(chunk)
        done += len(chunk)
    return done / (time.perf_counter() - started)
