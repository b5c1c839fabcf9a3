"""Alembic environment: the connection comes from `service.migrate`, the metadata from `service.tables`."""

from alembic import context

from service.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `civility migrate`")
# SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
