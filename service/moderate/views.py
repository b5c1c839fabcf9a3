"""Routes of the moderator workspace. Pages are server-rendered; every POST carries a CSRF token."""

from __future__ import annotations

import math
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from models import LABELS
from service.app import services
from service.decisions import REJECTION_REASONS, record_moderator_decision
from service.moderate.queue import TABS, Filters, build_items, search
from service.moderate.security import (
    admin_required,
    check_csrf,
    csrf_token,
    load_moderator,
    login_required,
    start_session,
)
from service.moderators import authenticate
from service.sites import KEY_PREFIX, hash_api_key
from service.tables import APPROVED, REJECTED, AuditEntry, Comment, Site
from service.webhooks import notify

moderate = Blueprint("moderate", __name__, url_prefix="/moderate", template_folder="templates", static_folder="static")
moderate.before_request(load_moderator)
moderate.before_request(check_csrf)


@moderate.app_context_processor
def template_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "rejection_reasons": REJECTION_REASONS, "labels": LABELS}


def safe_next(target: str | None) -> str:
    """Only redirect within the workspace: `next` must not send a moderator to another site."""
    if target and target.startswith("/moderate") and not urlsplit(target).netloc:
        return target
    return url_for("moderate.queue")


@moderate.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = ""
    if request.method == "POST":
        with services().db.session() as db_session:
            moderator, error = authenticate(
                db_session, request.form.get("username", "")[:100], request.form.get("password", "")[:1000]
            )
        if moderator is not None:
            start_session(moderator)
            return redirect(safe_next(request.args.get("next")))
    return render_template("moderate/login.html", error=error), 401 if error else 200


@moderate.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("moderate.login"))


@moderate.get("")
@moderate.get("/")
@login_required
def queue() -> Any:
    filters = Filters.from_args(request.args)
    with services().db.session() as db_session:
        items = build_items(db_session, search(db_session, g.site_ids, filters))
        sites = list(db_session.scalars(select(Site).where(Site.id.in_(g.site_ids)).order_by(Site.name)))
    return render_template("moderate/queue.html", items=items, filters=filters, tabs=TABS, sites=sites)


@moderate.post("/decide")
@login_required
def decide() -> Any:
    action = request.form.get("action")
    to_status = {"approve": APPROVED, "reject": REJECTED}.get(action or "")
    reason = request.form.get("reason") or None
    if to_status is None or (to_status == REJECTED and reason not in REJECTION_REASONS):
        abort(400, description="choose approve, or reject with a reason")
    ids = request.form.getlist("comment_id")[:200]
    svc = services()
    done = 0
    with svc.db.session() as db_session:
        for comment_id in ids:
            comment = db_session.get(Comment, comment_id)
            if comment is None or comment.site_id not in g.site_ids:
                abort(404)
            recorded = record_moderator_decision(
                db_session,
                comment,
                moderator=g.moderator.username,
                to_status=to_status,
                reason_code=reason if to_status == REJECTED else None,
                note=request.form.get("note", ""),
            )
            notify(svc.redis, svc.settings, recorded.delivery_id)
            done += bool(recorded)
    flash(f"{'Approved' if to_status == APPROVED else 'Rejected'} {done} comment(s).")
    return redirect(safe_next(request.form.get("next")))


@moderate.route("/sites/<int:site_id>", methods=["GET", "POST"])
@admin_required
def site_settings(site_id: int) -> Any:
    shown_once: dict[str, str] = {}
    with services().db.session() as db_session:
        site = db_session.get(Site, site_id) or abort(404)
        if request.method == "POST":
            shown_once = apply_settings(db_session, site, request.form)
        audit = list(
            db_session.scalars(
                select(AuditEntry).where(AuditEntry.site_id == site_id).order_by(AuditEntry.id.desc()).limit(20)
            )
        )
        return render_template("moderate/site.html", site=site, audit=audit, shown_once=shown_once)


def _words(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()][:500]


def apply_settings(db_session: Any, site: Site, form: Any) -> dict[str, str]:
    """Save the form (or rotate a secret); every change is written to the audit log."""
    actor = f"moderator:{g.moderator.username}"
    shown_once: dict[str, str] = {}
    if form.get("rotate") == "api_key":
        api_key = KEY_PREFIX + secrets.token_urlsafe(32)
        site.api_key_hash, site.api_key_prefix = hash_api_key(api_key), api_key[:10]
        shown_once["api_key"] = api_key
        details: dict[str, Any] = {"rotated": "api_key"}
    elif form.get("rotate") == "webhook_secret":
        site.webhook_secret = secrets.token_urlsafe(32)
        shown_once["webhook_secret"] = site.webhook_secret
        details = {"rotated": "webhook_secret"}
    else:
        thresholds = {}
        for label in LABELS:
            try:
                value = float(form.get(f"threshold_{label}", 0.5))
            except ValueError:
                value = math.nan
            if not 0.0 <= value <= 1.0:  # also refuses NaN, which would silently never fire
                abort(400, description=f"threshold for {label} must be a number between 0 and 1")
            thresholds[label] = value
        policy = {
            **(site.policy or {}),
            "thresholds": thresholds,
            "banned_words": _words(form.get("banned_words", "")),
            "suspect_words": _words(form.get("suspect_words", "")),
            "hold_links": form.get("hold_links") == "on",
            "premoderate_first_comment": form.get("premoderate_first_comment") == "on",
        }
        webhook_url = form.get("webhook_url", "").strip() or None
        if webhook_url and urlsplit(webhook_url).scheme not in ("http", "https"):
            abort(400, description="the webhook URL must be http or https")
        details = {"before": {"policy": site.policy, "webhook_url": site.webhook_url}}
        site.policy, site.webhook_url = policy, webhook_url
        details["after"] = {"policy": policy, "webhook_url": webhook_url}
    db_session.add(AuditEntry(actor=actor, action="site_settings", site_id=site.id, details=details))
    db_session.commit()
    flash("Settings saved." if not shown_once else "Rotated. Copy the new value now: it is shown only once.")
    return shown_once
