"""RQ job functions: thin, they take ids and call the service core."""

from __future__ import annotations

import logging
import time
import urllib.request
from typing import Any

from redis import Redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.utils import now as rq_now
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service import histograms, keys, signals
from service.decisions import AutomaticDecision, hold_unscored, record_automatic_decisions
from service.policy import CommentFacts, Decision, decide
from service.queues import enqueue_explanation, enqueue_scoring, fetch_job
from service.tables import APPROVED, HELD, PENDING, Comment, Site, WebhookDelivery, utcnow
from service.webhooks import SIGNATURE_HEADER, body_of, notify, sign
from workers import runtime

log = logging.getLogger(__name__)
EXPLAIN_MIN_TEXT_SCORE = 0.25


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected webhook would be re-sent as a bodiless GET and look delivered: treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


def score_comment(comment_id: str) -> dict[str, Any]:
    """Score one comment, and with it the comments waiting behind it, in one model batch.

    Scoring 32 comments at once costs about what 3 cost one by one (bench/scoring.py: 260 vs 116
    comments/s), so under a burst each job claims up to `score_batch_size - 1` waiting score jobs from
    the queue head. A claimed job is marked started, so if this worker dies the reconciler treats it
    like this worker's own job; if the batch raises, the claimed comments are put back in the queue.
    """
    rt = runtime.current()
    claimed = claim_waiting_jobs(rt.redis, rt.settings.score_batch_size - 1) if rt.redis is not None else []
    claimed = within_text_budget(rt, comment_id, claimed)
    if not claimed:
        return score_comments([comment_id])[0]
    try:
        results = score_comments([comment_id] + [job.args[0] for job in claimed])
    except Exception:
        # One bad comment must not fail the others: put the claimed ones back as jobs of their own and
        # score this job's comment alone, so a failure (and its retry) is charged to its own comment.
        log.exception("event=batch_failed size=%d action=score_alone", len(claimed) + 1)
        release(rt, claimed)
        return score_comments([comment_id])[0]
    except BaseException:  # a job timeout or shutdown: give the claimed comments back, then stop
        release(rt, claimed)
        raise
    for job in claimed:
        job.delete()
    return results[0] | {"batch": len(results)}


def within_text_budget(rt: runtime.Runtime, comment_id: str, claimed: list[Job]) -> list[Job]:
    """Keep claimed jobs while the batch's text stays within `score_batch_chars`; the rest go back to
    the front of the queue, in order. The job timeout covers the whole batch, and 32 comments of
    10,000 characters are some 700 passages (2,200 for an artifact before v21, at 25 words a passage): the
    budget bounds a batch by its cost, not its count."""
    if not claimed:
        return claimed
    ids = [comment_id] + [job.args[0] for job in claimed]
    with rt.db.session() as session:
        sizes: dict[str, int] = dict(
            session.execute(select(Comment.id, func.length(Comment.body)).where(Comment.id.in_(ids))).all()
        )
    total = sizes.get(comment_id, 0)
    for kept, job in enumerate(claimed):
        total += sizes.get(job.args[0], 0)
        if total > rt.settings.score_batch_chars:
            give_back(rt, claimed[kept:])
            return claimed[:kept]
    return claimed


def give_back(rt: runtime.Runtime, jobs: list[Job]) -> None:
    """Return untouched claimed jobs to the front of the queue, in order, as they were."""
    moderation = Queue(keys.QUEUE_MODERATION, connection=rt.redis)
    for job in reversed(jobs):
        job.set_status(JobStatus.QUEUED)
        moderation.push_job_id(job.id, at_front=True)


def release(rt: runtime.Runtime, claimed: list[Job]) -> None:
    """Re-create claimed jobs after a failed batch: fresh jobs with their own retries, at the queue's end."""
    for job in claimed:
        job.delete()
        enqueue_scoring(rt.redis, rt.settings, job.args[0])  # type: ignore[arg-type]


def claim_waiting_jobs(redis: Redis, limit: int) -> list[Job]:
    """Take up to `limit` waiting score jobs off the moderation queue; each is ours once LREM removed it."""
    if limit <= 0:
        return []
    moderation = Queue(keys.QUEUE_MODERATION, connection=redis)
    claimed: list[Job] = []
    for job_id in moderation.get_job_ids(0, limit):
        if not job_id.startswith("score-") or not redis.lrem(moderation.key, 1, job_id):
            continue  # another worker took it first
        job = fetch_job(redis, job_id)
        if job is None:
            continue
        job.started_at = rq_now()
        job.set_status(JobStatus.STARTED)
        job.save()
        claimed.append(job)
    return claimed


