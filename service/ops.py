"""Operational endpoints: liveness and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from service.openapi import document

ops = Blueprint("ops", __name__)


@ops.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@ops.get("/openapi.json")
def openapi() -> Any:
    return document()
