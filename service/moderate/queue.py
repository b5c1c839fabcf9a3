"""What the workspace shows: filtered lists of comments with their scores, spans, history and audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.tables import APPROVED, HELD, REJECTED, Comment, ModerationEvent, Site, WebhookDelivery

TABS = (HELD, APPROVED, REJECTED)
PAGE_SIZE = 50


@dataclass
class Filters:
    status: str = HELD
    site_id: int | None = None
    article: str = ""
    label: str = ""
    reason: str = ""
    q: str = ""
    sort: str = "oldest"

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        status = args.get("status", HELD)
        site = args.get("site", "")
        return cls(
            status=status if status in TABS else HELD,
            site_id=int(site) if site.isascii() and site.isdigit() and len(site) <= 9 else None,
            article=args.get("article", "")[:256],
            label=args.get("label", "")[:64],
            reason=args.get("reason", "")[:64],
            q=args.get("q", "")[:200],
            sort="score" if args.get("sort") == "score" else "oldest",
        )


@dataclass
class Item:
    comment: Comment
    site_name: str
    segments: list[tuple[str, bool]]
    highlight_label: str | None
    bars: list[dict[str, Any]]
    history: dict[str, int] = field(default_factory=dict)
    recent: list[Comment] = field(default_factory=list)
    events: list[ModerationEvent] = field(default_factory=list)
    deliveries: list[WebhookDelivery] = field(default_factory=list)

    @property
    def top_score(self) -> float:
        return max((self.comment.scores or {}).values(), default=0.0)


def segments(text: str, spans: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """The text cut into (piece, highlighted) runs; the template escapes every piece."""
    marks = sorted((int(s["begin"]), int(s["end"])) for s in spans if 0 <= s["begin"] < s["end"] <= len(text))
    out: list[tuple[str, bool]] = []
    position = 0
    for begin, end in marks:
        if begin < position:
            continue
        if begin > position:
            out.append((text[position:begin], False))
        out.append((text[begin:end], True))
        position = end
    if position < len(text):
        out.append((text[position:], False))
    return out


def bars(comment: Comment, thresholds: dict[str, float]) -> list[dict[str, Any]]:
    return [
        {
            "label": label,
            "score": score,
            "threshold": thresholds.get(label, 0.5),
            "fired": score >= thresholds.get(label, 0.5),
        }
        for label, score in sorted((comment.scores or {}).items())
    ]


def search(session: Session, site_ids: list[int], filters: Filters) -> list[Comment]:
    query = select(Comment).where(Comment.site_id.in_(site_ids), Comment.status == filters.status)
    if filters.site_id is not None:
        query = query.where(Comment.site_id == filters.site_id)
    if filters.article:
        query = query.where(Comment.article_id == filters.article)
    if filters.q:
        pattern = f"%{filters.q}%"
        query = query.where(or_(Comment.body.ilike(pattern), Comment.author_name.ilike(pattern)))
    if filters.status == HELD:
        query = query.order_by(Comment.created_at.asc(), Comment.id)
    else:
        query = query.order_by(Comment.decided_at.desc(), Comment.id)
    rows = list(session.scalars(query.limit(500)))
    codes = lambda c: {r.get("code") for r in c.reasons or []}  # noqa: E731
    if filters.label:
        rows = [c for c in rows if filters.label in codes(c) or (c.scores or {}).get(filters.label, 0) >= 0.5]
    if filters.reason:
        rows = [c for c in rows if filters.reason in codes(c)]
    if filters.sort == "score":
        rows.sort(key=lambda c: -max((c.scores or {}).values(), default=0.0))
    return rows[:PAGE_SIZE]


def build_items(session: Session, comments: list[Comment]) -> list[Item]:
    sites = {s.id: s for s in session.scalars(select(Site))}
    items = []
    for comment in comments:
        site = sites.get(comment.site_id)
        thresholds = ((site.policy if site else {}) or {}).get("thresholds", {})
        fired = [r for r in comment.reasons or [] if r.get("spans")]
        spans = fired[0]["spans"] if fired else []
        item = Item(
            comment,
            site.name if site else "?",
            segments(comment.body, spans),
            fired[0]["code"] if fired else None,
            bars(comment, thresholds),
        )
        item.history, item.recent = author_history(session, comment)
        item.events = list(
            session.scalars(
                select(ModerationEvent).where(ModerationEvent.comment_id == comment.id).order_by(ModerationEvent.id)
            )
        )
        item.deliveries = list(
            session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.comment_id == comment.id).order_by(WebhookDelivery.id)
            )
        )
        items.append(item)
    return items


def author_history(session: Session, comment: Comment) -> tuple[dict[str, int], list[Comment]]:
    """The same author (by email, never shown) on the same site: counts by status and recent comments."""
    same_author = (Comment.site_id == comment.site_id, Comment.author_email == comment.author_email)
    counts = dict(
        session.execute(select(Comment.status, func.count()).where(*same_author).group_by(Comment.status)).all()
    )
    recent = session.scalars(
        select(Comment).where(*same_author, Comment.id != comment.id).order_by(Comment.created_at.desc()).limit(3)
    )
    return {status: int(counts.get(status, 0)) for status in TABS}, list(recent)
