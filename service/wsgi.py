"""Serve the app with gunicorn, configured from code so `civility api` needs no config file."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from service.config import Settings
from service.logs import GUNICORN_LOGCONFIG

CLIENT_TIMEOUT_SECONDS = float(os.environ.get("CIVILITY_CLIENT_TIMEOUT_SECONDS", "10"))


class SlowClientTimeoutWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, with a deadline on every socket read and write of a request.

    gunicorn waits a bounded time for a connection's first bytes, but once a request has started it
    reads the rest with no timeout: a client that sends half its headers and stalls (slowloris) holds a
    thread for ever, and a few such clients hold all of them. Here each stalled read or write fails
    after CIVILITY_CLIENT_TIMEOUT_SECONDS and the connection is closed.
    """

    def handle(self, conn: Any) -> Any:
        if not getattr(conn, "civility_deadline", False):  # once per connection, not per keep-alive request
            initialize = conn.init

            def init_with_deadline() -> None:
                initialize()  # handle() made the socket blocking just before: give it a deadline instead
                conn.sock.settimeout(CLIENT_TIMEOUT_SECONDS)

            conn.init = init_with_deadline
            conn.civility_deadline = True
        return super().handle(conn)


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
        "worker_class": "service.wsgi.SlowClientTimeoutWorker",
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
