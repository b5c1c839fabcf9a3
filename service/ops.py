"""Operational endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from rq import Worker
from sqlalchemy import text

from models.paths import default_artifact_dir
from service.app import services
from service.metrics import CivilityCollector
from service.openapi import document

ops = Blueprint("ops", __name__)


def model_dir() -> Path:
    path = services().settings.model_path
    return Path(path) if path else default_artifact_dir()


@ops.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


def _check(probe: Any) -> str:
    try:
        return str(probe())
    except Exception as error:  # each failure is reported by name, never raised
        return f"error: {type(error).__name__}"


@ops.get("/readyz")
def readyz() -> Any:
    """Redis, the database, the model artifact and live workers, each named with what failed."""
    svc = services()

    def database() -> str:
        with svc.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"

    def workers() -> str:
        count = Worker.count(connection=svc.redis)
        return "ok" if count else "error: no live workers"

    checks = {
        "redis": _check(lambda: "ok" if svc.redis.ping() else "error: no answer"),
        "database": _check(database),
        "model": "ok" if (model_dir() / "config.json").is_file() else f"error: no artifact at {model_dir()}",
        "workers": _check(workers),
    }
    ready = all(value == "ok" for value in checks.values())
    return {"ready": ready, "checks": checks}, 200 if ready else 503


@ops.get("/metrics")
def metrics() -> Response:
    svc = services()
    registry = CollectorRegistry()
    registry.register(CivilityCollector(svc.db, svc.redis, model_dir()))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


@ops.get("/openapi.json")
def openapi() -> Any:
    return document()
