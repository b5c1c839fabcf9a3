"""Serve the app with gunicorn, configured from code so `civility api` needs no config file."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from service.config import Settings
from service.logs import GUNICORN_LOGCONFIG


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gthread workers: the synchronous Perspective-compatible endpoint waits on a job, so
    threads keep a waiting request from blocking a whole process."""

    def __init__(self, settings: Settings, options: dict[str, Any]):
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from service.app import create_app

        return create_app(self.settings)


def serve(settings: Settings, host: str, port: int, processes: int = 2, threads: int = 4) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": processes,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        "proc_name": "civility api",
        "accesslog": "-",
        "access_log_format": (
            'event=request method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s ms=%(M)s request_id=%({x-request-id}o)s'
        ),
        "logconfig_dict": GUNICORN_LOGCONFIG,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
    }
    GunicornServer(settings, options).run()
