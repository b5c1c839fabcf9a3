"""Moderator sessions and CSRF: a login check and a per-session token on every state-changing request."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, redirect, request, session, url_for

from service.app import services
from service.tables import Moderator

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """Refuse a POST whose token is missing or is not this session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(403, description="missing or invalid CSRF token; reload the page and try again")


def load_moderator() -> None:
    g.moderator = None
    moderator_id = session.get("moderator_id")
    if moderator_id is not None:
        with services().db.session() as db_session:
            g.moderator = db_session.get(Moderator, moderator_id)
            if g.moderator is not None:
                g.site_ids = sorted(_site_ids(db_session, g.moderator))


def _site_ids(db_session: Any, moderator: Moderator) -> list[int]:
    from service.moderators import site_ids

    return site_ids(moderator, db_session)


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("moderator") is None:
            return redirect(url_for("moderate.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not g.moderator.is_admin:
            abort(403, description="admins only")
        return view(*args, **kwargs)

    return wrapped


def start_session(moderator: Moderator) -> None:
    """A fresh session on login: a token from before login must not survive it."""
    session.clear()
    session["moderator_id"] = moderator.id
    session.permanent = True
    csrf_token()
