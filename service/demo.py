"""A demo article with a "Leave a Comment" form, so a newcomer sees the whole loop in the browser.

It is what a news site's own page would be: the form goes through the same submit path as the API
(validation included) for the `demo` site that `civility up` creates, and the page lists that
article's approved comments, plus an "awaiting moderation" notice for the reader's own held comment.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy import select

from service.app import services
from service.errors import ApiError
from service.schemas import CommentIn, validate
from service.sites import site_by_name
from service.submit import submission_wait, submit_comment
from service.tables import APPROVED, Comment

demo = Blueprint("demo", __name__, url_prefix="/demo", template_folder="templates")
ARTICLE_ID = "demo-riverside-park"
DEMO_SITE = "demo"


@demo.get("")
@demo.get("/")
def article() -> Any:
    svc = services()
    with svc.db.session() as db_session:
        site = site_by_name(db_session, DEMO_SITE)
        approved = []
        mine = None
        if site is not None:
            approved = list(
                db_session.scalars(
                    select(Comment)
                    .where(Comment.site_id == site.id, Comment.article_id == ARTICLE_ID, Comment.status == APPROVED)
                    .order_by(Comment.created_at.desc())
                    .limit(50)
                )
            )
            if (own_id := session.get("demo_comment")) is not None:
                mine = db_session.get(Comment, own_id)
    return render_template("demo.html", approved=approved, mine=mine, site_missing=site is None, errors={}, form={})


@demo.post("/comments")
def post_comment() -> Any:
    svc = services()
    form = {k: request.form.get(k, "") for k in ("body", "author_name", "author_email", "author_url")}
    with svc.db.session() as db_session:
        site = site_by_name(db_session, DEMO_SITE)
        if site is None:
            return redirect(url_for("demo.article"))
        article = {"article_id": ARTICLE_ID, "article_title": "Riverside park opens", "author_ip": request.remote_addr}
        try:
            data = validate(CommentIn, form | article)
        except ApiError as error:
            return render_template(
                "demo.html", approved=[], mine=None, site_missing=False, errors=error.fields or {}, form=form
            ), 422
        if wait := submission_wait(svc.redis, site, data.author_ip):
            # The same limits as the API: the demo form is a public page and must not be an open door.
            page = render_template(
                "demo.html", approved=[], mine=None, site_missing=False, errors={}, form=form, retry_after=wait
            )
            return page, 429, {"Retry-After": str(wait)}
        comment, _ = submit_comment(db_session, svc.redis, svc.settings, site, data)
        session["demo_comment"] = comment.id
    return redirect(url_for("demo.article") + "#comments")
