"""Perspective API's `comments:analyze` and `comments:suggestscore`, as Coral Talk and other clients call them."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request

from service.app import services
from service.ratelimit import hit
from service.realtime import ScoringUnavailable, score_now
from service.sites import authenticate
from service.tables import Site, TrainingLabel

perspective = Blueprint("perspective", __name__, url_prefix="/v1alpha1")
ATTRIBUTES = {
    "TOXICITY": "toxicity",
    "SEVERE_TOXICITY": "severe_toxicity",
    "IDENTITY_ATTACK": "identity_attack",
    "INSULT": "insult",
    "PROFANITY": "profanity",
    "THREAT": "threat",
    "SPAM": "spam",
}
SUPPORTED_LANGUAGES = ("en",)
MAX_TEXT_BYTES = 20 * 1024
DEFAULT_RATE_LIMIT_PER_MINUTE = 600
TIMEOUT_SECONDS = 5.0
ERROR_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


class PerspectiveError(Exception):
    def __init__(self, http: int, status: str, message: str, error_type: str | None = None):
        super().__init__(message)
        self.http, self.status, self.message, self.error_type = http, status, message, error_type

    def response(self) -> tuple[dict[str, Any], int]:
        error: dict[str, Any] = {"code": self.http, "message": self.message, "status": self.status}
        if self.error_type:
            error["details"] = [{"@type": ERROR_TYPE, "errorType": self.error_type}]
        return {"error": error}, self.http


@perspective.errorhandler(PerspectiveError)
def perspective_error(error: PerspectiveError) -> Any:
    body, status = error.response()
    headers = {"Retry-After": "60"} if status == 429 else {}
    return body, status, headers


def invalid(message: str, error_type: str | None = None) -> PerspectiveError:
    return PerspectiveError(400, "INVALID_ARGUMENT", f"{error_type}: {message}" if error_type else message, error_type)


def site_from_key() -> Site:
    """Perspective clients send `?key=`; Bearer works too. A bad key is refused as Google does."""
    key = request.args.get("key", "")
    if not key and request.headers.get("Authorization", "").lower().startswith("bearer "):
        key = request.headers["Authorization"][7:].strip()
    if not key:
        raise PerspectiveError(403, "PERMISSION_DENIED", "The request is missing a valid API key.")
    with services().db.session() as db_session:
        site = authenticate(db_session, key)
    if site is None:
        raise invalid("API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
    limit = int((site.policy or {}).get("rate_limit_per_minute", DEFAULT_RATE_LIMIT_PER_MINUTE))
    if hit(services().redis, f"site:{site.id}", limit):
        raise PerspectiveError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for this site's requests per minute.")
    return site


def request_json() -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise invalid("Invalid JSON payload received.") from None
    if not isinstance(body, dict):
        raise invalid("Invalid JSON payload received: expected an object.")
    return body


def comment_text(body: dict[str, Any]) -> str:
    comment = body.get("comment")
    text = comment.get("text") if isinstance(comment, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise invalid("Comment must be non-empty.", "COMMENT_EMPTY")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise invalid("Comment text was too many bytes.", "COMMENT_TOO_LONG")
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def requested_attributes(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    requested = body.get("requestedAttributes")
    if not isinstance(requested, dict) or not requested:
        raise invalid("No requested attributes.", "NO_REQUESTED_ATTRIBUTES")
    out = {}
    for name, options in requested.items():
        if name not in ATTRIBUTES:
            raise invalid(f"Unknown attribute: {name}")
        options = options if isinstance(options, dict) else {}
        if options.get("scoreType", "PROBABILITY") != "PROBABILITY":
            raise invalid(f"Unsupported score type: {options.get('scoreType')}")
        threshold = options.get("scoreThreshold", 0)
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise invalid(f"scoreThreshold for {name} must be a number from 0 to 1")
        out[name] = {"threshold": float(threshold)}
    return out


def languages(body: dict[str, Any], attributes: list[str]) -> list[str]:
    asked = body.get("languages") or ["en"]
    if not isinstance(asked, list) or not all(isinstance(lang, str) for lang in asked):
        raise invalid("languages must be a list of language codes")
    unsupported = [lang for lang in asked if lang.split("-")[0].lower() not in SUPPORTED_LANGUAGES]
    if unsupported:
        raise invalid(
            f"Attribute {attributes[0]} does not support request languages: {', '.join(unsupported)}",
            "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        )
    return [lang.split("-")[0].lower() for lang in asked]


def span_scores(text: str, spans: list[dict[str, Any]], summary: float, annotated: bool) -> list[dict[str, Any]]:
    """Word spans (models.explain) when asked for, else one span over the whole text, as Perspective answers."""
    if not annotated:
        spans = [{"begin": 0, "end": len(text), "score": summary}]
    return [
        {"begin": s["begin"], "end": s["end"], "score": {"value": s["score"], "type": "PROBABILITY"}} for s in spans
    ]


@perspective.post("/comments:analyze")
def analyze() -> Any:
    site_from_key()
    body = request_json()
    text = comment_text(body)
    attributes = requested_attributes(body)
    langs = languages(body, list(attributes))
    annotated = bool(body.get("spanAnnotations"))
    labels = [ATTRIBUTES[name] for name in attributes]
    try:
        result = score_now(services().redis, text, labels if annotated else [], TIMEOUT_SECONDS)
    except ScoringUnavailable as error:
        raise PerspectiveError(503, "UNAVAILABLE", str(error)) from None
    scores: dict[str, float] = result["scores"]
    if missing := [name for name in attributes if ATTRIBUTES[name] not in scores]:
        message = f"Attribute {missing[0]} does not support request languages: {', '.join(langs)}"
        raise invalid(message, "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE")
    response: dict[str, Any] = {"attributeScores": {}, "languages": langs, "detectedLanguages": langs}
    for name, options in attributes.items():
        value = scores[ATTRIBUTES[name]]
        if value < options["threshold"]:
            continue
        response["attributeScores"][name] = {
            "spanScores": span_scores(text, result["spans"].get(ATTRIBUTES[name], []), value, annotated),
            "summaryScore": {"value": value, "type": "PROBABILITY"},
        }
    if "clientToken" in body:
        response["clientToken"] = body["clientToken"]
    return response


@perspective.post("/comments:suggestscore")
def suggest_score() -> Any:
    """Store a suggested score as a training label (Coral sends approvals as 0, rejections as 1)."""
    site = site_from_key()
    body = request_json()
    text = comment_text(body)
    suggested = body.get("attributeScores")
    if not isinstance(suggested, dict) or not suggested:
        raise invalid("No attribute scores.", "NO_REQUESTED_ATTRIBUTES")
    labels: dict[str, float] = {}
    for name, value in suggested.items():
        summary = value.get("summaryScore") if isinstance(value, dict) else None
        score = summary.get("value") if isinstance(summary, dict) else None
        if name not in ATTRIBUTES or not isinstance(score, int | float) or not 0 <= score <= 1:
            raise invalid(f"attributeScores.{name}.summaryScore.value must be a number from 0 to 1")
        labels[ATTRIBUTES[name]] = float(score)
    meta = {key: body.get(key) for key in ("communityId", "clientToken", "sessionId", "context") if key in body}
    with services().db.session() as db_session:
        db_session.add(
            TrainingLabel(site_id=site.id, source="perspective_suggest", text=text, labels=labels, meta=meta)
        )
        db_session.commit()
    return {"clientToken": body.get("clientToken", "")}
