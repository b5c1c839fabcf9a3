"""Fault injection under load, on loopback: a worker killed with SIGKILL, Redis restarted, the database
cut off. Afterwards every accepted comment is decided exactly once, with exactly one decision event,
and none was approved without being scored. The database is cut through a TCP proxy, so that part runs
on PostgreSQL (as CI runs it); SQLite is a file and cannot be cut off."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from service.db import Database
from service.embedded_redis import EmbeddedRedis, free_port
from service.sites import create_site
from service.tables import APPROVED, PENDING, Comment, ModerationEvent
from tests.conftest import CIVILITY, ROOT, comment_payload
from tests.test_processes import clean_env, wait_for

pytestmark = [pytest.mark.fault, pytest.mark.slow]
LOAD_SECONDS = 22
LOAD_PER_SECOND = 12


class Cuttable(threading.Thread):
    """A loopback TCP proxy to the database that can be cut (connections dropped, new ones refused)."""

    def __init__(self, target_port: int):
        super().__init__(daemon=True)
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = threading.Event()
        self.open_sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed at the end of the test
            if self.cut.is_set():
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.open_sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut_off(self) -> None:
        self.cut.set()
        with self.lock:
            for s in self.open_sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.open_sockets.clear()

    def restore(self) -> None:
        self.cut.clear()


def post(base: str, key: str, n: int) -> tuple[int, str | None]:
    payload = comment_payload(body=f"Comment {n} {uuid.uuid4().hex[:8]}: the council should publish the budget.")
    payload["author_ip"] = f"10.0.{n // 250}.{n % 250}"
    request = urllib.request.Request(
        base + "/v1/comments",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())["id"]
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return 0, None


def test_no_accepted_comment_is_lost_or_decided_twice_under_faults(settings, tmp_path):
    redis_server = EmbeddedRedis(tmp_path)
    redis_url = redis_server.start()
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    database_url = settings.database_url
    proxy = None
    if database_url.startswith("postgresql"):
        url = make_url(database_url)
        proxy = Cuttable(url.port or 5432)
        proxy.start()
        database_url = url.set(port=proxy.port).render_as_string(hide_password=False)
    db = Database(settings.database_url)
    with db.session() as session:
        made = create_site(session, "faults")
        made.site.policy = {**made.site.policy, "submissions_per_minute": 10**6}
        session.commit()
    env = clean_env(
        CIVILITY_DATA_DIR=str(tmp_path),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CIVILITY_RECONCILE_AFTER_SECONDS="3",
        CIVILITY_RECONCILE_INTERVAL_SECONDS="1",
        CIVILITY_JOB_TIMEOUT_SECONDS="10",
        CIVILITY_RETRY_INTERVALS="1,2,4",
        CIVILITY_TORCH_THREADS="1",
    )
    logs = tmp_path / "logs"
    logs.mkdir()

    log_files = []

    def spawn(*args: str) -> subprocess.Popen:
        log_files.append(open(logs / f"{args[0]}-{time.monotonic_ns()}.log", "w"))  # noqa: SIM115 - closed below
        return subprocess.Popen([*CIVILITY, *args], env=env, cwd=ROOT, stdout=log_files[-1], stderr=subprocess.STDOUT)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = spawn("api", "--port", str(port), "--processes", "1")
    workers = [spawn("worker"), spawn("worker")]
    accepted: list[str] = []
    refused: list[int] = []
    try:

        def api_up() -> bool:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(api_up, 60)

        def load() -> None:
            started = time.monotonic()
            for n in range(LOAD_SECONDS * LOAD_PER_SECOND):
                time.sleep(max(0.0, started + n / LOAD_PER_SECOND - time.monotonic()))
                status, comment_id = post(base, made.api_key, n)
                if status == 202 and comment_id:
                    accepted.append(comment_id)
                else:
                    refused.append(status)

        loader = threading.Thread(target=load)
        loader.start()
        time.sleep(4)
        workers[0].kill()  # SIGKILL, mid-job under load; a supervisor (civility up) would restart it
        workers[0].wait()
        workers[0] = spawn("worker")
        time.sleep(4)
        redis_server.stop()  # SIGTERM: flushes the AOF
        time.sleep(1)
        redis_server.start(port=redis_port)
        if proxy is not None:
            time.sleep(4)
            proxy.cut_off()
            time.sleep(4)
            proxy.restore()
        loader.join()
        for i, worker in enumerate(workers):  # RQ exits on some Redis errors; the supervisor restarts it
            if worker.poll() is not None:
                workers[i] = spawn("worker")

        def all_decided() -> bool:
            with db.session() as session:
                pending = session.scalar(
                    select(func.count()).select_from(Comment).where(Comment.id.in_(accepted), Comment.status == PENDING)
                )
            return pending == 0

        wait_for(all_decided, 150, interval=1)
    finally:
        for process in [api, *workers]:
            process.terminate()
        for process in [api, *workers]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                # A worker still inside a job after 30 s on a loaded machine: kill it, and reap it, or the
                # unreaped Popen warns (ResourceWarning) when collected and fails this test.
                process.kill()
                process.wait()
        redis_server.stop()
        if proxy is not None:
            proxy.restore()
            proxy.listener.close()
        for file in log_files:
            file.close()

    assert len(accepted) > LOAD_SECONDS * LOAD_PER_SECOND / 2
    # Refusals are only the documented ones: 503 while the database was cut, or no answer at all.
    assert set(refused) <= {503, 0}, refused
    if proxy is None:
        assert not refused
    with db.session() as session:
        events = session.execute(
            select(ModerationEvent.comment_id, func.count())
            .where(ModerationEvent.comment_id.in_(accepted), ModerationEvent.action == "decide")
            .group_by(ModerationEvent.comment_id)
        ).all()
        decided_once = {comment_id for comment_id, count in events if count == 1}
        assert decided_once == set(accepted), "some comment has no, or more than one, decision event"
        approved_unscored = session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.id.in_(accepted), Comment.status == APPROVED, Comment.model_version.is_(None))
        )
        assert approved_unscored == 0
    db.dispose()
    assert any("event=reenqueued" in p.read_text() for p in Path(logs).iterdir()), "the reconciler never ran"
