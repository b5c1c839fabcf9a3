"""Tell a site about a decision: a delivery row committed with the decision, a signed POST by a worker."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from redis import Redis
from rq import Callback, Queue, Retry
from sqlalchemy.orm import Session

from service import keys
from service.config import Settings
from service.tables import Comment, Site, WebhookDelivery, utcnow

SIGNATURE_HEADER = "X-Civility-Signature"
DELIVER_JOB = "workers.jobs.deliver_webhook"
DELIVERY_FAILED_CALLBACK = "workers.jobs.on_webhook_failure"
log = logging.getLogger(__name__)


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body with the site's secret>`, as GitHub and Stripe do."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, body), signature)


def payload_for(comment: Comment, actor: str) -> dict[str, Any]:
    """What the site learns: never the author's email, IP or user agent."""
    return {
        "event": "comment.decided",
        "comment": {
            "id": comment.id,
            "external_id": comment.external_id,
            "article_id": comment.article_id,
            "status": comment.status,
            "reasons": [r.get("code") for r in comment.reasons or []],
            "model_version": comment.model_version,
            "model_precision": comment.model_precision,
        },
        "actor": actor,
        "at": utcnow().isoformat(),
    }


def add_delivery(session: Session, site: Site | None, comment: Comment, actor: str) -> WebhookDelivery | None:
    """Add (not commit) a delivery for the site's webhook, if it has one."""
    if site is None or not site.webhook_url:
        return None
    delivery = WebhookDelivery(
        comment_id=comment.id, site_id=site.id, url=site.webhook_url, payload=payload_for(comment, actor)
    )
    session.add(delivery)
    return delivery


def enqueue_delivery(redis: Redis, settings: Settings, delivery_id: int) -> None:
    """Enqueue after the delivery row is committed; a failed enqueue is logged, the row stays pending."""
    intervals = list(settings.webhook_retry_intervals)
    try:
        Queue(keys.QUEUE_WEBHOOKS, connection=redis).enqueue(
            DELIVER_JOB,
            delivery_id,
            job_id=keys.webhook_job_id(delivery_id),
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            on_failure=Callback(DELIVERY_FAILED_CALLBACK),
            job_timeout=30,
            result_ttl=3600,
        )
    except Exception:
        log.exception("event=webhook_enqueue_failed delivery_id=%s", delivery_id)


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def notify(redis: Redis | None, settings: Settings, delivery_id: int | None) -> None:
    """Enqueue a committed delivery, if there is one and a Redis to enqueue on."""
    if delivery_id is not None and redis is not None:
        enqueue_delivery(redis, settings, delivery_id)
