"""The /v1 API through the Flask app, a real database and a real Redis queue."""

from __future__ import annotations

import json

from rq import Queue

from service import keys
from tests.conftest import auth, comment_payload


def post(client, key, payload=None, **kwargs):
    return client.post(
        "/v1/comments", json=payload if payload is not None else comment_payload(), headers=auth(key), **kwargs
    )


def test_submit_returns_202_pending_and_enqueues_a_job_named_after_the_comment(client, make_site, redis):
    _, key = make_site()
    response = post(client, key)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending" and body["article_id"] == "article-1"
    assert Queue(keys.QUEUE_MODERATION, connection=redis).job_ids == [keys.score_job_id(body["id"])]
    assert "author_email" not in json.dumps(body)


def test_same_external_id_returns_the_existing_comment_and_enqueues_nothing_more(client, make_site, redis):
    _, key = make_site()
    first = post(client, key, comment_payload(external_id="wp-42"))
    second = post(client, key, comment_payload(external_id="wp-42", body="a different body"))
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert len(Queue(keys.QUEUE_MODERATION, connection=redis)) == 1


def test_external_ids_are_scoped_per_site(client, make_site):
    _, key_a = make_site()
    _, key_b = make_site()
    a = post(client, key_a, comment_payload(external_id="same"))
    b = post(client, key_b, comment_payload(external_id="same"))
    assert (a.status_code, b.status_code) == (202, 202)
    assert a.get_json()["id"] != b.get_json()["id"]


def test_missing_and_wrong_keys_get_401(client, make_site):
    make_site()
    missing = client.post("/v1/comments", json=comment_payload())
    wrong = post(client, "cvl_not-a-real-key")
    basic = client.post("/v1/comments", json=comment_payload(), headers={"Authorization": "Basic abc"})
    for response in (missing, wrong, basic):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_malformed_json_is_400(client, make_site):
    _, key = make_site()
    response = client.post("/v1/comments", data=b'{"body": ', headers=auth(key) | {"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    bad_utf8 = client.post(
        "/v1/comments", data=b'{"body": "\xff"}', headers=auth(key) | {"Content-Type": "application/json"}
    )
    assert bad_utf8.status_code == 400


def test_non_json_content_type_is_415(client, make_site):
    _, key = make_site()
    response = client.post(
        "/v1/comments", data="body=hi", headers=auth(key) | {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_body_over_64_kb_is_413(client, make_site):
    _, key = make_site()
    response = post(client, key, comment_payload(body="x" * 70_000))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_invalid_fields_are_422_naming_each_field(client, make_site):
    _, key = make_site()
    payload = comment_payload(
        body="   ", author_email="not-an-email", author_url="javascript:alert(1)", author_ip="999.1.1.1"
    )
    del payload["author_name"]
    response = post(client, key, payload)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_fields"
    assert set(error["fields"]) == {"body", "author_email", "author_url", "author_ip", "author_name"}


def test_body_limits_apply_after_trimming(client, make_site):
    _, key = make_site()
    assert post(client, key, comment_payload(body="  " + "y" * 10_000 + "  ")).status_code == 202
    too_long = post(client, key, comment_payload(body="y" * 10_001))
    assert too_long.status_code == 422 and "body" in too_long.get_json()["error"]["fields"]


def test_non_object_json_is_422(client, make_site):
    _, key = make_site()
    response = post(client, key, [1, 2, 3])
    assert response.status_code == 422


def test_nul_and_lone_surrogates_are_stored_without_error(client, make_site):
    _, key = make_site()
    raw = '{"article_id": "a", "body": "hi\\u0000 there \\ud800", "author_name": "n", "author_email": "n@example.org"}'
    response = client.post("/v1/comments", data=raw, headers=auth(key) | {"Content-Type": "application/json"})
    assert response.status_code == 202
    stored = client.get(f"/v1/comments/{response.get_json()['id']}", headers=auth(key)).get_json()
    assert stored["body"] == "hi there \ufffd"


def test_a_site_cannot_read_another_sites_comment(client, make_site):
    _, key_a = make_site()
    _, key_b = make_site()
    comment_id = post(client, key_a).get_json()["id"]
    assert client.get(f"/v1/comments/{comment_id}", headers=auth(key_a)).status_code == 200
    other = client.get(f"/v1/comments/{comment_id}", headers=auth(key_b))
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"
    assert client.get("/v1/comments/does-not-exist", headers=auth(key_a)).status_code == 404


def test_get_comment_shows_status_and_never_the_email(client, make_site):
    _, key = make_site()
    comment_id = post(client, key).get_json()["id"]
    body = client.get(f"/v1/comments/{comment_id}", headers=auth(key)).get_json()
    assert body["status"] == "pending" and body["scores"] is None and body["created_at"]
    text = json.dumps(body)
    assert "ada@example.org" not in text and "203.0.113.7" not in text and "Mozilla" not in text


def test_unknown_route_and_method_are_json_errors(client, make_site):
    _, key = make_site()
    assert client.get("/v1/nothing", headers=auth(key)).get_json()["error"]["code"] == "not_found"
    response = client.delete("/v1/comments", headers=auth(key))
    assert response.status_code == 405 and response.get_json()["error"]["code"] == "method_not_allowed"


def test_listing_rejects_bad_query_parameters(client, make_site):
    _, key = make_site()
    response = client.get("/v1/articles/a/comments?status=everything&per_page=0", headers=auth(key))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"status", "per_page"}


def test_openapi_document_declares_the_validating_schemas(client):
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    request_schema = document["components"]["schemas"]["CommentIn"]
    assert set(request_schema["required"]) == {"article_id", "body", "author_name", "author_email"}
    assert request_schema["properties"]["body"]["maxLength"] == 10_000
    assert {"/v1/comments", "/v1/comments/{comment_id}", "/v1/articles/{article_id}/comments"} <= set(document["paths"])
    assert "author_email" not in document["components"]["schemas"]["PublicComment"]["properties"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_deeply_nested_json_is_a_400_not_a_crash(client, make_site):
    _, key = make_site()
    body = b"[" * 40_000
    response = client.post("/v1/comments", data=body, headers=auth(key) | {"Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_json"


def test_with_the_database_down_the_api_answers_503_and_accepts_nothing(settings, redis):
    from dataclasses import replace

    from service.app import create_app

    down = create_app(replace(settings, database_url="sqlite:////nonexistent-dir/civility.db"), redis=redis)
    response = down.test_client().post("/v1/comments", json=comment_payload(), headers=auth("cvl_any"))
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "unavailable"
    assert len(Queue(keys.QUEUE_MODERATION, connection=redis)) == 0
    down.extensions["civility"].db.dispose()
