"""Accept a comment: commit it first, then enqueue its scoring (the reconciler covers a failed enqueue)."""

from __future__ import annotations

import logging

from redis import Redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.config import Settings
from service.queues import enqueue_scoring
from service.ratelimit import hit_all
from service.schemas import CommentIn
from service.tables import Comment, Site

log = logging.getLogger(__name__)
SITE_SUBMISSIONS_PER_MINUTE = 600
AUTHOR_IP_SUBMISSIONS_PER_MINUTE = 10


def submission_wait(redis: Redis, site: Site, author_ip: str | None) -> int:
    """Count a submission per site and per reader IP, in Redis so every API process shares the counts;
    returns 0 if it may go on, else the seconds to wait. The site's policy can change either limit."""
    policy = site.policy or {}
    limits = [(f"submit:site:{site.id}", int(policy.get("submissions_per_minute", SITE_SUBMISSIONS_PER_MINUTE)))]
    if author_ip:
        per_ip = int(policy.get("submissions_per_ip_per_minute", AUTHOR_IP_SUBMISSIONS_PER_MINUTE))
        limits.append((f"submit:ip:{site.id}:{author_ip}", per_ip))
    return hit_all(redis, limits)


def find_by_external_id(session: Session, site_id: int, external_id: str) -> Comment | None:
    query = select(Comment).where(Comment.site_id == site_id, Comment.external_id == external_id)
    return session.scalars(query).first()


def submit_comment(
    session: Session, redis: Redis, settings: Settings, site: Site, data: CommentIn
) -> tuple[Comment, bool]:
    """Store and enqueue a comment; returns (comment, created). A repeated external_id is not stored twice."""
    if data.external_id:
        existing = find_by_external_id(session, site.id, data.external_id)
        if existing is not None:
            return existing, False
    comment = Comment(site_id=site.id, enqueue_count=1, **data.model_dump())
    session.add(comment)
    try:
        session.commit()
    except IntegrityError:
        # Two requests with the same external_id raced; the other one won.
        session.rollback()
        if data.external_id and (existing := find_by_external_id(session, site.id, data.external_id)):
            return existing, False
        raise
    try:
        enqueue_scoring(redis, settings, comment.id, new_comment=True)
    except Exception:
        # The comment is safe in the database; the reconciler enqueues it once Redis is back.
        log.exception("event=enqueue_failed comment_id=%s", comment.id)
    # Ties the request id (in this line's JSON) to the comment id the worker's lines carry.
    log.info("event=comment_received comment_id=%s site=%s", comment.id, site.name)
    return comment, True
