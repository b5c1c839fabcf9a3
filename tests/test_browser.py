"""The moderator workspace in headless Chromium (Playwright driving Debian's chromium) on a live server."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from service.app import create_app
from service.embedded_redis import free_port
from service.moderators import create_moderator
from service.tables import Comment, ModerationEvent, Site, WebhookDelivery
from service.webhooks import SIGNATURE_HEADER, verify
from tests.conftest import auth, comment_payload

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("CIVILITY_SCREENSHOTS", Path(__file__).parent / "screenshots"))
PASSWORD = "correct horse battery"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install -y chromium)"),
]


class Receiver(BaseHTTPRequestHandler):
    """A site's webhook endpoint: keeps what it was sent."""

    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads what the receiver got, not its access log."""


@pytest.fixture
def receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def live(settings, redis, make_site, db, receiver):
    """A real HTTP server for the app, two sites and a moderator for each."""
    site_a, key_a = make_site("site-a", suspect_words=["idiot", "moron", "script"])
    _, key_b = make_site("site-b", suspect_words=["idiot", "moron"])
    with db.session() as session:
        session.get(Site, site_a.id).webhook_url = receiver
        session.commit()
        create_moderator(session, "alice", PASSWORD, ["site-a"])
        create_moderator(session, "bob", PASSWORD, ["site-b"])
    app = create_app(settings, redis=redis)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, "keys": (key_a, key_b), "site_a": site_a}
    server.shutdown()
    app.extensions["civility"].db.dispose()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield instance
        instance.close()


def submit(live, key, body, **extra):
    client = live["app"].test_client()
    response = client.post("/v1/comments", json=comment_payload(body=body, **extra), headers=auth(key))
    assert response.status_code == 202
    return response.get_json()["id"]


def log_in(page, live, username):
    page.goto(live["url"] + "/moderate/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live["url"] + "/moderate/")


def statuses(db, ids):
    with db.session() as session:
        return [session.get(Comment, i).status for i in ids]


def test_moderator_works_the_queue_by_keyboard_and_the_site_hears_of_it(live, browser, drain, db, receiver):
    key_a, _ = live["keys"]
    first = submit(live, key_a, "You idiot, the park was a waste of money.")
    evil = submit(
        live, key_a,
        '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> moron',
        author_name='<b onmouseover="window.pwned=3">Mallory</b>',
    )  # fmt: skip
    third = submit(live, key_a, "What a moron of a mayor.")
    drain()
    assert statuses(db, [first, evil, third]) == ["held"] * 3

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    log_in(page, live, "alice")
    items = page.locator("li.comment")
    assert items.count() == 3
    assert items.nth(0).get_attribute("data-id") == first
    assert "current" in (items.nth(0).get_attribute("class") or "")
    # The script and markup are shown as text and ran nothing.
    assert "<script>window.pwned = 1</script>" in items.nth(1).locator(".body").inner_text()
    assert page.evaluate("window.pwned") is None
    page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)

    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "shortcuts.png"))
    page.keyboard.press("Escape")

    with page.expect_navigation():
        page.keyboard.press("a")  # approve the selected (first) comment
    assert statuses(db, [first]) == ["approved"]
    assert page.locator("li.comment").count() == 2

    page.get_by_label("Rejection reason").select_option("spam")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    with page.expect_navigation():
        page.keyboard.press("r")
    assert statuses(db, [first, evil, third]) == ["approved", "rejected", "rejected"]
    assert "Nothing here." in page.content()
    assert page.evaluate("window.pwned") is None

    page.goto(live["url"] + "/moderate?status=rejected")
    page.locator("li.comment details").nth(1).click()
    page.screenshot(path=str(SCREENSHOTS / "rejected.png"), full_page=True)
    assert page.evaluate("window.pwned") is None

    with db.session() as session:
        events = session.scalars(select(ModerationEvent).where(ModerationEvent.actor == "moderator:alice")).all()
        assert sorted((e.comment_id, e.to_status) for e in events) == sorted(
            [(first, "approved"), (evil, "rejected"), (third, "rejected")]
        )
        assert {e.reasons[0]["code"] for e in events if e.to_status == "rejected"} == {"spam"}

    drain()  # the worker delivers the webhooks
    with db.session() as session:
        assert {d.status for d in session.scalars(select(WebhookDelivery))} == {"delivered"}
    secret = db_secret(db, live["site_a"].id)
    decided = {}
    for headers, body in Receiver.received:
        assert verify(secret, body, headers[SIGNATURE_HEADER])
        payload = json.loads(body)
        decided.setdefault(payload["comment"]["id"], []).append((payload["actor"], payload["comment"]["status"]))
        assert "example.org" not in body.decode()
    assert decided[first][-1] == ("moderator:alice", "approved")
    assert decided[evil][-1] == ("moderator:alice", "rejected")
    assert decided[third][-1] == ("moderator:alice", "rejected")


def db_secret(db, site_id):
    with db.session() as session:
        return session.get(Site, site_id).webhook_secret


def test_csrf_and_site_scope_hold_in_the_browser(live, browser, drain, db):
    key_a, key_b = live["keys"]
    theirs = submit(live, key_a, "You idiot, site A only.")
    mine = submit(live, key_b, "You moron, site B only.")
    drain()
    page = browser.new_page()
    log_in(page, live, "bob")
    assert page.locator("li.comment").count() == 1
    assert page.locator("li.comment").get_attribute("data-id") == mine
    post = """([fields]) => fetch('/moderate/decide', {method: 'POST', body: new URLSearchParams(fields)})
                  .then(r => r.status)"""
    no_token = page.evaluate(post, [{"action": "approve", "comment_id": mine}])
    assert no_token == 403
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    other_site = page.evaluate(post, [{"action": "approve", "comment_id": theirs, "csrf_token": token}])
    assert other_site == 404
    assert page.goto(live["url"] + "/moderate/sites/1").status == 403
    assert statuses(db, [theirs, mine]) == ["held", "held"]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live["url"] + "/moderate")
    page.screenshot(path=str(SCREENSHOTS / "phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
