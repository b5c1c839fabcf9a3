"""Akismet 1.1's form-encoded protocol, as WordPress and the Akismet client libraries speak it.

The site's API key is the Akismet `api_key`. comment-check weighs the model's spam probability with the
same link, author and email signals as the main pipeline, against the site's spam threshold.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, request

from service import signals
from service.app import services
from service.policy import thresholds_of
from service.ratelimit import hit
from service.realtime import ScoringUnavailable, score_now
from service.schemas import clean_text
from service.sites import authenticate
from service.tables import Site, TrainingLabel

akismet = Blueprint("akismet", __name__, url_prefix="/1.1")
THANKS = "Thanks for making the web a better place."
DISCARD_AT = 0.95  # blatant spam: Akismet's "discard" pro tip, the site need not even keep it
REQUIRED = ("api_key", "blog", "user_ip")
TIMEOUT_SECONDS = 5.0


def text_response(body: str, **headers: str) -> Response:
    return Response(body, mimetype="text/plain", headers=headers)


def invalid(help_text: str) -> Response:
    return text_response("invalid", **{"X-akismet-debug-help": help_text})


def site_for(form: Any) -> Site | None:
    with services().db.session() as db_session:
        return authenticate(db_session, form.get("api_key") or form.get("key") or "")


def missing(form: Any) -> list[str]:
    return [name for name in REQUIRED if not form.get(name)]


@akismet.post("/verify-key")
def verify_key() -> Response:
    site = site_for(request.form)
    if site is None:
        return invalid("Invalid API key.")
    return text_response("valid")


def spam_probability(form: Any) -> tuple[float, list[signals.Signal]]:
    found = signals.link_signals(
        form.get("comment_content", ""), form.get("comment_author_url"), form.get("comment_author_email")
    )
    honeypot = form.get("honeypot_field_name")
    if honeypot and form.get(honeypot):
        # A bot filled the field people never see.
        found.append(signals.Signal("honeypot", 1.0, honeypot))
    text = form.get("comment_content", "").strip()
    text_spam = score_now(services().redis, text, [], TIMEOUT_SECONDS)["scores"].get("spam", 0.0) if text else 0.0
    return signals.combine(text_spam, found), found


def checked_site(form: Any) -> Site | Response:
    """The key's site, or Akismet's `invalid` answer naming what is wrong."""
    site = site_for(form)
    if site is None:
        return invalid("Invalid API key.")
    if absent := missing(form):
        return invalid(f"Missing required field: {', '.join(absent)}.")
    return site


@akismet.post("/comment-check")
def comment_check() -> Response:
    form = request.form
    site = checked_site(form)
    if isinstance(site, Response):
        return site
    if hit(services().redis, f"site:{site.id}", int((site.policy or {}).get("rate_limit_per_minute", 600))):
        return Response("Rate limit exceeded", status=429, mimetype="text/plain", headers={"Retry-After": "60"})
    try:
        probability, _ = spam_probability(form)
    except ScoringUnavailable:
        return Response("Scoring unavailable", status=503, mimetype="text/plain", headers={"Retry-After": "5"})
    is_spam = probability >= thresholds_of(site.policy).get("spam", 0.5)
    headers = {"X-akismet-guid": uuid.uuid4().hex}
    if probability >= DISCARD_AT:
        headers["X-akismet-pro-tip"] = "discard"
    return text_response("true" if is_spam else "false", **headers)


def store_label(spam: bool) -> Response:
    form = request.form
    site = checked_site(form)
    if isinstance(site, Response):
        return site
    # NUL is valid in a form but PostgreSQL cannot store it (the main API drops it the same way).
    text = clean_text(form.get("comment_content", "")).strip()
    if text and form.get("is_test") not in ("1", "true"):
        fields = ("blog", "permalink", "comment_type", "comment_author_url")
        meta = {k: clean_text(form.get(k)) for k in fields if form.get(k)}
        with services().db.session() as db_session:
            source = "akismet_spam" if spam else "akismet_ham"
            db_session.add(
                TrainingLabel(site_id=site.id, source=source, text=text, labels={"spam": float(spam)}, meta=meta)
            )
            db_session.commit()
    return text_response(THANKS)


@akismet.post("/submit-spam")
def submit_spam() -> Response:
    return store_label(spam=True)


@akismet.post("/submit-ham")
def submit_ham() -> Response:
    return store_label(spam=False)