def score_comments(comment_ids: list[str]) -> list[dict[str, Any]]:
    """Score comments in one model batch, apply each one's site policy, record the decisions in one
    transaction, then notify and queue explanations (only what was committed)."""
    rt = runtime.current()
    scorer = rt.scorer()
    started = time.perf_counter()
    with rt.db.session() as session:
        loaded = {c.id: c for c in session.scalars(select(Comment).where(Comment.id.in_(comment_ids)))}
        comments = [loaded.get(comment_id) for comment_id in comment_ids]
        todo = [c for c in comments if c is not None and c.status == PENDING]
        all_scores = scorer.score([c.body for c in todo]) if todo else []
        scored_ms = (time.perf_counter() - started) * 1000
        if todo:
            histograms.observe(rt.redis, histograms.SCORING_SECONDS, scored_ms / 1000)
            histograms.observe(rt.redis, histograms.SCORING_BATCH_SIZE, len(todo))
        repeats = signals.repeat_signals(rt.redis, [(c.body, c.id) for c in todo]) if rt.redis else [None] * len(todo)
        # Held here: the session keeps loaded objects only while something refers to them.
        sites = {site_id: session.get(Site, site_id) for site_id in {c.site_id for c in todo}}
        decisions = [
            decide_one(session, scorer, comment, sites[comment.site_id], text_scores, repeat)
            for comment, text_scores, repeat in zip(todo, all_scores, repeats, strict=True)
        ]
        # Read before recording: a lost race makes the recording roll back, which expires every loaded
        # object, and they cannot be reloaded once the session is closed.
        decided_ids = [c.id for c in todo]
        skipped = {cid: "missing" if c is None else c.status for cid, c in zip(comment_ids, comments, strict=True)}
        recorded = record_automatic_decisions(session, decisions)
    outcomes: dict[str, dict[str, Any]] = {}
    for comment_id, decision, text_scores, written in zip(decided_ids, decisions, all_scores, recorded, strict=True):
        notify(rt.redis, rt.settings, written.delivery_id)
        if written and rt.redis is not None and labels_to_explain(decision.reasons, text_scores):
            enqueue_explanation(rt.redis, rt.settings, comment_id)
        outcomes[comment_id] = {"comment_id": comment_id, "status": decision.status, "recorded": bool(written)}
        log.info("event=scored comment_id=%s status=%s recorded=%s", comment_id, decision.status, bool(written))
    log.info(
        "event=scored_batch size=%d scored=%d score_ms=%.1f total_ms=%.1f",
        len(comment_ids),
        len(todo),
        scored_ms,
        (time.perf_counter() - started) * 1000,
    )
    return [outcomes.get(cid) or {"comment_id": cid, "skipped": skipped[cid]} for cid in comment_ids]


def decide_one(
    session: Session,
    scorer: Any,
    comment: Comment,
    site: Site | None,
    text_scores: dict[str, float],
    repeat: signals.Signal | None,
) -> AutomaticDecision:
    """Fold in metadata signals, apply the site's policy, and say which rule fired and why."""
    scores, spam_evidence = with_spam_signals(comment, text_scores, repeat)
    policy = site.policy if site else None
    decision = decide(scores, policy, facts_of(session, comment, policy or {}))
    attach_spam_evidence(decision, scores, spam_evidence)
    worth_explaining = labels_to_explain(decision.reasons, text_scores)
    for reason in decision.reasons:
        if reason["rule"] == "label_threshold" and reason["code"] not in worth_explaining:
            reason["spans"] = []  # fired on signals, not words: nothing to point at, nothing left to explain
    return AutomaticDecision(
        comment=comment,
        status=decision.status,
        reasons=decision.reasons,
        scores=scores,
        model_version=scorer.version,
        model_precision=getattr(scorer, "precision", None),
        actor=model_actor(scorer),
    )


def model_actor(scorer: Any) -> str:
    """`model:<version>:<precision>`. The encoder's precision moves a score by up to 0.12 in int8 against fp32
    (bench/precision_auc.py, v19) and so can flip a decision near a threshold: the audit trail names it. A scorer
    a site plugs in without a `precision` is named by its version alone."""
    precision = getattr(scorer, "precision", None)
    return f"model:{scorer.version}:{precision}" if precision else f"model:{scorer.version}"


def facts_of(session: Session, comment: Comment, policy: dict[str, Any]) -> CommentFacts:
    approved_before: int | None = 0
    if policy.get("premoderate_first_comment"):  # the only rule that reads it: spare every other site the query
        approved_before = session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.site_id == comment.site_id, Comment.author_email == comment.author_email)
            .where(Comment.status == APPROVED, Comment.id != comment.id)
        )
    return CommentFacts(comment.body, len(signals.links(comment.body)), approved_before or 0)


def score_text(text: str, span_labels: list[str]) -> dict[str, Any]:
    """Score one text for the synchronous compatibility APIs; nothing is stored."""
    scorer = runtime.current().scorer()
    scores = scorer.score([text])[0]
    spans = {}
    if span_labels:
        from models.explain import explain

        spans = explain(scorer, text, [label for label in span_labels if label in scores], base=scores)
    return {"scores": scores, "spans": spans, "model_version": scorer.version}


def with_spam_signals(
    comment: Comment, text_scores: dict[str, float], repeat: signals.Signal | None
) -> tuple[dict, dict]:
    """Fold link, author and repetition signals into the spam score; returns scores and the evidence."""
    found = signals.link_signals(comment.body, comment.author_url, comment.author_email)
    if repeat is not None:
        found.append(repeat)
    if "spam" not in text_scores or not found:
        return text_scores, {}
    scores = dict(text_scores, spam=signals.combine(text_scores["spam"], found))
    return scores, {"text_score": text_scores["spam"], "signals": [s.as_dict() for s in found]}


