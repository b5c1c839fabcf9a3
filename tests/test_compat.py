"""Perspective and Akismet request shapes, answered by a real worker scoring on the realtime queue."""

from __future__ import annotations

import threading
import time
import urllib.parse

import httpx
import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from service.app import create_app
from service.embedded_redis import free_port
from service.tables import TrainingLabel
from tests.conftest import auth

TOXIC = "You are a pathetic idiot and a worthless piece of garbage."
CLEAN = "Thanks for the careful reporting on the council vote."


def while_draining(drain, call):
    """Run a request that waits on the realtime queue while this thread works the queue, as a worker would."""
    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.setdefault("response", call()))
    thread.start()
    while thread.is_alive():
        drain()
        time.sleep(0.02)
    thread.join()
    return box["response"]


def coral_request(text: str, language: str = "en", model: str = "TOXICITY") -> dict:
    """Exactly what Coral Talk's toxic-comment phase sends to its Perspective endpoint."""
    return {"comment": {"text": text}, "languages": [language], "doNotStore": True, "requestedAttributes": {model: {}}}


def analyze(client, key, body, drain=None):
    call = lambda: client.post(f"/v1alpha1/comments:analyze?key={key}", json=body)  # noqa: E731
    return while_draining(drain, call) if drain else call()


def test_coral_toxicity_request_gets_a_summary_score(client, make_site, drain, redis):
    _, key = make_site()
    toxic = analyze(client, key, coral_request(TOXIC), drain)
    clean = analyze(client, key, coral_request(CLEAN), drain)
    assert toxic.status_code == 200, toxic.get_json()
    toxic_score = toxic.get_json()["attributeScores"]["TOXICITY"]["summaryScore"]
    assert toxic_score["type"] == "PROBABILITY"
    assert toxic_score["value"] > 0.5 > clean.get_json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    assert toxic.get_json()["languages"] == ["en"]
    # doNotStore: nothing of the text is left in Redis once the call returns.
    assert not [k for k in redis.scan_iter("*") if TOXIC.encode() in (redis.dump(k) or b"")]


@pytest.mark.parametrize("language", ["es", "fr", "de", "pt"])
def test_coral_requests_in_languages_the_model_lacks_get_perspectives_error(client, make_site, language):
    _, key = make_site()
    response = analyze(client, key, coral_request("Eres un idiota", language))
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE" in error["message"]


