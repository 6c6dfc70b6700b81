"""The ledger's schema under Alembic: today's SQLite ledgers upgrade in place, the tables the code
uses are exactly what the migrations make, a newer ledger is refused, replicas starting at
once on an empty database all come up, and a database URL is read as an admin writes it."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from scheduler.errors import UserError
from scheduler.store import migrations
from scheduler.store.database import engine_for
from scheduler.store.ledger import Ledger, metadata
from scheduler.store.migrate import HEAD, current_revision, upgrade

DUMP = Path(__file__).resolve().parents[1] / "data" / "ledgers" / "schema4-example-org.sql"
PAIR = "marco@acme.example/ana@acme.example"


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_a_schema_4_sqlite_ledger_of_todays_oneonone_is_upgraded_and_keeps_every_row(
    tmp_path: Path,
) -> None:
    # The dump is a ledger the code before Alembic wrote: two passes over the example org.
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.executescript(DUMP.read_text())
    before = _counts(path)
    assert "alembic_version" not in before and before["occurrences"] > 0

    ledger = Ledger(f"sqlite:///{path}")
    try:
        assert ledger.get_state("schema_version") == "4"
        assert len(ledger.occurrences()[PAIR]) > 0
        assert len(ledger.notices()) == before["notices"]
        assert ledger.pass_runs() == []
    finally:
        ledger.close()
    after = _counts(path)
    assert {t: n for t, n in after.items() if t in before} == before
    assert {"alembic_version", "pass_lease", "pass_runs", "agenda_texts"} <= set(after)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        # Revision 0009: the text of messages already sent is let go, nothing else of them.
        texts = db.execute("SELECT sent_at IS NOT NULL, raw IS NOT NULL FROM notices").fetchall()
        assert texts and all(kept == (not sent) for sent, kept in texts)
    # Opening it again is a single read: nothing to do.
    Ledger(f"sqlite:///{path}").close()


def test_the_tables_the_code_uses_are_exactly_what_the_migrations_make(ledger_url: str) -> None:
    """A new ledger is made from the code's tables and stamped; an old one is upgraded by the
    revisions: both must give the same schema."""
    engine = engine_for(ledger_url)
    try:
        upgrade(engine)  # every revision, one after the other, from an empty database
        with engine.connect() as conn:
            assert current_revision(conn) == HEAD
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            differences = [
                diff
                for diff in compare_metadata(context, metadata)
                # SQLite reports its own unnamed unique constraints differently; columns,
                # tables and nullability are what matter here.
                if not (isinstance(diff, tuple) and diff[0] in ("add_constraint", "remove_index"))
            ]
        assert differences == []
    finally:
        engine.dispose()


def test_a_ledger_from_a_newer_oneonone_is_refused_with_a_sentence(ledger_url: str) -> None:
    Ledger(ledger_url).close()
    engine = create_engine(ledger_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(UserError, match="newer oneonone"):
        Ledger(ledger_url)


def test_a_pre_alembic_ledger_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key VARCHAR(200) PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '5')")
    with pytest.raises(UserError, match="schema version 5"):
        Ledger(f"sqlite:///{path}")


@pytest.mark.postgres
def test_replicas_starting_at_once_on_an_empty_database_all_come_up(postgres_url: str) -> None:
    """One migrator under the advisory lock, the others wait and find the work done: no
    "relation already exists", no duplicate key, one revision row."""
    count = 6
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait()
            ledger = Ledger(postgres_url)
            ledger.set_state("started", "yes")
            ledger.close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            version = conn.execute(
                text("SELECT value FROM meta WHERE key = 'schema_version'")
            ).all()
        assert rows == [(HEAD,)] and version == [("4",)]
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgresql://", "postgresql+psycopg://", "postgres://"])
def test_both_postgresql_url_forms_open_the_ledger(postgres_url: str, scheme: str) -> None:
    url = scheme + postgres_url.removeprefix("postgresql://")
    ledger = Ledger(url)
    try:
        assert ledger.shared and ledger.engine.driver == "psycopg"
    finally:
        ledger.close()


def test_a_url_whose_driver_is_missing_is_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    # As if `pip install 'oneonone[postgres]'` had not been run.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(UserError) as caught:
        Ledger("postgresql://oneonone:secret@127.0.0.1:1/ledger")
    message = str(caught.value)
    assert "pip install 'oneonone[postgres]'" in message
    assert "secret" not in message and "Traceback" not in message


def test_a_url_that_is_no_url_is_a_sentence() -> None:
    with pytest.raises(UserError, match="not a database URL"):
        Ledger("not a url")


@pytest.mark.postgres
def test_a_postgresql_ledger_made_before_alembic_is_taken_over(postgres_url: str) -> None:
    """A PostgreSQL ledger the code before Alembic made (its tables, ``schema_version`` 4, no
    ``alembic_version``) keeps its rows and gains the replica tables."""
    spec = importlib.util.spec_from_file_location(
        "revision_0001",
        Path(migrations.__file__).parent / "versions" / "0001_ledger_schema_4.py",
    )
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    engine = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        revision._schema.create_all(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO meta VALUES ('schema_version', '4')"))
            conn.execute(text("INSERT INTO meta VALUES ('agenda_secret', 'kept')"))
    finally:
        engine.dispose()
    ledger = Ledger(postgres_url)
    try:
        assert ledger.get_state("agenda_secret") == "kept"
        assert ledger.pass_runs() == [] and ledger.agenda_text("x") is None
    finally:
        ledger.close()


def test_a_sqlite_ledger_whose_creation_dies_half_way_opens_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process killed while creating a ledger left some tables behind (each CREATE TABLE
    committed on its own) and every later start failed ("table pass_lease already exists").
    The whole creation or upgrade is one transaction now: it happened, or nothing did."""
    path = tmp_path / "state.db"
    url = f"sqlite:///{path}"

    def die(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("killed")

    # The tables are made; the process dies before the ledger is stamped with its revision.
    monkeypatch.setattr("scheduler.store.migrate.command.stamp", die)
    with pytest.raises(RuntimeError, match="killed"):
        upgrade(engine_for(url), metadata)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []
    monkeypatch.undo()
    ledger = Ledger(url)
    try:
        with ledger.engine.connect() as conn:
            assert current_revision(conn) == HEAD
    finally:
        ledger.close()
