"""Per-process state of a worker: settings, connections and the scorer, each made once."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from redis import Redis

from service.config import Settings
from service.db import Database

if TYPE_CHECKING:
    from models import Scorer


class Runtime:
    """Holds what jobs need; the scorer is loaded on first use and kept for the process's life."""

    def __init__(self, settings: Settings, scorer: Scorer | None = None):
        self.settings = settings
        self.db = Database(settings.database_url)
        self.redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        self._scorer: Scorer | None = scorer
        self._lock = threading.Lock()

    def scorer(self) -> Scorer:
        with self._lock:
            if self._scorer is None:
                import models

                self._scorer = models.load(self.settings.model_path)
            return self._scorer


_current: Runtime | None = None


def configure(settings: Settings, scorer: Scorer | None = None) -> Runtime:
    """Set this process's runtime; a scorer already loaded (by a test session) can be handed in."""
    reset()
    global _current
    _current = Runtime(settings, scorer)
    return _current


def reset() -> None:
    """Drop this process's runtime, closing its database connections."""
    global _current
    if _current is not None:
        _current.db.dispose()
        if _current.redis is not None:
            _current.redis.close()
    _current = None


def current() -> Runtime:
    """The configured runtime, or one built from the environment (e.g. under plain `rq worker`)."""
    global _current
    if _current is None:
        _current = Runtime(Settings.from_env())
    return _current