def test_spans_thresholds_client_token_and_bearer_auth(client, make_site, drain):
    _, key = make_site()
    body = {
        "comment": {"text": "The council did fine work, you pathetic idiot.", "type": "PLAIN_TEXT"},
        "requestedAttributes": {"TOXICITY": {"scoreType": "PROBABILITY"}, "SPAM": {"scoreThreshold": 0.99}},
        "spanAnnotations": True,
        "clientToken": "token-7",
        "communityId": "local-news",
    }
    call = lambda: client.post("/v1alpha1/comments:analyze", json=body, headers=auth(key))  # noqa: E731
    response = while_draining(drain, call).get_json()
    assert response["clientToken"] == "token-7"
    assert set(response["attributeScores"]) == {"TOXICITY"}  # SPAM is below its scoreThreshold
    spans = response["attributeScores"]["TOXICITY"]["spanScores"]
    text = body["comment"]["text"]
    assert any(text[s["begin"] : s["end"]].strip(".") in {"idiot", "pathetic"} for s in spans)
    assert all(s["score"]["type"] == "PROBABILITY" for s in spans)


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"comment": {"text": "  "}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY"),
        ({"comment": {"text": "x" * 20_481}, "requestedAttributes": {"TOXICITY": {}}}, "COMMENT_TOO_LONG"),
        ({"comment": {"text": "hello"}, "requestedAttributes": {}}, "NO_REQUESTED_ATTRIBUTES"),
        ({"comment": {"text": "hello"}}, "NO_REQUESTED_ATTRIBUTES"),
    ],
)
def test_perspective_errors(client, make_site, body, error_type):
    _, key = make_site()
    response = analyze(client, key, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error_type in error["message"]
    assert error["details"][0]["errorType"] == error_type


def test_attributes_the_model_does_not_score_are_refused_not_faked(client, make_site, drain):
    _, key = make_site()
    response = analyze(client, key, coral_request(CLEAN, model="THREAT"), drain)
    assert response.status_code == 400
    assert "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE" in response.get_json()["error"]["message"]


def test_bad_keys_and_rate_limits(client, make_site, db):
    site, key = make_site(rate_limit_per_minute=2)
    assert analyze(client, "cvl_wrong", coral_request(CLEAN)).status_code == 400
    assert client.post("/v1alpha1/comments:analyze", json=coral_request(CLEAN)).status_code == 403
    empty = {"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}
    codes = [analyze(client, key, empty).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    limited = analyze(client, key, empty)
    assert limited.get_json()["error"]["status"] == "RESOURCE_EXHAUSTED" and limited.headers["Retry-After"]


def test_suggestscore_stores_a_training_label(client, make_site, db):
    site, key = make_site()
    body = {
        "comment": {"text": "Rejected by a Coral moderator"},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "communityId": "coral-tenant",
        "clientToken": "c-1",
    }
    response = client.post(f"/v1alpha1/comments:suggestscore?key={key}", json=body)
    assert response.status_code == 200 and response.get_json() == {"clientToken": "c-1"}
    with db.session() as session:
        [label] = session.scalars(select(TrainingLabel)).all()
    assert label.labels == {"toxicity": 1.0} and label.meta["communityId"] == "coral-tenant"
    assert label.site_id == site.id and label.source == "perspective_suggest"


# Akismet, through the `akismet` client from PyPI. Its base URL is fixed to rest.akismet.com, but it takes
# an httpx client, so a transport that sends its requests to our server points it at us.


class ToLocal(httpx.BaseTransport):
    def __init__(self, base: str):
        self.base = httpx.URL(base)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host, port=self.base.port)
        return self.inner.handle_request(request)


@pytest.fixture
def live_app(settings, redis):
    app = create_app(settings, redis=redis)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["civility"].db.dispose()


def akismet_client(base: str, key: str):
    import akismet

    config = akismet.Config(key=key, url="https://news.example")
    return akismet.SyncClient(config=config, http_client=httpx.Client(transport=ToLocal(base)))


def test_the_akismet_client_verifies_keys_and_checks_comments(live_app, make_site, drain, db):
    import akismet

    _, key = make_site(thresholds={"spam": 0.5})
    client = akismet_client(live_app, key)
    assert client.verify_key(key, "https://news.example") is True
    assert client.verify_key("cvl_wrong", "https://news.example") is False
    spam = "WINNER!! You have won a free iPhone. Claim your prize now, text WIN to 80082 or click http://bit.ly/free"
    verdict = while_draining(
        drain,
        lambda: client.comment_check(
            user_ip="203.0.113.9", comment_content=spam, comment_type="comment", comment_author_url="http://bit.ly/free"
        ),
    )
    assert verdict in (akismet.CheckResponse.SPAM, akismet.CheckResponse.DISCARD)
    ham = while_draining(
        drain, lambda: client.comment_check(user_ip="203.0.113.9", comment_content=CLEAN, comment_type="comment")
    )
    assert ham == akismet.CheckResponse.HAM
    assert client.submit_spam(user_ip="203.0.113.9", comment_content=spam) is True
    assert client.submit_ham(user_ip="203.0.113.9", comment_content=CLEAN) is True
    with db.session() as session:
        labels = sorted((t.source, t.labels["spam"]) for t in session.scalars(select(TrainingLabel)))
    assert labels == [("akismet_ham", 0.0), ("akismet_spam", 1.0)]


def test_akismet_wire_format_as_the_wordpress_plugin_sends_it(client, make_site, drain):
    _, key = make_site()
    form = {
        "api_key": key, "blog": "https://news.example", "user_ip": "203.0.113.9", "user_agent": "Mozilla/5.0",
        "referrer": "https://news.example/a", "permalink": "https://news.example/a", "comment_type": "comment",
        "comment_author": "Bot", "comment_author_email": "bot@mailinator.com", "comment_author_url": "",
        "comment_content": "Nice post", "blog_lang": "en_US", "blog_charset": "UTF-8", "user_role": "",
        "honeypot_field_name": "ak_hp_textarea", "ak_hp_textarea": "filled by a bot",
    }  # fmt: skip
    post = lambda: client.post("/1.1/comment-check", data=form)  # noqa: E731
    response = while_draining(drain, post)
    assert response.get_data(as_text=True) == "true"
    assert response.headers["X-akismet-pro-tip"] == "discard" and response.headers["X-akismet-guid"]
    missing = client.post("/1.1/comment-check", data={"api_key": key, "comment_content": "hi"})
    assert missing.get_data(as_text=True) == "invalid" and "blog" in missing.headers["X-akismet-debug-help"]
    bad_key = client.post("/1.1/comment-check", data=form | {"api_key": "nope"})
    assert bad_key.get_data(as_text=True) == "invalid" and bad_key.headers["X-akismet-debug-help"]
    thanks = client.post(
        "/1.1/submit-spam", data=urllib.parse.urlencode(form), content_type="application/x-www-form-urlencoded"
    )
    assert thanks.get_data(as_text=True) == "Thanks for making the web a better place."


def test_malformed_suggestions_and_nesting_are_invalid_argument_not_a_crash(client, make_site):
    _, key = make_site()
    for summary in (5, None, [1]):
        body = {"comment": {"text": "hi"}, "attributeScores": {"TOXICITY": {"summaryScore": summary}}}
        response = client.post(f"/v1alpha1/comments:suggestscore?key={key}", json=body)
        assert response.status_code == 400 and response.get_json()["error"]["status"] == "INVALID_ARGUMENT"
    nested = client.post(f"/v1alpha1/comments:analyze?key={key}", data=b"[" * 40_000, content_type="application/json")
    assert nested.status_code == 400


def test_akismet_labels_with_nul_characters_are_stored_without_them(client, make_site, db):
    _, key = make_site()
    form = {"api_key": key, "blog": "https://news.example\x00", "user_ip": "203.0.113.9"}
    response = client.post("/1.1/submit-spam", data=form | {"comment_content": "cheap\x00 pills"})
    assert response.status_code == 200 and response.get_data(as_text=True).startswith("Thanks")
    with db.session() as session:
        [label] = session.scalars(select(TrainingLabel)).all()
    assert label.text == "cheap pills" and label.meta["blog"] == "https://news.example"


def test_compatibility_endpoints_answer_503_when_redis_is_down(settings, make_site):
    from redis import Redis

    _, key = make_site()
    offline = create_app(settings, redis=Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
    client = offline.test_client()
    try:
        perspective = client.post(f"/v1alpha1/comments:analyze?key={key}", json=coral_request(CLEAN))
        assert perspective.status_code == 503 and perspective.get_json()["error"]["status"] == "UNAVAILABLE"
        form = {"api_key": key, "blog": "https://news.example", "user_ip": "203.0.113.9", "comment_content": CLEAN}
        akismet = client.post("/1.1/comment-check", data=form)
        assert akismet.status_code == 503 and akismet.headers["Retry-After"]
    finally:
        offline.extensions["civility"].db.dispose()