def labels_to_explain(reasons: list[dict[str, Any]], text_scores: dict[str, float]) -> list[str]:
    """Fired labels worth explaining: a label the text itself hardly scores (spam held on link or
    repetition signals) has no words to show."""
    return [
        r["code"]
        for r in reasons
        if r["rule"] == "label_threshold" and text_scores.get(r["code"], 0.0) >= EXPLAIN_MIN_TEXT_SCORE
    ]


def explain_comment(comment_id: str) -> dict[str, Any]:
    """Store, with each label that held the comment, the spans of its text that drove the score.

    Written only while the model's decision is still the comment's last: a moderator who acted in the
    meantime replaced its reasons, and those are not ours to touch.
    """
    from models.explain import explain

    rt = runtime.current()
    scorer = rt.scorer()
    with rt.db.session() as session:
        comment = session.get(Comment, comment_id)
        if comment is None or comment.status != HELD or comment.model_version != scorer.version:
            return {"comment_id": comment_id, "skipped": True}
        text_scores = scorer.score([comment.body])[0]
        reasons = [dict(reason) for reason in comment.reasons or []]
        spans = explain(scorer, comment.body, labels_to_explain(reasons, text_scores), base=text_scores)
        for reason in reasons:
            if reason["rule"] == "label_threshold":
                # An empty list says "explained, nothing in the words to show", so the reconciler leaves it.
                reason["spans"] = spans.get(reason["code"], [])
        written = session.execute(
            update(Comment)
            .where(Comment.id == comment.id, Comment.status == HELD, Comment.decided_at == comment.decided_at)
            .values(reasons=reasons)
        ).rowcount  # type: ignore[attr-defined]
        session.commit()
    return {"comment_id": comment_id, "explained": sorted(spans), "written": bool(written)}


def attach_spam_evidence(decision: Decision, scores: dict, spam_evidence: dict) -> None:
    """Spam signals go with the spam reason if it fired, else into a reason of their own: always on record."""
    if not spam_evidence:
        return
    fired = next((r for r in decision.reasons if r["code"] == "spam" and r["rule"] == "label_threshold"), None)
    if fired is not None:
        fired.update(spam_evidence)
    else:
        decision.reasons.append(
            {"code": "spam_signals", "rule": "spam_signals", "score": scores["spam"], **spam_evidence}
        )


def on_score_failure(job: Job, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """Fail closed after the last retry: hold the comment with reason scoring_failed.

    RQ calls this before it decides whether to retry, so act only when no retry is left.
    """
    if job.retries_left:
        return
    comment_id = job.args[0]
    rt = runtime.current()
    # The type alone: the reason reaches the site's API, and an exception's text can carry a query's
    # parameters or other private data. The worker's log keeps the whole traceback for ops.
    detail = exc_type.__name__
    with rt.db.session() as session:
        comment = session.get(Comment, comment_id)
        if comment is not None:
            recorded = hold_unscored(session, comment, detail=detail, actor="system")
            notify(rt.redis, rt.settings, recorded.delivery_id)
    log.error("event=scoring_failed comment_id=%s error=%s", comment_id, exc_type.__name__)


def deliver_webhook(delivery_id: int) -> dict[str, Any]:
    """POST one signed notification; a non-2xx answer raises so RQ retries it with backoff."""
    rt = runtime.current()
    with rt.db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        site = session.get(Site, delivery.site_id) if delivery else None
        if delivery is None or site is None or delivery.status == "delivered":
            return {"delivery_id": delivery_id, "skipped": True}
        body = body_of(delivery)
        request = urllib.request.Request(delivery.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("User-Agent", "civility-webhook/1")
        request.add_header(SIGNATURE_HEADER, sign(site.webhook_secret, body))
        request.add_header("X-Civility-Delivery", str(delivery.id))
        delivery.attempts += 1
        delivery.updated_at = utcnow()
        try:
            with NO_REDIRECTS.open(request, timeout=10) as response:
                delivery.last_status_code = response.status
            delivery.status = "delivered"
            delivery.last_error = None
        except Exception as error:
            delivery.last_status_code = getattr(error, "code", None)
            delivery.last_error = f"{type(error).__name__}: {error}"[:500]
            session.commit()
            raise
        session.commit()
    return {"delivery_id": delivery_id, "status": "delivered"}


def on_webhook_failure(job: Job, connection: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
    """After the last retry (about a day), mark the delivery failed so moderators see it."""
    if job.retries_left:
        return
    rt = runtime.current()
    with rt.db.session() as session:
        delivery = session.get(WebhookDelivery, job.args[0])
        if delivery is not None and delivery.status != "delivered":
            delivery.status = "failed"
            delivery.updated_at = utcnow()
            session.commit()
    log.error("event=webhook_failed delivery_id=%s error=%s", job.args[0], exc_type.__name__)
