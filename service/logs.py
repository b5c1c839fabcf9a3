"""One JSON object per log line, with the request and comment ids, and no secrets.

Messages keep the `event=... comment_id=...` convention; each key=value pair also becomes a field,
so a log pipeline can filter on `comment_id` without parsing. API keys, bearer tokens and passwords
are masked in whatever a message or exception contains.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_PAIR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
_SECRETS = [
    (re.compile(r"cvl_[A-Za-z0-9_\-]{8,}"), "cvl_[redacted]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.=]+"), r"\1[redacted]"),
    (re.compile(r"(?i)((?:password|secret|api_key|token)[\"']?\s*[=:]\s*[\"']?)[^\s\"',&]+"), r"\1[redacted]"),
]
_RESERVED = {"time", "level", "logger", "message", "exception"}


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage())
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for key, value in _PAIR.findall(message):
            if key not in _RESERVED:
                entry[key] = value[1:-1] if value.startswith('"') else value
        if (current := request_id.get()) is not None:
            entry["request_id"] = current
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup(level: int = logging.INFO) -> None:
    """JSON lines on stderr for every logger of the process (ours, RQ's, gunicorn's error log)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


GUNICORN_LOGCONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
        "stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"},
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
    },
}
