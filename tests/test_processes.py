"""Whole processes as users run them: `civility up`, `create-site`, and a worker killed mid-job."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import select

from service import keys
from service.embedded_redis import free_port
from service.schemas import CommentIn
from service.sites import create_site
from service.submit import submit_comment
from service.tables import Comment, ModerationEvent
from tests.conftest import CIVILITY, ROOT, civility, comment_payload

pytestmark = pytest.mark.slow


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "CIVILITY_DATA_DIR")}
    env.update(extra)
    return env


def http(
    method: str, url: str, key: str | None = None, payload: dict | None = None, headers: dict | None = None
) -> tuple[int, dict]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def test_create_site_works_on_a_fresh_data_directory_and_prints_the_key_once(tmp_path):
    env = clean_env(CIVILITY_DATA_DIR=str(tmp_path / "fresh"))
    result = civility("create-site", "daily-planet", "--webhook-url", "https://planet.example/hook", env=env)
    assert result.returncode == 0, result.stderr
    key = re.search(r"^(cvl_\S+)$", result.stdout, re.M)
    assert key
    assert key.group(1).encode() not in (tmp_path / "fresh" / "civility.db").read_bytes()
    again = civility("create-site", "daily-planet", env=env)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_up_serves_decides_a_comment_and_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    data_dir = tmp_path / "var"
    process = subprocess.Popen(
        [*CIVILITY, "up", "--port", str(port), "--workers", "1"],
        env=clean_env(CIVILITY_DATA_DIR=str(data_dir)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        while not any("Civility is starting" in line for line in lines):
            line = process.stdout.readline()
            assert line, "civility up exited early:\n" + "".join(lines)
            lines.append(line)
        key = next(line.strip() for line in lines if line.strip().startswith("cvl_"))
        base = f"http://127.0.0.1:{port}"

        def healthy():
            try:
                return http("GET", base + "/healthz")[0] == 200
            except OSError:
                return False

        wait_for(healthy, 30)
        headers = {"X-Request-ID": "req-from-the-proxy-42"}
        status, body = http("POST", base + "/v1/comments", key, comment_payload(), headers)
        assert status == 202
        decided = wait_for(
            lambda: (r := http("GET", f"{base}/v1/comments/{body['id']}", key)[1])["status"] != "pending" and r, 90
        )
        assert decided["status"] == "approved" and decided["model_version"]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "event=stopped" in output
    # Logs are JSON lines, the request id ties the POST to its comment id, and no key is ever logged.
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(entries) > 10
    received = next(e for e in entries if e.get("event") == "comment_received")
    assert received["request_id"] == "req-from-the-proxy-42" and received["comment_id"] == body["id"]
    access = next(e for e in entries if e.get("event") == "request" and e.get("method") == "POST")
    assert access["request_id"] == "req-from-the-proxy-42" and access["status"] == "202"
    assert any(e.get("event") == "scored" and e.get("comment_id") == body["id"] for e in entries)
    assert not any(key in json.dumps(e) for e in entries)
    assert any(p.name.startswith("appendonly") for p in (data_dir / "redis").iterdir())


# Long enough that a worker is caught mid-job; a real reader's sentence, because v6 took a hex id followed
# by "Long thoughtful text." thirty times for spam (up to 0.72), which is fair.
CALM_SENTENCE = "The council should publish the full bridge budget before the vote, and residents deserve a hearing. "


def test_a_worker_killed_mid_job_loses_nothing(settings, redis, db):
    with db.session() as session:
        site = create_site(session, "killed-worker").site
        ids = [
            submit_comment(
                session,
                redis,
                settings,
                site,
                CommentIn(**comment_payload(body=f"Comment {uuid.uuid4().hex}. " + CALM_SENTENCE * 6)),
            )[0].id
            for n in range(30)
        ]
    env = clean_env(
        CIVILITY_DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url or "",
        CIVILITY_RECONCILE_AFTER_SECONDS="1",
        CIVILITY_RECONCILE_INTERVAL_SECONDS="0.5",
        CIVILITY_JOB_TIMEOUT_SECONDS="5",
    )
    started = Queue(keys.QUEUE_MODERATION, connection=redis).started_job_registry
    first = subprocess.Popen(
        [*CIVILITY, "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    killed_comment = None
    try:
        # Freeze the worker, and kill it only while it holds a job whose comment is undecided.
        deadline = time.monotonic() + 90
        while killed_comment is None and time.monotonic() < deadline:
            time.sleep(0.05)
            first.send_signal(signal.SIGSTOP)
            for job_id in started.get_job_ids():
                comment_id = job_id.removeprefix("score-")
                with db.session() as session:
                    if session.get(Comment, comment_id).status == "pending":
                        killed_comment = comment_id
            if killed_comment is None:
                first.send_signal(signal.SIGCONT)
        assert killed_comment, "the worker never started a job"
        first.kill()
    finally:
        first.kill()
        first.wait()

    log_path = settings.data_dir / "second-worker.log"
    with open(log_path, "w") as log:
        second = subprocess.Popen([*CIVILITY, "worker"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:

        def all_decided():
            with db.session() as session:
                return all(session.get(Comment, i).status != "pending" for i in ids)

        wait_for(all_decided, 120, interval=0.5)
        # Ops tell processes apart by role in ps and top.
        assert Path(f"/proc/{second.pid}/cmdline").read_bytes().startswith(b"civility worker")
    finally:
        second.terminate()
        second.wait(30)
    assert f"event=reenqueued comment_id={killed_comment}" in log_path.read_text()
    with db.session() as session:
        for comment_id in ids:
            events = session.scalars(select(ModerationEvent).where(ModerationEvent.comment_id == comment_id)).all()
            assert len(events) == 1, comment_id
        killed = session.get(Comment, killed_comment)
        assert killed.status == "approved", killed.reasons
        assert session.get(Comment, killed_comment).enqueue_count == 2


def test_create_moderator_command_hashes_the_password(tmp_path):
    env = clean_env(CIVILITY_DATA_DIR=str(tmp_path))
    assert civility("create-site", "gazette", env=env).returncode == 0
    made = civility("create-moderator", "maria", "--password", "a long passphrase", "--site", "gazette", env=env)
    assert made.returncode == 0, made.stderr
    assert b"a long passphrase" not in (tmp_path / "civility.db").read_bytes()
    unknown_site = civility("create-moderator", "ola", "--password", "a long passphrase", "--site", "nope", env=env)
    assert unknown_site.returncode == 1 and "no site named" in unknown_site.stderr
    short = civility("create-moderator", "ola", "--password", "short", "--admin", env=env)
    assert short.returncode == 1 and "at least 10 characters" in short.stderr


def test_slow_clients_are_cut_off_and_do_not_starve_the_api(settings, tmp_path):
    import socket

    port = free_port()
    env = clean_env(
        CIVILITY_DATA_DIR=str(tmp_path),
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url or "",
        CIVILITY_CLIENT_TIMEOUT_SECONDS="2",
    )
    api = subprocess.Popen(
        [*CIVILITY, "api", "--port", str(port), "--processes", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    slow: list[socket.socket] = []
    try:
        wait_for(lambda: _answers(base), 60)
        # More half-sent requests than the API process has threads (4), each then stalling.
        for _ in range(6):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"POST /v1/comments HTTP/1.1\r\nHost: news.example\r\nContent-Le")  # headers half sent
            slow.append(sock)
        started = time.monotonic()
        assert http("GET", base + "/healthz")[0] == 200
        assert time.monotonic() - started < 8
        for sock in slow:  # each stalled connection was closed by the server (a recv timeout would raise)
            sock.settimeout(10)
            while sock.recv(1024):
                pass
    finally:
        for sock in slow:
            sock.close()
        api.terminate()
        api.wait(30)


def _answers(base: str) -> bool:
    try:
        return http("GET", base + "/healthz")[0] == 200
    except OSError:
        return False


def _key_in_child(settings, start, out) -> None:
    from service.app import secret_key

    start.wait()
    out.put(secret_key(settings))


def test_api_processes_starting_together_share_one_secret_key(settings, tmp_path):
    """`civility api` starts its processes together: all must read one whole key, or sessions and CSRF fail."""
    import multiprocessing
    from dataclasses import replace

    fresh = replace(settings, secret_key=None, data_dir=tmp_path / "fresh")
    context = multiprocessing.get_context("fork")
    start, out = context.Event(), context.Queue()
    children = [context.Process(target=_key_in_child, args=(fresh, start, out)) for _ in range(8)]
    for child in children:
        child.start()
    start.set()
    keys_read = [out.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert len(set(keys_read)) == 1 and len(keys_read[0]) >= 48
    assert [p.name for p in (tmp_path / "fresh").iterdir()] == ["secret_key"]
    assert (tmp_path / "fresh" / "secret_key").stat().st_mode & 0o777 == 0o600
