"""POST -> queue -> worker (real model) -> decision, on real Redis and a real database."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from models.scorer import ARTIFACTS_DIR, DEFAULT_VERSION, HEADS_FILE
from service import keys
from service.app import create_app
from service.decisions import AutomaticDecision, record_automatic_decisions, record_moderator_decision
from service.queues import enqueue_scoring
from service.reconcile import reconcile
from service.tables import Comment, ModerationEvent, Site, WebhookDelivery
from tests.conftest import auth, comment_payload

CLEAN = "Thanks for the thorough reporting on the council vote. I hope the new park opens before summer."
TOXIC = "You are a pathetic idiot and a worthless piece of garbage. Shut your stupid mouth."
SPAM = "WINNER!! You have won a free iPhone. Claim your prize now, text WIN to 80082 or click http://bit.ly/free-prize"


def submit(client, key, body, **extra):
    response = client.post("/v1/comments", json=comment_payload(body=body, **extra), headers=auth(key))
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def fetch(client, key, comment_id):
    return client.get(f"/v1/comments/{comment_id}", headers=auth(key)).get_json()


def decision_events(db, comment_id):
    with db.session() as session:
        return session.scalars(select(ModerationEvent).where(ModerationEvent.comment_id == comment_id)).all()


def test_clean_toxic_and_spam_comments_are_decided_with_scores_reasons_and_model_version(
    client, make_site, drain, scorer, db
):
    site, key = make_site()
    ids = {kind: submit(client, key, body) for kind, body in (("clean", CLEAN), ("toxic", TOXIC), ("spam", SPAM))}
    drain()
    results = {kind: fetch(client, key, comment_id) for kind, comment_id in ids.items()}

    assert results["clean"]["status"] == "approved"
    assert results["clean"]["reasons"][0]["code"] == "below_thresholds"
    assert results["toxic"]["status"] == "held"
    assert "toxicity" in {r["code"] for r in results["toxic"]["reasons"]}
    assert results["spam"]["status"] == "held"
    assert results["spam"]["reasons"][0]["code"] == "spam"
    for kind, result in results.items():
        assert set(result["scores"]) == set(scorer.labels)
        assert all(0.0 <= value <= 1.0 for value in result["scores"].values())
        assert result["model_version"] == scorer.version and result["model_precision"] == scorer.precision
        assert result["decided_at"] is not None
        events = decision_events(db, ids[kind])
        assert [(e.action, e.from_status, e.to_status) for e in events] == [("decide", "pending", result["status"])]
        assert events[0].scores == result["scores"] and events[0].model_version == scorer.version
        assert events[0].model_precision == scorer.precision in {"fp32", "bf16", "int8"}
    fired = next(r for r in results["toxic"]["reasons"] if r["code"] == "toxicity")
    assert fired["score"] >= fired["threshold"] == site.policy["thresholds"]["toxicity"]
    assert any(TOXIC[s["begin"] : s["end"]].strip(".") in {"idiot", "stupid", "garbage"} for s in fired["spans"])


def test_site_thresholds_decide(client, make_site, drain):
    _, strict_key = make_site(thresholds={"toxicity": 0.0001, "spam": 0.0001})
    comment_id = submit(client, strict_key, CLEAN)
    drain()
    assert fetch(client, strict_key, comment_id)["status"] == "held"


def test_public_listing_shows_approved_comments_newest_first_without_private_fields(client, make_site, drain):
    _, key = make_site()
    first = submit(client, key, CLEAN, author_email="first@example.org", author_url="https://ada.example")
    second = submit(client, key, "I agree with the previous commenter, this was a balanced article.")
    submit(client, key, TOXIC)
    drain()
    page = client.get("/v1/articles/article-1/comments?status=approved&per_page=1", headers=auth(key)).get_json()
    assert [c["id"] for c in page["comments"]] == [second]
    assert page["total"] == 2 and page["next_page"] == 2
    page2 = client.get("/v1/articles/article-1/comments?page=2&per_page=1", headers=auth(key)).get_json()
    assert [c["id"] for c in page2["comments"]] == [first] and page2["next_page"] is None
    assert page2["comments"][0]["author_url"] == "https://ada.example"
    text = json.dumps(page) + json.dumps(page2)
    for private in ("example.org", "203.0.113.7", "Mozilla", "author_email", "author_ip", "user_agent", "scores"):
        assert private not in text


def test_scoring_that_keeps_failing_holds_the_comment_as_scoring_failed(
    client, make_site, drain, settings, tmp_path, db
):
    broken = tmp_path / "broken-model"
    shutil.copytree(ARTIFACTS_DIR / DEFAULT_VERSION, broken)
    (broken / HEADS_FILE).write_bytes(b"not safetensors")
    _, key = make_site()
    comment_id = submit(client, key, CLEAN)
    drain(replace(settings, model_path=str(broken)), with_scorer=None)
    result = fetch(client, key, comment_id)
    assert result["status"] == "held"
    assert result["reasons"][0]["code"] == "scoring_failed"
    # Only the error's type reaches the site: its text could carry a query's parameters.
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", result["reasons"][0]["detail"])
    assert result["scores"] is None and result["model_version"] is None and result["model_precision"] is None
    assert [e.actor for e in decision_events(db, comment_id)] == ["system"]


def test_database_errors_do_not_carry_the_values_a_query_bound(db):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with db.session() as session, pytest.raises(DBAPIError) as failure:
        session.execute(text("SELECT * FROM no_such_table WHERE email = :email"), {"email": "reader@example.org"})
    assert "reader@example.org" not in str(failure.value)


def test_a_comment_is_decided_once_even_if_scored_twice(client, make_site, drain, settings, redis, db):
    _, key = make_site()
    comment_id = submit(client, key, CLEAN)
    assert enqueue_scoring(redis, settings, comment_id).id == keys.score_job_id(comment_id)
    assert len(Queue(keys.QUEUE_MODERATION, connection=redis)) == 1
    drain()
    enqueue_scoring(redis, settings, comment_id, replace_live=True)
    drain()
    assert len(decision_events(db, comment_id)) == 1


def test_a_comment_whose_enqueue_failed_is_enqueued_by_the_reconciler(make_site, settings, redis, drain, db, client):
    from redis import Redis

    dead_redis = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    offline_app = create_app(settings, redis=dead_redis)
    offline_client = offline_app.test_client()
    _, key = make_site()
    response = offline_client.post("/v1/comments", json=comment_payload(body=CLEAN), headers=auth(key))
    assert response.status_code == 202
    comment_id = response.get_json()["id"]
    assert len(Queue(keys.QUEUE_MODERATION, connection=redis)) == 0
    offline_app.extensions["civility"].db.dispose()

    with db.session() as session:
        assert reconcile(session, redis, replace(settings, reconcile_after_seconds=60)) == 0  # not stale yet
    with db.session() as session:
        assert reconcile(session, redis, replace(settings, reconcile_after_seconds=0)) == 1
    drain()
    assert fetch(client, key, comment_id)["status"] == "approved"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Comment).where(Comment.status == "pending")) == 0


def test_the_reconciler_holds_a_comment_that_never_gets_decided(make_site, settings, redis, db, client):
    _, key = make_site()
    comment_id = submit(client, key, CLEAN)
    redis.flushdb()  # the job is lost, every time
    for _ in range(settings.max_enqueues):
        with db.session() as session:
            assert reconcile(session, redis, replace(settings, reconcile_after_seconds=0)) == 1
        redis.flushdb()
    result = fetch(client, key, comment_id)
    assert result["status"] == "held" and result["reasons"][0]["code"] == "scoring_failed"
    assert result["reasons"][0]["detail"] == f"not decided after {settings.max_enqueues} attempts"
    assert result["scores"] is None and result["model_version"] is None and result["model_precision"] is None
    assert [e.actor for e in decision_events(db, comment_id)] == ["reconciler"]


def test_shipped_artifact_is_small_safetensors(scorer):
    directory = Path(ARTIFACTS_DIR / DEFAULT_VERSION)
    total = sum(f.stat().st_size for f in directory.iterdir())
    assert total < 30 * 1024 * 1024
    assert (directory / HEADS_FILE).read_bytes()[:8] != b"PK\x03\x04"  # not a pickle zip


BLOG_SPAM = "Great article, very informative! I learned so much. Visit my site for more tips"


def test_blog_spam_is_held_with_its_link_and_author_signals(client, make_site, drain):
    _, key = make_site()
    comment_id = submit(
        client,
        key,
        BLOG_SPAM + " http://cheap-seo-tools.biz and https://bit.ly/3xYz",
        author_url="http://cheap-seo-tools.biz",
        author_email="seo@mailinator.com",
    )
    drain()
    result = fetch(client, key, comment_id)
    assert result["status"] == "held"
    spam = next(r for r in result["reasons"] if r["code"] == "spam")
    assert {s["signal"] for s in spam["signals"]} >= {
        "link",
        "shortened_link",
        "author_url_in_body",
        "disposable_email",
    }
    assert spam["score"] > spam["text_score"]


def test_the_same_text_posted_again_on_another_site_counts_as_repetition(client, make_site, drain):
    _, key_a = make_site(thresholds={"spam": 0.5})
    _, key_b = make_site(thresholds={"spam": 0.5})
    text = "I made five thousand dollars last month working from home, ask me how it works"
    first = submit(client, key_a, text)
    drain()
    second = submit(client, key_b, text.upper() + "!!! 555-0100")
    drain()
    assert "repeated_text" not in json.dumps(fetch(client, key_a, first)["reasons"])
    result = fetch(client, key_b, second)
    assert result["status"] == "held" and result["scores"]["spam"] >= 0.6
    spam = next(r for r in result["reasons"] if r["code"] == "spam")
    assert [s["signal"] for s in spam["signals"]] == ["repeated_text"]


def test_a_burst_is_scored_in_batches_and_each_comment_decided_once(client, make_site, drain, settings, redis, db):
    site, key = make_site()
    bodies = [CLEAN, TOXIC, SPAM] * 10
    ids = [submit(client, key, f"{body} ({n})", author_ip=f"203.0.113.{n}") for n, body in enumerate(bodies)]
    drain(replace(settings, score_batch_size=8))

    finished = Queue(keys.QUEUE_MODERATION, connection=redis).finished_job_registry.get_job_ids()
    assert 4 <= len(finished) < len(ids)  # 30 comments took about 30/8 jobs, not 30
    assert not Queue(keys.QUEUE_MODERATION, connection=redis).get_job_ids()
    for comment_id, body in zip(ids, bodies, strict=True):
        result = fetch(client, key, comment_id)
        # The same text ten times is itself a spam signal, so the clean ones may be held for repetition.
        assert result["status"] in ("approved", "held")
        if body == TOXIC:
            assert "toxicity" in {r["code"] for r in result["reasons"]}
        events = decision_events(db, comment_id)
        assert [e.action for e in events] == ["decide"]


def test_comments_claimed_by_a_failing_batch_go_back_to_the_queue(client, make_site, drain, settings, redis, db):
    site, key = make_site()
    ids = [submit(client, key, f"{CLEAN} ({n})") for n in range(5)]

    class Broken:
        version = "broken"
        labels = ("toxicity",)

        def score(self, texts):
            raise RuntimeError("model exploded")

    drain(replace(settings, score_batch_size=8, retry_intervals=()), with_scorer=Broken())
    # The first job failed (and held its comment as scoring_failed); the four it had claimed were
    # re-enqueued and failed in turn, one job each: nothing was left pending.
    for comment_id in ids:
        result = fetch(client, key, comment_id)
        assert result["status"] == "held"
        assert result["reasons"][0]["code"] == "scoring_failed"
        assert [e.action for e in decision_events(db, comment_id)] == ["decide"]


def test_spans_come_after_the_decision_and_never_over_a_moderators_reasons(
    client, make_site, drain, settings, scorer, redis, db
):
    from service.decisions import record_moderator_decision
    from workers import runtime
    from workers.worker import build_worker

    site, key = make_site()
    explained_id = submit(client, key, TOXIC, author_ip="198.51.100.1")
    moderated_id = submit(client, key, TOXIC + " Again.", author_ip="198.51.100.2")
    runtime.configure(settings, scorer=scorer)
    build_worker(redis, queues=(keys.QUEUE_MODERATION,)).work(burst=True)  # decisions only

    decided = fetch(client, key, explained_id)
    assert decided["status"] == "held"
    assert not any("spans" in r for r in decided["reasons"])
    assert len(Queue(keys.QUEUE_EXPLAIN, connection=redis)) == 2
    with db.session() as session:
        moderated = session.get(Comment, moderated_id)
        assert record_moderator_decision(session, moderated, moderator="mia", to_status="approved", reason_code=None)
    drain()  # now the explanations

    fired = next(r for r in fetch(client, key, explained_id)["reasons"] if r["code"] == "toxicity")
    assert any(TOXIC[s["begin"] : s["end"]].strip(".") in {"idiot", "stupid", "garbage"} for s in fired["spans"])
    moderated_reasons = fetch(client, key, moderated_id)["reasons"]
    assert [r["code"] for r in moderated_reasons] == ["approved"] and "spans" not in moderated_reasons[0]


def test_explanations_lost_with_redis_are_enqueued_again_once(client, make_site, drain, settings, scorer, redis):
    import time

    from service.reconcile import reconcile_explanations
    from workers import runtime
    from workers.worker import build_worker

    site, key = make_site()
    toxic_id = submit(client, key, TOXIC, author_ip="198.51.100.1")
    # Held on its links, not its words: nothing to explain, so never an explain job. (v13 and v14 score "Good
    # point about the bridge. Sources: <three short links>" 0.49 and 0.38 from the text alone, enough to explain:
    # their n-gram model reads links as spam; this wording scores 0.15 and 0.20.)
    signals_id = submit(
        client,
        key,
        "The council promised the bridge repairs three times, in 2019 (http://bit.ly/a), 2021 (http://bit.ly/b)"
        " and 2023 (http://bit.ly/c), and the potholes are still there.",
        author_ip="198.51.100.2",
    )
    runtime.configure(settings, scorer=scorer)
    build_worker(redis, queues=(keys.QUEUE_MODERATION,)).work(burst=True)  # decisions only
    assert fetch(client, key, toxic_id)["status"] == "held"
    Queue(keys.QUEUE_EXPLAIN, connection=redis).empty()  # lost, as with a Redis that kept nothing
    time.sleep(settings.reconcile_after_seconds + 0.1)

    with runtime.current().db.session() as session:
        assert reconcile_explanations(session, redis, settings, scorer.version) == 1
        assert reconcile_explanations(session, redis, settings, scorer.version) == 0  # its job is live now: not twice
    drain()
    fired = next(r for r in fetch(client, key, toxic_id)["reasons"] if r["code"] == "toxicity")
    assert fired["spans"] and all(0 <= s["begin"] < s["end"] <= len(TOXIC) for s in fired["spans"])
    with runtime.current().db.session() as session:
        assert reconcile_explanations(session, redis, settings, scorer.version) == 0  # explained: done
    held_on_signals = fetch(client, key, signals_id)
    assert held_on_signals["status"] == "held"
    spam = next(r for r in held_on_signals["reasons"] if r["code"] == "spam")
    assert spam["rule"] == "label_threshold" and spam["spans"] == []


def test_the_explanation_sweep_pages_through_a_wave_of_held_comments(
    client, make_site, settings, scorer, redis, monkeypatch
):
    import time

    from service import reconcile
    from workers import runtime
    from workers.worker import build_worker

    monkeypatch.setattr(reconcile, "BATCH", 2)
    site, key = make_site()
    ids = [submit(client, key, f"{TOXIC} ({n})", author_ip=f"198.51.100.{n}") for n in range(5)]
    runtime.configure(settings, scorer=scorer)
    build_worker(redis, queues=(keys.QUEUE_MODERATION,)).work(burst=True)  # decisions only
    assert all(fetch(client, key, comment_id)["status"] == "held" for comment_id in ids)
    explain = Queue(keys.QUEUE_EXPLAIN, connection=redis)
    explain.empty()
    time.sleep(settings.reconcile_after_seconds + 0.1)

    try:
        with runtime.current().db.session() as session:
            # One batch's decisions share a decided_at: make the page boundary fall inside such a batch.
            shared = session.scalar(select(func.max(Comment.decided_at)).where(Comment.id.in_(ids)))
            session.execute(update(Comment).where(Comment.id.in_(ids[1:4])).values(decided_at=shared))
            session.commit()
            passes = [reconcile.reconcile_explanations(session, redis, settings, scorer.version) for _ in range(4)]
            assert reconcile.reconcile_explanations(session, redis, settings, "some-older-model") == 0
    finally:
        runtime.reset()
    assert passes == [2, 2, 1, 0]  # two pages of two, the last one, then every job is live again
    assert sorted(job_id.removeprefix("explain-") for job_id in explain.get_job_ids()) == sorted(ids)


def test_a_job_taken_off_its_queue_by_a_worker_that_died_is_reenqueued(client, make_site, settings, redis, db):
    import time

    site, key = make_site()
    comment_id = submit(client, key, CLEAN)
    queue = Queue(keys.QUEUE_MODERATION, connection=redis)
    # What claim_waiting_jobs does first; the worker is then killed before it marks the job started.
    assert redis.lrem(queue.key, 1, keys.score_job_id(comment_id))
    with db.session() as session:
        assert reconcile(session, redis, replace(settings, reconcile_after_seconds=600)) == 0  # not stale yet
        time.sleep(settings.reconcile_after_seconds + 0.1)
        assert reconcile(session, redis, settings) == 1
    assert queue.job_ids == [keys.score_job_id(comment_id)]


def test_first_comments_are_premoderated_until_one_is_approved(client, make_site, drain, db):
    from service.decisions import record_moderator_decision

    site, key = make_site(premoderate_first_comment=True)
    first = submit(client, key, CLEAN, author_email="new@example.org")
    drain()
    held = fetch(client, key, first)
    assert held["status"] == "held" and [r["code"] for r in held["reasons"]] == ["first_comment"]
    with db.session() as session:
        assert record_moderator_decision(
            session, session.get(Comment, first), moderator="mia", to_status="approved", reason_code=None
        )
    second = submit(client, key, "I also liked the photos of the riverside.", author_email="new@example.org")
    stranger = submit(client, key, "First time here, great coverage.", author_email="other@example.org")
    drain()
    assert fetch(client, key, second)["status"] == "approved"
    assert fetch(client, key, stranger)["status"] == "held"


def test_a_batch_is_bounded_by_its_text_as_well_as_its_count(client, make_site, drain, settings, redis, db):
    site, key = make_site()
    long_body = "The council should publish every line of the budget before the vote. " * 120  # ~8,400 chars
    ids = [submit(client, key, f"{long_body} ({n})", author_ip=f"203.0.113.{n}") for n in range(6)]
    drain(replace(settings, score_batch_size=32, score_batch_chars=20_000))

    finished = Queue(keys.QUEUE_MODERATION, connection=redis).finished_job_registry.get_job_ids()
    assert len(finished) == 3  # two comments per batch fit in 20,000 characters, not six
    for comment_id in ids:
        assert fetch(client, key, comment_id)["status"] in ("approved", "held")
        assert [e.action for e in decision_events(db, comment_id)] == ["decide"]


def test_a_batch_recorded_after_a_moderator_decided_one_of_its_comments_keeps_the_moderators_decision(
    client, make_site, db
):
    site, key = make_site()
    with db.session() as session:
        session.get(Site, site.id).webhook_url = "https://news.example/hooks/civility"
        session.commit()
    ids = [submit(client, key, f"{CLEAN} ({n})") for n in range(4)]
    with db.session() as worker_session, db.session() as moderator_session:
        # The worker loaded the batch; then, before it records, a moderator approves the third comment.
        loaded = [worker_session.get(Comment, comment_id) for comment_id in ids]
        approved = record_moderator_decision(
            moderator_session,
            moderator_session.get(Comment, ids[2]),
            moderator="ana",
            to_status="approved",
            reason_code=None,
        )
        assert approved
        decisions = [
            AutomaticDecision(
                comment=comment,
                status="held",
                reasons=[{"code": "toxicity", "rule": "label_threshold", "score": 0.9}],
                scores={"toxicity": 0.9},
                model_version="v-test",
                actor="model:v-test:int8",
                model_precision="int8",
            )
            for comment in loaded
        ]
        recorded = record_automatic_decisions(worker_session, decisions)

    assert [bool(r) for r in recorded] == [True, True, False, True]
    assert all(r.delivery_id is not None and r.event_id is not None for r in recorded if r)
    for n, comment_id in enumerate(ids):
        result = fetch(client, key, comment_id)
        events = decision_events(db, comment_id)
        if n == 2:
            assert result["status"] == "approved"
            assert [(e.action, e.actor) for e in events] == [("approve", "moderator:ana")]
        else:
            assert result["status"] == "held"
            assert result["model_version"] == "v-test" and result["model_precision"] == "int8"
            # this batch lost one comment to a moderator, so each was recorded on its own: that path keeps it too
            assert [(e.action, e.actor, e.model_version, e.model_precision) for e in events] == [
                ("decide", "model:v-test:int8", "v-test", "int8")
            ]
    with db.session() as session:
        deliveries = session.scalars(select(WebhookDelivery).where(WebhookDelivery.site_id == site.id)).all()
        assert sorted(d.comment_id for d in deliveries) == sorted(ids)  # one per decision, the moderator's too
        assert {d.payload["comment"]["status"] for d in deliveries if d.comment_id != ids[2]} == {"held"}
        assert {d.payload["comment"]["model_precision"] for d in deliveries if d.comment_id != ids[2]} == {"int8"}


def test_a_worker_whose_batch_loses_a_race_to_a_moderator_finishes_the_job(
    client, make_site, drain, settings, scorer, redis, db
):
    site, key = make_site()
    ids = [submit(client, key, f"{CLEAN} ({n})") for n in range(3)]

    class ModeratorActsWhileScoring:
        """The real model, while a moderator approves the second comment mid-batch."""

        version, labels, thresholds, precision = scorer.version, scorer.labels, scorer.thresholds, scorer.precision

        def score(self, texts, **kwargs):
            with db.session() as session:
                comment = session.get(Comment, ids[1])
                if comment.status == "pending":
                    record_moderator_decision(session, comment, moderator="ana", to_status="approved", reason_code=None)
            return scorer.score(texts, **kwargs)

    drain(replace(settings, score_batch_size=8), with_scorer=ModeratorActsWhileScoring())
    moderation = Queue(keys.QUEUE_MODERATION, connection=redis)
    assert moderation.failed_job_registry.get_job_ids() == []
    assert len(moderation.finished_job_registry.get_job_ids()) == 1  # one job scored the batch of three
    for n, comment_id in enumerate(ids):
        events = decision_events(db, comment_id)
        expected = (
            [("approve", "moderator:ana")] if n == 1 else [("decide", f"model:{scorer.version}:{scorer.precision}")]
        )
        assert [(e.action, e.actor) for e in events] == expected
    assert fetch(client, key, ids[1])["status"] == "approved"


def test_a_batch_of_decisions_is_one_transaction(client, make_site, db):
    site, key = make_site()
    ids = [submit(client, key, f"{CLEAN} ({n})") for n in range(3)]
    with db.session() as session:
        decisions = [
            AutomaticDecision(
                comment=session.get(Comment, comment_id),
                status="approved",
                reasons=[],
                scores={"toxicity": 0.01},
                model_version="v-test",
                model_precision=None,  # a scorer a site plugs in may not say
                actor="model:v-test",
            )
            for comment_id in ids
        ]
        # An audit event that cannot be written (its comment does not exist) must take the batch down with it.
        session.add(ModerationEvent(comment_id="no-such-comment", site_id=site.id, actor="x", action="decide"))
        with pytest.raises(IntegrityError):
            record_automatic_decisions(session, decisions)
    for comment_id in ids:
        assert fetch(client, key, comment_id)["status"] == "pending"
        assert decision_events(db, comment_id) == []


def test_a_worker_stops_listening_for_commands_when_the_unsubscribe_reply_comes_first(redis):
    import threading

    from tests.test_processes import wait_for
    from workers.worker import build_worker

    worker = build_worker(redis)
    worker.subscribe()
    # The race CI lost at random, made certain: the listener takes the unsubscribe reply while it is still told
    # to run, so it goes back to waiting for a message before `unsubscribe` tells it to stop.
    worker.pubsub.unsubscribe()
    wait_for(lambda: not worker.pubsub.subscribed, 10, interval=0.05)
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(timeout=15)  # RQ's own listener would hold the worker here for 60 s
    assert not stopping.is_alive() and not worker.pubsub_thread.is_alive()


def test_the_model_actor_names_its_precision_or_only_the_version_for_a_scorer_without_one(scorer):
    from types import SimpleNamespace

    from workers.jobs import model_actor

    assert model_actor(scorer) == f"model:{scorer.version}:{scorer.precision}"
    assert model_actor(SimpleNamespace(version="site-own-1")) == "model:site-own-1"
