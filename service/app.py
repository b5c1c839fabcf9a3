"""The Flask app factory: settings in, app out; connections are made here, never at import."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, jsonify, request
from markupsafe import escape
from redis import Redis
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from service import logs
from service.config import Settings
from service.db import Database
from service.errors import ApiError

MAX_REQUEST_BYTES = 64 * 1024
log = logging.getLogger(__name__)


@dataclass
class Services:
    """What request handlers reach through `services()`: settings and live connections."""

    settings: Settings
    db: Database
    redis: Redis


def services() -> Services:
    return current_app.extensions["civility"]  # type: ignore[no-any-return]


def create_app(settings: Settings | None = None, redis: Redis | None = None) -> Flask:
    settings = settings or Settings.from_env()
    if redis is None:
        if not settings.redis_url:
            raise RuntimeError("REDIS_URL is not set; `civility api` and `civility up` start an embedded Redis")
        redis = Redis.from_url(settings.redis_url)
    app = Flask(__name__)
    if settings.trusted_proxies:
        proxies = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.secret_key = secret_key(settings)
    app.config.update(
        SESSION_COOKIE_NAME="civility_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=12 * 3600,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["civility"] = Services(settings, Database(settings.database_url), redis)
    register_request_ids(app)

    from service.api import api
    from service.compat.akismet import akismet
    from service.compat.perspective import perspective
    from service.demo import demo
    from service.moderate import moderate
    from service.ops import ops

    app.register_blueprint(api)
    app.register_blueprint(ops)
    app.register_blueprint(moderate)
    app.register_blueprint(demo)
    app.register_blueprint(perspective)
    app.register_blueprint(akismet)
    mount_rq_dashboard(app, settings)
    register_error_handlers(app)
    return app


def mount_rq_dashboard(app: Flask, settings: Settings) -> None:
    """rq-dashboard at /ops/rq, for admins only: it can requeue and delete jobs, so its actions need the
    session's CSRF token and each one goes into the audit log."""
    import rq_dashboard
    from flask import abort, g, redirect, url_for

    from service.moderate.security import csrf_token, load_moderator

    app.config["RQ_DASHBOARD_REDIS_URL"] = [settings.redis_url or "redis://127.0.0.1:6379/0"]
    rq_dashboard.web.setup_rq_connection(app)
    app.redis_conn = services_of(app).redis  # type: ignore[attr-defined]
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/ops/rq")

    @app.before_request
    def dashboard_for_admins_only() -> Any:
        if request.blueprint != "rq_dashboard":
            return None
        load_moderator()
        if g.moderator is None:
            return redirect(url_for("moderate.login", next="/moderate"))
        if not g.moderator.is_admin:
            abort(403, description="admins only")
        if request.endpoint in DASHBOARD_ACTIONS:
            # rq-dashboard also takes GET for "requeue all": a link on another site could trigger it.
            if request.method != "POST":
                abort(405, description="dashboard actions are POST only")
            sent = request.headers.get(DASHBOARD_CSRF_HEADER, "")
            if not secrets.compare_digest(sent, csrf_token()):
                abort(403, description="missing or invalid CSRF token; reload the page and try again")
        return None

    @app.after_request
    def dashboard_token_and_audit(response: Any) -> Any:
        if request.blueprint != "rq_dashboard" or getattr(g, "moderator", None) is None:
            return response
        if request.endpoint in DASHBOARD_ACTIONS:
            if response.status_code < 400:
                audit_dashboard_action(g.moderator.username)
        elif response.mimetype == "text/html":
            # rq-dashboard's own scripts send this cookie's value back as X-CSRFToken with every action.
            response.set_cookie(
                DASHBOARD_CSRF_COOKIE, csrf_token(), path="/ops/rq", samesite="Strict", secure=settings.secure_cookies
            )
        return response


# The dashboard's views that change queues or jobs (rq_dashboard/web.py), and how its scripts send a CSRF token.
DASHBOARD_ACTIONS = frozenset(
    "rq_dashboard." + view
    for view in ("delete_job_view", "requeue_job_view", "requeue_all", "empty_queue", "compact_queue")
)
DASHBOARD_CSRF_COOKIE = "_csrf_token"
DASHBOARD_CSRF_HEADER = "X-CSRFToken"


def audit_dashboard_action(username: str) -> None:
    from service.tables import AuditEntry

    details = {"endpoint": request.endpoint, "path": request.path, **(request.view_args or {})}
    with services().db.session() as db_session:
        db_session.add(AuditEntry(actor=f"moderator:{username}", action="rq_dashboard", details=details))
        db_session.commit()


REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


def register_request_ids(app: Flask) -> None:
    """Every request gets an id (the proxy's X-Request-ID if it sent a sane one), in every log line
    written while serving it and in the response's X-Request-ID."""

    @app.before_request
    def assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_id_token = logs.request_id.set(g.request_id)

    @app.after_request
    def expose_request_id(response: Any) -> Any:
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response

    @app.teardown_request
    def forget_request_id(error: BaseException | None) -> None:
        if "request_id_token" in g:
            logs.request_id.reset(g.request_id_token)


def services_of(app: Flask) -> Services:
    return app.extensions["civility"]  # type: ignore[no-any-return]


def secret_key(settings: Settings) -> str:
    """CIVILITY_SECRET_KEY, or a random key kept in the data directory so sessions survive restarts."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if not path.is_file():
        # `civility api` starts several processes at once: the key appears whole, by one hard link that only
        # the first process wins, so none reads a half-written file or keeps a key the others never saw.
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        draft = settings.data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            with contextlib.suppress(FileExistsError):  # another process won: its key is everyone's
                os.link(draft, path)
        finally:
            draft.unlink()
    return path.read_text().strip()


def wants_html() -> bool:
    """Pages for people (moderators, the demo) get HTML errors; everything else gets JSON."""
    return request.path.startswith(("/moderate", "/demo")) and request.accept_mimetypes.accept_html


def error_response(error: ApiError) -> Any:
    if wants_html():
        page = f"<!doctype html><title>{error.status}</title><h1>{error.status}</h1><p>{escape(error.message)}</p>"
        return page, error.status, {"Content-Type": "text/html; charset=utf-8", **error.headers}
    response = jsonify(error.body())
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limited",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, error_response)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        message = "request body is larger than 64 KB" if status == 413 else (error.description or error.name)
        return error_response(ApiError(status, HTTP_CODES.get(status, "http_error"), message))

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError) -> Any:
        log.error("event=database_unavailable error=%s", type(error.orig).__name__)
        return error_response(
            ApiError(503, "unavailable", "database unavailable, retry later", headers={"Retry-After": "5"})
        )

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        log.exception("event=unhandled_error")
        return error_response(ApiError(500, "internal_error", "internal error"))
