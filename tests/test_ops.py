"""Ops endpoints: readiness, Prometheus metrics, rq-dashboard behind admin login, submission rate limits."""

from __future__ import annotations

import re

from rq import Queue, SimpleWorker

from service import keys
from service.moderators import create_moderator
from tests.conftest import auth, comment_payload

PASSWORD = "correct horse battery"


def test_readyz_names_what_is_missing(client, redis):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"] == {"redis": "ok", "database": "ok", "model": "ok", "workers": "error: no live workers"}
    worker = SimpleWorker([Queue(keys.QUEUE_MODERATION, connection=redis)], connection=redis)
    worker.register_birth()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.get_json()["ready"] is True
    finally:
        worker.register_death()


def test_metrics_are_computed_from_redis_and_the_database(client, make_site, drain):
    _, key = make_site("gazette", suspect_words=["idiot"])
    client.post("/v1/comments", json=comment_payload(body="You idiot."), headers=auth(key))
    client.post("/v1/comments", json=comment_payload(body="Fine reporting."), headers=auth(key))
    before = client.get("/metrics").get_data(as_text=True)
    assert 'civility_queue_depth{queue="moderation"} 2.0' in before
    assert 'civility_comments_received_total{site="gazette"} 2.0' in before
    drain()
    after = client.get("/metrics").get_data(as_text=True)
    assert 'civility_queue_depth{queue="moderation"} 0.0' in after
    assert 'civility_comments_by_status_total{site="gazette",status="held"} 1.0' in after
    assert 'civility_held_last_hour_by_reason{reason="suspect_word"} 1.0' in after
    assert re.search(r'civility_model_info\{version="v\d+"\} 1\.0', after)
    assert 'civility_decision_latency_seconds{quantile="0.5"}' in after
    # The two comments were one model batch: one observation of size 2, in the buckets from 2 up.
    assert "civility_scoring_batch_size_count 1.0" in after
    assert 'civility_scoring_batch_size_bucket{le="1.0"} 0.0' in after
    assert 'civility_scoring_batch_size_bucket{le="2.0"} 1.0' in after
    assert "civility_scoring_batch_size_sum 2.0" in after
    assert 'civility_scoring_seconds_bucket{le="+Inf"} 1.0' in after
    assert float(re.search(r"civility_scoring_seconds_sum (\S+)", after).group(1)) > 0


def login(client, username):
    page = client.get("/moderate/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/moderate/login", data={"username": username, "password": PASSWORD, "csrf_token": token})


def test_rq_dashboard_is_for_admins_only(app, make_site, db, client):
    _, key = make_site("gazette")
    assert client.post("/v1/comments", json=comment_payload(), headers=auth(key)).status_code == 202
    with db.session() as session:
        create_moderator(session, "maria", PASSWORD, ["gazette"])
        create_moderator(session, "root", PASSWORD, [], is_admin=True)
    anonymous = app.test_client()
    assert anonymous.get("/ops/rq/").status_code == 302
    moderator = app.test_client()
    login(moderator, "maria")
    assert moderator.get("/ops/rq/").status_code == 403
    admin = app.test_client()
    login(admin, "root")
    assert admin.get("/ops/rq/").status_code == 200
    queues = admin.get("/ops/rq/0/data/queues.json").get_json()
    depth = {q["name"]: q["count"] for q in queues["queues"]}
    assert depth[keys.QUEUE_MODERATION] == 1


def test_rq_dashboard_actions_need_the_sessions_csrf_token_and_are_audited(app, make_site, db, redis, client):
    from sqlalchemy import select

    from service.tables import AuditEntry

    _, key = make_site("gazette")
    assert client.post("/v1/comments", json=comment_payload(), headers=auth(key)).status_code == 202
    with db.session() as session:
        create_moderator(session, "root", PASSWORD, [], is_admin=True)
    admin = app.test_client()
    login(admin, "root")
    queue = Queue(keys.QUEUE_MODERATION, connection=redis)
    assert admin.get("/ops/rq/").status_code == 200
    token = admin.get_cookie("_csrf_token", path="/ops/rq").value
    # A link or form on another site sends no token (and "requeue all" answered GET): nothing may change.
    assert admin.get(f"/ops/rq/requeue/{keys.QUEUE_MODERATION}").status_code == 405
    assert admin.post(f"/ops/rq/queue/{keys.QUEUE_MODERATION}/queued/empty").status_code == 403
    wrong = admin.post(f"/ops/rq/queue/{keys.QUEUE_MODERATION}/queued/empty", headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 403
    assert queue.count == 1
    with db.session() as session:
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "rq_dashboard")).all() == []
    # The dashboard's own scripts send the cookie back as X-CSRFToken.
    emptied = admin.post(f"/ops/rq/queue/{keys.QUEUE_MODERATION}/queued/empty", headers={"X-CSRFToken": token})
    assert emptied.status_code == 200 and queue.count == 0
    with db.session() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "rq_dashboard")).all()
    assert entry.actor == "moderator:root"
    assert entry.details["endpoint"] == "rq_dashboard.empty_queue"
    assert entry.details["queue_name"] == keys.QUEUE_MODERATION and entry.details["registry_name"] == "queued"


def test_submissions_are_rate_limited_per_reader_ip(client, make_site):
    _, key = make_site(submissions_per_ip_per_minute=3)
    codes = [
        client.post("/v1/comments", json=comment_payload(author_ip="198.51.100.4"), headers=auth(key)).status_code
        for _ in range(4)
    ]
    assert codes == [202, 202, 202, 429]
    limited = client.post("/v1/comments", json=comment_payload(author_ip="198.51.100.4"), headers=auth(key))
    assert limited.get_json()["error"]["code"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0
    other_reader = client.post("/v1/comments", json=comment_payload(author_ip="198.51.100.5"), headers=auth(key))
    assert other_reader.status_code == 202


def test_log_lines_are_json_with_pairs_as_fields_and_secrets_masked():
    import json
    import logging

    from service.logs import JsonFormatter, request_id

    record = logging.LogRecord(
        "civility", logging.WARNING, __file__, 1,
        'event=login_failed user=mia detail="Authorization: Bearer cvl_abcdefghijklmnop password=hunter2"',
        None, None,
    )  # fmt: skip
    token = request_id.set("req-7")
    try:
        entry = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert entry["event"] == "login_failed" and entry["user"] == "mia" and entry["request_id"] == "req-7"
    assert "cvl_abcdefghijklmnop" not in json.dumps(entry) and "hunter2" not in json.dumps(entry)
    assert "[redacted]" in entry["detail"]
