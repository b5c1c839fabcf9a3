"""Moderators' decisions as training labels: the learning loop's export."""

from __future__ import annotations

import csv
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.tables import Comment, ModerationEvent

# What a moderator's reason says about each model label. Off-topic, illegal and other say nothing
# about toxicity or spam, so they yield no label rather than a guessed one.
REASON_TARGETS = {
    "approved": {"toxicity": 0, "spam": 0},
    "spam": {"spam": 1},
    "insult": {"toxicity": 1},
    "hate_speech": {"toxicity": 1, "identity_attack": 1},
    "threat": {"toxicity": 1},
}
COLUMNS = ("text", "label", "target", "reason", "comment_id", "site_id", "decided_at", "source")


def export_labels(session: Session, handle: TextIO) -> int:
    """Write `text,label,target,...` rows from each comment's latest moderator decision."""
    latest: dict[str, ModerationEvent] = {}
    events = session.scalars(
        select(ModerationEvent).where(ModerationEvent.actor.like("moderator:%")).order_by(ModerationEvent.id)
    )
    for event in events:
        latest[event.comment_id] = event
    writer = csv.writer(handle)
    writer.writerow(COLUMNS)
    count = 0
    for comment_id, event in latest.items():
        reason = (event.reasons or [{}])[0].get("code", "")
        comment = session.get(Comment, comment_id)
        if comment is None:
            continue
        for target, label in REASON_TARGETS.get(reason, {}).items():
            row = (comment.body, label, target, reason, comment_id, comment.site_id, event.created_at.isoformat())
            writer.writerow((*row, "moderators"))
            count += 1
    return count
