"""Creating and upgrading the ledger's schema with Alembic, safely while other replicas run.

I/O: the database. ``upgrade(engine)`` brings the ledger to the newest revision of
``scheduler/store/migrations`` (revision 0001 is the ledger oneonone wrote before Alembic,
schemas 1 to 4; each later one adds). Every process that opens a ledger calls it; what makes
that safe with several replicas starting at once:

- a ledger already at the newest revision costs one read and takes no lock;
- otherwise one migrator at a time: on PostgreSQL a transaction-scoped advisory lock
  (``pg_advisory_xact_lock``) taken before anything is read, with the whole upgrade in that same
  transaction (PostgreSQL's DDL is transactional), so the others wait, then find the work done
  and do nothing; on a SQLite file an ``flock`` on the database file (SQLite itself locks with
  ``fcntl`` record locks, which an ``flock`` does not touch);
- a ledger written by a newer oneonone (a revision this one does not know, or a pre-Alembic
  ``schema_version`` above 4) is refused with a sentence, never "downgraded".

Exports: upgrade, HEAD, current_revision.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

from scheduler.errors import UserError
from scheduler.store.database import safe_url

__all__ = ["HEAD", "current_revision", "upgrade"]

_SCRIPTS = Path(__file__).resolve().parent / "migrations"
#: ``meta.schema_version`` of every ledger since Alembic (the last hand-written schema).
LEGACY_SCHEMA_VERSION = "4"
#: The pre-Alembic schema versions revision 0001 takes over.
_LEGACY_VERSIONS = frozenset({"1", "2", "3", "4"})
#: The advisory lock's key: any 64-bit number no other application on the database uses;
#: this one is "oneonone" in ASCII, read as an integer.
MIGRATION_LOCK = 0x6F6E656F6E6F6E65


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


@cache
def _script() -> ScriptDirectory:
    """The revisions (read once per process: every ledger opened asks)."""
    return ScriptDirectory.from_config(_config())


HEAD: str = _script().get_current_head() or ""


def current_revision(conn: Connection) -> str | None:
    """The ledger's Alembic revision, or ``None`` for an empty or pre-Alembic database."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, schema: MetaData | None = None) -> None:
    """Bring the ledger at ``engine`` to ``HEAD`` (see the module docstring).

    ``schema`` is the newest schema as the code declares it (``scheduler.store.ledger``'s
    tables, which a test holds equal to what the revisions make): an empty database is
    created from it in one go and stamped ``HEAD``, as Alembic's documentation advises,
    instead of replaying every revision; any other is upgraded revision by revision.
    """
    with engine.connect() as conn:
        if _known(conn, engine) == HEAD:
            return
    with _migration_lock(engine) as conn:
        # Read again under the lock: another replica may have done it meanwhile.
        if _known(conn, engine) == HEAD:
            return
        config = _config()
        config.attributes["connection"] = conn
        if schema is not None and not inspect(conn).get_table_names():
            schema.create_all(conn)
            conn.execute(
                text("INSERT INTO meta (key, value) VALUES ('schema_version', :version)"),
                {"version": LEGACY_SCHEMA_VERSION},
            )
            command.stamp(config, "head")
            return
        command.upgrade(config, "head")


def _known(conn: Connection, engine: Engine) -> str | None:
    """The current revision, after refusing a ledger that a newer oneonone wrote."""
    revision = current_revision(conn)
    where = safe_url(engine.url.render_as_string(hide_password=False))
    if revision is not None:
        try:
            _script().get_revision(revision)
        except Exception as error:
            raise UserError(
                f"the ledger at {where} was upgraded by a newer oneonone (schema revision "
                f"{revision}); this one reads revision {HEAD}: upgrade oneonone"
            ) from error
        return revision
    if "meta" in inspect(conn).get_table_names():
        found = conn.execute(
            text("SELECT value FROM meta WHERE key = 'schema_version'")
        ).scalar_one_or_none()
        if found is not None and found not in _LEGACY_VERSIONS:
            raise UserError(
                f"the ledger at {where} has schema version {found}, this version of oneonone "
                f"reads version 4 and Alembic revision {HEAD}: upgrade oneonone"
            )
    return None


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that only one process at a time gets."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            yield conn
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        with engine.begin() as conn:
            _transactional_ddl(conn)
            yield conn
        return
    fd = os.open(database, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with engine.begin() as conn:
            _transactional_ddl(conn)
            yield conn
    finally:
        os.close(fd)  # closing drops the flock


def _transactional_ddl(conn: Connection) -> None:
    """Open the SQLite transaction now, so the whole upgrade commits or none of it does.

    Python's sqlite3 opens a transaction only before a data change: CREATE TABLE and ALTER
    TABLE ran outside one and committed each on its own, so a process killed while creating a
    new ledger left some tables and the next start failed ("table pass_lease already exists").
    SQLite's DDL is transactional once inside an explicit BEGIN, which the commit at the end of
    ``engine.begin()`` ends (or its rollback undoes)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
