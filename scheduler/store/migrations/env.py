"""Alembic's environment for the ledger: always run from ``scheduler.store.migrate`` with a
connection already open (and, on PostgreSQL, holding the migration lock), never from a URL in
an ini file: the ledger's URL comes from the org file and the environment."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):  # pragma: no cover - a misuse, said plainly
    raise RuntimeError("run the ledger's migrations through scheduler.store.migrate.upgrade")

context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
