"""The moderator workspace over HTTP (Flask's client): login, CSRF, scope, decisions, audit, webhooks, labels."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from service.labels import export_labels
from service.moderators import MAX_FAILED_LOGINS, create_moderator
from service.tables import AuditEntry, Comment, ModerationEvent, WebhookDelivery
from tests.conftest import auth, comment_payload

PASSWORD = "correct horse battery"


@pytest.fixture
def two_sites(make_site, db):
    site_a, key_a = make_site("site-a")
    site_b, key_b = make_site("site-b")
    with db.session() as session:
        create_moderator(session, "alice", PASSWORD, ["site-a"])
        create_moderator(session, "root", PASSWORD, [], is_admin=True)
    return (site_a, key_a), (site_b, key_b)


def held_comment(client, key, drain, body="You are a pathetic idiot and a worthless piece of garbage.", **extra):
    comment_id = client.post("/v1/comments", json=comment_payload(body=body, **extra), headers=auth(key)).get_json()[
        "id"
    ]
    drain()
    return comment_id


def login(client, username="alice", password=PASSWORD):
    token = csrf(client, "/moderate/login")
    return client.post("/moderate/login", data={"username": username, "password": password, "csrf_token": token})


def csrf(client, path="/moderate"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_pages_need_a_login(client, two_sites):
    response = client.get("/moderate")
    assert response.status_code == 302 and "/moderate/login" in response.headers["Location"]
    refused = client.post("/moderate/login", data={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 403  # even the login form carries a CSRF token


def test_login_sets_an_httponly_samesite_cookie_and_a_wrong_password_fails(client, two_sites):
    assert login(client, password="wrong password!").status_code == 401
    response = login(client)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_repeated_failures_lock_the_account(client, two_sites):
    for _ in range(MAX_FAILED_LOGINS):
        login(client, password="wrong password!")
    locked = login(client)
    # Even the right password is refused now, with the same answer as a wrong one.
    assert locked.status_code == 401 and "invalid username or password" in locked.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(client, two_sites, drain):
    (_, key_a), _ = two_sites
    comment_id = held_comment(client, key_a, drain)
    login(client)
    refused = client.post("/moderate/decide", data={"action": "approve", "comment_id": comment_id})
    assert refused.status_code == 403
    wrong = client.post("/moderate/decide", data={"action": "approve", "comment_id": comment_id, "csrf_token": "x"})
    assert wrong.status_code == 403
    assert client.get(f"/v1/comments/{comment_id}", headers=auth(key_a)).get_json()["status"] == "held"


def test_approve_and_bulk_reject_are_audited_and_notify_the_site(client, two_sites, drain, db):
    (site_a, key_a), _ = two_sites
    with db.session() as session:
        session.get(type(site_a), site_a.id).webhook_url = "http://127.0.0.1:9/hook"
        session.commit()
    ids = [held_comment(client, key_a, drain, body=f"You stupid idiot number {n}, shut up.") for n in range(3)]
    login(client)
    token = csrf(client)
    client.post("/moderate/decide", data={"action": "approve", "comment_id": ids[0], "csrf_token": token})
    client.post(
        "/moderate/decide",
        data={
            "action": "reject",
            "reason": "insult",
            "note": "name-calling",
            "comment_id": ids[1:],
            "csrf_token": token,
        },
    )
    statuses = [client.get(f"/v1/comments/{i}", headers=auth(key_a)).get_json()["status"] for i in ids]
    assert statuses == ["approved", "rejected", "rejected"]
    with db.session() as session:
        events = session.scalars(select(ModerationEvent).where(ModerationEvent.actor == "moderator:alice")).all()
        assert sorted((e.comment_id, e.action, e.from_status, e.to_status) for e in events) == sorted(
            [
                (ids[0], "approve", "held", "approved"),
                (ids[1], "reject", "held", "rejected"),
                (ids[2], "reject", "held", "rejected"),
            ]
        )
        assert all(e.reasons[0]["note"] == "name-calling" for e in events if e.action == "reject")
    # The site sees the reason code, never the moderator's name or private note.
    api_reason = client.get(f"/v1/comments/{ids[1]}", headers=auth(key_a)).get_json()["reasons"][0]
    assert api_reason["code"] == "insult" and "note" not in api_reason and "moderator" not in api_reason
    with db.session() as session:
        deliveries = session.scalars(select(WebhookDelivery)).all()
        # one for the model's hold and one for the moderator's decision, per comment
        assert len(deliveries) == 6


def test_a_decision_can_be_reversed_and_the_reversal_is_audited(client, two_sites, drain, db):
    (_, key_a), _ = two_sites
    comment_id = held_comment(client, key_a, drain)
    login(client)
    token = csrf(client)
    client.post(
        "/moderate/decide", data={"action": "reject", "reason": "spam", "comment_id": comment_id, "csrf_token": token}
    )
    client.post("/moderate/decide", data={"action": "approve", "comment_id": comment_id, "csrf_token": token})
    with db.session() as session:
        actions = [
            e.action for e in session.scalars(select(ModerationEvent).where(ModerationEvent.comment_id == comment_id))
        ]
    assert actions == ["decide", "reject", "reverse_approve"]
    page = client.get("/moderate?status=approved").get_data(as_text=True)
    assert "moderator:alice: rejected → approved" in page


def test_a_rejection_needs_a_reason(client, two_sites, drain):
    (_, key_a), _ = two_sites
    comment_id = held_comment(client, key_a, drain)
    login(client)
    response = client.post(
        "/moderate/decide", data={"action": "reject", "comment_id": comment_id, "csrf_token": csrf(client)}
    )
    assert response.status_code == 400


def test_a_moderator_of_site_a_cannot_see_or_act_on_site_b(client, two_sites, drain, scorer):
    (_, key_a), (_, key_b) = two_sites
    mine = held_comment(client, key_a, drain, body="You utter moron, site A.")
    theirs = held_comment(client, key_b, drain, body="You utter moron, site B.")
    login(client)
    page = client.get("/moderate").get_data(as_text=True)
    assert mine in page and theirs not in page
    assert f"Model {scorer.version} ({scorer.precision})" in page  # which model decided, and in what precision
    assert theirs not in client.get("/moderate?site=2&q=site").get_data(as_text=True)
    response = client.post(
        "/moderate/decide", data={"action": "approve", "comment_id": theirs, "csrf_token": csrf(client)}
    )
    assert response.status_code == 404
    assert client.get(f"/v1/comments/{theirs}", headers=auth(key_b)).get_json()["status"] == "held"
    assert client.get("/moderate/sites/2").status_code == 403


def test_user_written_text_is_escaped(client, two_sites, drain, db):
    (site_a, key_a), _ = two_sites
    with db.session() as session:
        site = session.get(type(site_a), site_a.id)
        site.policy = {**site.policy, "suspect_words": ["bold"]}  # held whatever the model thinks
        session.commit()
    held_comment(
        client,
        key_a,
        drain,
        body='<script>alert("x")</script><b>bold</b> You are a pathetic idiot and worthless garbage.',
        author_name="<img src=x onerror=alert(1)>",
    )
    login(client)
    page = client.get("/moderate").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_admin_settings_change_policy_and_rotations_are_audited(client, two_sites, db, drain):
    (site_a, key_a), _ = two_sites
    login(client, "root")
    token = csrf(client, "/moderate/sites/1")
    form = {f"threshold_{label}": "0.9" for label in ("toxicity", "spam")}
    form |= {"banned_words": "viagra", "suspect_words": "refund", "hold_links": "on", "csrf_token": token}
    assert client.post("/moderate/sites/1", data=form).status_code == 200
    rotated = client.post("/moderate/sites/1", data={"rotate": "api_key", "csrf_token": token}).get_data(as_text=True)
    new_key = re.search(r"(cvl_[\w-]+)", rotated).group(1)
    assert client.post("/v1/comments", json=comment_payload(), headers=auth(key_a)).status_code == 401
    banned = client.post(
        "/v1/comments", json=comment_payload(body="Cheap V1agra here"), headers=auth(new_key)
    ).get_json()["id"]
    suspect = client.post(
        "/v1/comments", json=comment_payload(body="I want a refund now"), headers=auth(new_key)
    ).get_json()["id"]
    drain()
    assert client.get(f"/v1/comments/{banned}", headers=auth(new_key)).get_json()["status"] == "rejected"
    held = client.get(f"/v1/comments/{suspect}", headers=auth(new_key)).get_json()
    assert held["status"] == "held" and held["reasons"][0]["code"] == "suspect_word"
    with db.session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.details.get("rotated") for e in entries] == [None, "api_key"]
        assert entries[0].details["after"]["policy"]["banned_words"] == ["viagra"]
        assert entries[0].actor == "moderator:root"


def test_moderator_decisions_export_as_training_labels(client, two_sites, drain, db):
    (_, key_a), _ = two_sites
    spam_id = held_comment(client, key_a, drain, body="Cheap watches at bit.ly/watch buy buy buy now winner prize")
    hate_id = held_comment(client, key_a, drain)
    login(client)
    token = csrf(client)
    client.post(
        "/moderate/decide", data={"action": "reject", "reason": "spam", "comment_id": spam_id, "csrf_token": token}
    )
    client.post(
        "/moderate/decide",
        data={"action": "reject", "reason": "hate_speech", "comment_id": hate_id, "csrf_token": token},
    )
    out = io.StringIO()
    with db.session() as session:
        assert export_labels(session, out) == 3
        spam_body = session.get(Comment, spam_id).body
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {(r["target"], r["label"]) for r in rows} == {("spam", "1"), ("toxicity", "1"), ("identity_attack", "1")}
    assert next(r["text"] for r in rows if r["target"] == "spam") == spam_body


def test_the_demo_article_takes_a_comment_and_shows_it_awaiting_moderation(client, db, drain, make_site):
    make_site("demo")
    page = client.get("/demo")
    assert "will not be published" in page.get_data(as_text=True)
    response = client.post(
        "/demo/comments", data={"body": "You pathetic idiot.", "author_name": "Troll", "author_email": "t@example.org"}
    )
    assert response.status_code == 302
    drain()
    assert "awaiting moderation" in client.get("/demo").get_data(as_text=True)
    client.post(
        "/demo/comments",
        data={"body": "Lovely park, thanks for the report.", "author_name": "Ann", "author_email": "ann@example.org"},
    )
    drain()
    page = client.get("/demo").get_data(as_text=True)
    assert "Lovely park, thanks for the report." in page and "ann@example.org" not in page
    invalid = client.post("/demo/comments", data={"body": "", "author_name": "", "author_email": "nope"})
    assert invalid.status_code == 422


def test_the_demo_form_is_rate_limited_per_reader_and_keeps_the_rejected_comment(client, db, make_site):
    make_site("demo", submissions_per_ip_per_minute=2)
    form = {"body": "Third thought on the park.", "author_name": "Ann", "author_email": "ann@example.org"}
    for n in range(2):
        assert client.post("/demo/comments", data=form | {"body": f"Thought {n} on the park."}).status_code == 302
    refused = client.post("/demo/comments", data=form)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    page = refused.get_data(as_text=True)
    assert "Too many comments" in page and "Third thought on the park." in page  # nothing the reader typed is lost
    with db.session() as session:
        stored = session.scalars(select(Comment.body).where(Comment.article_id == "demo-riverside-park")).all()
    assert sorted(stored) == ["Thought 0 on the park.", "Thought 1 on the park."]
    with db.session() as session:
        ips = set(session.scalars(select(Comment.author_ip).where(Comment.article_id == "demo-riverside-park")))
    assert ips == {"127.0.0.1"}  # the reader's address is recorded like an API submission's


def test_behind_a_trusted_proxy_the_demo_limits_each_reader_by_their_forwarded_address(settings, redis, db, make_site):
    from dataclasses import replace

    from service.app import create_app

    make_site("demo", submissions_per_ip_per_minute=1)

    def post(proxies: int, forwarded_for: str) -> int:
        app = create_app(replace(settings, trusted_proxies=proxies), redis=redis)
        form = {"body": f"A thought from {forwarded_for}.", "author_name": "Ann", "author_email": "ann@example.org"}
        response = app.test_client().post("/demo/comments", data=form, headers={"X-Forwarded-For": forwarded_for})
        app.extensions["civility"].db.dispose()
        return response.status_code

    # Behind one trusted proxy, two readers each have their own limit of one a minute.
    assert [post(1, "198.51.100.7"), post(1, "198.51.100.8"), post(1, "198.51.100.7")] == [302, 302, 429]
    # With no trusted proxy the header is ignored: a forged address does not buy another comment.
    assert [post(0, "198.51.100.9"), post(0, "198.51.100.10")] == [302, 429]
    with db.session() as session:
        ips = sorted(session.scalars(select(Comment.author_ip).where(Comment.article_id == "demo-riverside-park")))
    assert ips == ["127.0.0.1", "198.51.100.7", "198.51.100.8"]


def test_a_delivery_whose_enqueue_was_lost_is_enqueued_by_the_reconciler(client, make_site, db, drain, redis, settings):
    from dataclasses import replace

    from service.reconcile import reconcile_deliveries

    site, key = make_site("lost-hook", suspect_words=["idiot"])
    with db.session() as session:
        session.get(type(site), site.id).webhook_url = "http://127.0.0.1:1/hook"
        session.commit()
    held_comment(client, key, drain, body="You idiot.")
    redis.flushdb()  # the delivery's job is lost with Redis; the row is still pending
    with db.session() as session:
        session.execute(WebhookDelivery.__table__.update().values(status="pending", attempts=0))
        session.commit()
        assert reconcile_deliveries(session, redis, replace(settings, reconcile_after_seconds=0)) == 1
    drain()
    with db.session() as session:
        [delivery] = session.scalars(select(WebhookDelivery)).all()
        assert delivery.attempts == 3 and delivery.status == "failed"


def test_a_webhook_to_a_receiver_that_is_down_is_retried_then_marked_failed(client, make_site, db, drain):
    site, key = make_site("down-site", suspect_words=["idiot"])
    with db.session() as session:
        session.get(type(site), site.id).webhook_url = "http://127.0.0.1:1/hook"
        session.commit()
    held_comment(client, key, drain, body="You idiot.")
    drain()
    with db.session() as session:
        [delivery] = session.scalars(select(WebhookDelivery)).all()
        assert delivery.status == "failed"
        assert delivery.attempts == 3  # the first try and two retries (the test settings' backoff)
        assert "Connection refused" in delivery.last_error
