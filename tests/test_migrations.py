"""The Alembic revisions build the schema the code maps, and a database made by an older release upgrades."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from service.db import Database
from service.migrate import alembic_config, upgrade
from service.tables import Base


def test_the_migrations_build_exactly_the_schema_the_tables_map(backend: str | None, tmp_path: Path):
    db = Database(backend or f"sqlite:///{tmp_path / 'fresh.db'}")  # PostgreSQL's was migrated by the fixture
    upgrade(db)
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert differences == []


def test_a_database_decided_before_model_precision_keeps_its_rows_and_gains_the_column(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'older.db'}")
    with db.engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0003")
        connection.commit()
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sites (id, name, api_key_hash, api_key_prefix, policy, webhook_secret, created_at)"
                " VALUES (1, 'demo', 'h', 'cvl_', '{}', 's', '2026-11-01 00:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO comments (id, site_id, article_id, body, author_name, author_email, status,"
                " model_version, created_at, enqueued_at, enqueue_count)"
                " VALUES ('c1', 1, 'a-1', 'Thanks.', 'Ada', 'ada@example.org', 'approved', 'v19',"
                " '2026-11-01 00:00:00', '2026-11-01 00:00:00', 1)"
            )
        )
    assert upgrade(db)
    columns = inspect(db.engine)
    assert "model_precision" in {c["name"] for c in columns.get_columns("comments")}
    assert "model_precision" in {c["name"] for c in columns.get_columns("moderation_events")}
    with db.engine.connect() as connection:
        kept = connection.execute(text("SELECT status, model_version, model_precision FROM comments")).all()
    assert [tuple(row) for row in kept] == [("approved", "v19", None)]  # unknown, not guessed
    db.dispose()
