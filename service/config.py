"""Settings read once from the environment into a typed, immutable object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the common way (postgres:// or postgresql://)."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know; built by `from_env` and never mutated."""

    data_dir: Path
    database_url: str
    redis_url: str | None = None
    model_path: str | None = None
    # A comment pending longer than this is re-enqueued: its job was lost or its worker died.
    reconcile_after_seconds: float = 60.0
    reconcile_interval_seconds: float = 10.0
    # Scoring takes milliseconds; a job running this long is stuck and gets killed by RQ.
    job_timeout_seconds: int = 30
    # Waiting comments a scoring job takes along into one model batch (1 = no batching).
    score_batch_size: int = 32
    # ...and at most this many characters of comment text in one batch (its job timeout covers it all).
    score_batch_chars: int = 100_000
    # Threads torch uses in a worker; 0 = torch's default (one per core).
    torch_threads: int = 0
    retry_intervals: tuple[int, ...] = (2, 10, 30)
    # About 24 hours of retries before a webhook delivery is marked failed.
    webhook_retry_intervals: tuple[int, ...] = (10, 60, 300, 900, 1800, 3600, 7200, 14400, 21600, 36000)
    # A comment re-enqueued this many times without a decision is held as scoring_failed.
    max_enqueues: int = 5
    secret_key: str | None = None
    # Set CIVILITY_SECURE_COOKIES=1 behind HTTPS so the session cookie is never sent in clear.
    secure_cookies: bool = False
    # Reverse proxies in front of the API whose X-Forwarded-For/-Proto to believe (0: none, the default, so
    # a client cannot forge its address); the demo form's per-IP limit needs the reader's real address.
    trusted_proxies: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("CIVILITY_DATA_DIR") or "var").resolve()
        database_url = normalize_database_url(env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'civility.db'}")
        settings = cls(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=env.get("REDIS_URL") or None,
            model_path=env.get("CIVILITY_MODEL_PATH") or None,
            reconcile_after_seconds=float(env.get("CIVILITY_RECONCILE_AFTER_SECONDS", 60)),
            reconcile_interval_seconds=float(env.get("CIVILITY_RECONCILE_INTERVAL_SECONDS", 10)),
            job_timeout_seconds=int(env.get("CIVILITY_JOB_TIMEOUT_SECONDS", 30)),
            score_batch_size=max(1, int(env.get("CIVILITY_SCORE_BATCH_SIZE", 32))),
            score_batch_chars=max(1, int(env.get("CIVILITY_SCORE_BATCH_CHARS", 100_000))),
            torch_threads=max(0, int(env.get("CIVILITY_TORCH_THREADS", 0))),
            retry_intervals=_ints(env.get("CIVILITY_RETRY_INTERVALS", "2,10,30")),
            max_enqueues=int(env.get("CIVILITY_MAX_ENQUEUES", 5)),
            secret_key=env.get("CIVILITY_SECRET_KEY") or None,
            secure_cookies=env.get("CIVILITY_SECURE_COOKIES", "") in ("1", "true", "yes"),
            trusted_proxies=max(0, int(env.get("CIVILITY_TRUSTED_PROXIES", 0))),
            webhook_retry_intervals=_ints(
                env.get("CIVILITY_WEBHOOK_RETRY_INTERVALS", "10,60,300,900,1800,3600,7200,14400,21600,36000")
            ),
        )
        return replace(settings, **overrides)

    def with_redis(self, url: str) -> Settings:
        return replace(self, redis_url=url)
