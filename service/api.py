"""The site-facing JSON API under /v1: submit comments, read decisions, list approved comments."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, g, request
from sqlalchemy import func, select

from service.app import services
from service.errors import ApiError
from service.schemas import CommentAccepted, CommentIn, CommentOut, CommentPage, ListQuery, PublicComment, validate
from service.sites import authenticate
from service.submit import submission_wait, submit_comment
from service.tables import Comment

api = Blueprint("api", __name__, url_prefix="/v1")


@api.before_request
def require_site_key() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            "unauthorized",
            "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # One session for the whole request: a second would cost another pool checkout and liveness ping, two
    # round trips to PostgreSQL on every POST.
    g.db_session = session = services().db.new_session()
    site = authenticate(session, key.strip())
    if site is None:
        raise ApiError(401, "unauthorized", "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    g.site = site


@api.teardown_request
def close_db_session(_error: BaseException | None) -> None:
    if (session := g.pop("db_session", None)) is not None:
        session.close()


def json_body() -> Any:
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "malformed_json", "request body is not valid JSON") from None


def dump(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="json")  # type: ignore[no-any-return]


def limit_submissions(data: CommentIn) -> None:
    if wait := submission_wait(services().redis, g.site, data.author_ip):
        raise ApiError(429, "rate_limited", "too many comments; retry later", headers={"Retry-After": str(wait)})


@api.post("/comments")
def create_comment() -> Any:
    data: CommentIn = validate(CommentIn, json_body())
    limit_submissions(data)
    svc = services()
    comment, created = submit_comment(g.db_session, svc.redis, svc.settings, g.site, data)
    accepted = CommentAccepted.model_validate(comment, from_attributes=True)
    body = dump(accepted) | {"links": {"self": f"/v1/comments/{comment.id}"}}
    return body, 202 if created else 200


@api.get("/comments/<comment_id>")
def get_comment(comment_id: str) -> Any:
    comment = g.db_session.get(Comment, comment_id) if len(comment_id) <= 64 else None
    if comment is None or comment.site_id != g.site.id:
        raise ApiError(404, "not_found", "no such comment")
    return dump(CommentOut.model_validate(comment, from_attributes=True))


@api.get("/articles/<path:article_id>/comments")
def list_article_comments(article_id: str) -> Any:
    query: ListQuery = validate(ListQuery, request.args.to_dict())
    where = (Comment.site_id == g.site.id, Comment.article_id == article_id, Comment.status == query.status)
    session = g.db_session
    total = session.scalar(select(func.count()).select_from(Comment).where(*where)) or 0
    rows = session.scalars(
        select(Comment)
        .where(*where)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    ).all()
    comments = [PublicComment.model_validate(row, from_attributes=True) for row in rows]
    more = query.page * query.per_page < total
    page = CommentPage(
        comments=comments,
        page=query.page,
        per_page=query.per_page,
        total=total,
        next_page=query.page + 1 if more else None,
    )
    return dump(page)
