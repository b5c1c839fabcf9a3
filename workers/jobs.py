"""RQ job functions: thin, they take ids and call the service core."""

from __future__ import annotations

import logging
import time
from typing import Any

from rq.job import Job

from service.decisions import record_automatic_decision
from service.policy import decide
from service.tables import HELD, PENDING, Comment, Site
from workers import runtime

log = logging.getLogger(__name__)


def score_comment(comment_id: str) -> dict[str, Any]:
    """Score one comment with the model, apply its site's policy, and record the decision."""
    rt = runtime.current()
    scorer = rt.scorer()
    with rt.db.session() as session:
        comment = session.get(Comment, comment_id)
        if comment is None or comment.status != PENDING:
            return {"comment_id": comment_id, "skipped": "missing" if comment is None else comment.status}
        site = session.get(Site, comment.site_id)
        started = time.perf_counter()
        scores = scorer.score([comment.body])[0]
        decision = decide(scores, site.policy if site else None)
        recorded = record_automatic_decision(
            session,
            comment,
            status=decision.status,
            reasons=decision.reasons,
            scores=scores,
            model_version=scorer.version,
            actor=f"model:{scorer.version}",
        )
    log.info(
        "event=scored comment_id=%s status=%s recorded=%s ms=%.1f",
        comment_id,
        decision.status,
        recorded,
        (time.perf_counter() - started) * 1000,
    )
    return {"comment_id": comment_id, "status": decision.status, "recorded": recorded}


def on_score_failure(job: Job, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """Fail closed after the last retry: hold the comment with reason scoring_failed.

    RQ calls this before it decides whether to retry, so act only when no retry is left.
    """
    if job.retries_left:
        return
    comment_id = job.args[0]
    rt = runtime.current()
    reasons = [
        {"code": "scoring_failed", "rule": "scoring_failed", "detail": f"{exc_type.__name__}: {exc_value}"[:500]}
    ]
    with rt.db.session() as session:
        comment = session.get(Comment, comment_id)
        if comment is not None:
            record_automatic_decision(
                session, comment, status=HELD, reasons=reasons, scores=None, model_version=None, actor="system"
            )
    log.error("event=scoring_failed comment_id=%s error=%s", comment_id, exc_type.__name__)
