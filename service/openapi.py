"""Build the OpenAPI 3.1 document from the same pydantic schemas that validate requests."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from service.schemas import CommentAccepted, CommentIn, CommentOut, CommentPage, ErrorBody, ListQuery

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json("ErrorBody", "error") for status in statuses}


def _query_parameters() -> list[dict[str, Any]]:
    schema = ListQuery.model_json_schema()
    return [
        {"name": name, "in": "query", "required": False, "schema": prop} for name, prop in schema["properties"].items()
    ]


def document() -> dict[str, Any]:
    inputs: tuple[type[BaseModel], ...] = (CommentIn, ListQuery)
    outputs: tuple[type[BaseModel], ...] = (CommentAccepted, CommentOut, CommentPage, ErrorBody)
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "validation") for m in inputs]
    models += [(m, "serialization") for m in outputs]
    _, schemas = models_json_schema(models, ref_template=REF)
    auth: list[dict[str, list[str]]] = [{"siteKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Civility comment moderation API", "version": "1"},
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"siteKey": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/v1/comments": {
                "post": {
                    "summary": "Submit a reader's comment for moderation",
                    "security": auth,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CommentIn")}}},
                    "responses": {
                        "202": _json("CommentAccepted", "accepted, scoring queued"),
                        "200": _json("CommentAccepted", "already submitted with this external_id"),
                        **_errors(400, 401, 413, 415, 422, 503),
                    },
                }
            },
            "/v1/comments/{comment_id}": {
                "get": {
                    "summary": "A comment's status, scores, reasons and model version",
                    "security": auth,
                    "parameters": [
                        {"name": "comment_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": _json("CommentOut", "the comment"), **_errors(401, 404)},
                }
            },
            "/v1/articles/{article_id}/comments": {
                "get": {
                    "summary": "An article's comments, newest first, public fields only",
                    "security": auth,
                    "parameters": [
                        {"name": "article_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        *_query_parameters(),
                    ],
                    # An id the router cannot take (a line break, say) answers 404 like any unknown URL.
                    "responses": {"200": _json("CommentPage", "a page of comments"), **_errors(401, 404, 422)},
                }
            },
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "the process is up"}}}},
        },
    }
