"""A ledger written by the previous schema opens, gains the new columns and tables, and keeps
every row."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.store.ledger import SCHEMA_VERSION, Ledger, OccurrenceRecord

NY = ZoneInfo("America/New_York")
#: Tables schema 3 added (agenda documents and action items).
SCHEMA_3_TABLES = ("agenda_docs", "action_items")
#: What oneonone added with Alembic: a ledger written before it has none of these.
ALEMBIC_TABLES = (
    "alembic_version",
    "pass_lease",
    "pass_runs",
    "agenda_texts",
    "agenda_versions",
    "dashboard_tokens",
    "feed_versions",
    "feed_cache",
)
#: Columns Alembic revisions added to the tables schema 4 had.
ALEMBIC_COLUMNS = {"occurrences": ["changed_by"], "series": ["week_shift", "window"]}
#: Indexes Alembic revisions added to the tables schema 4 had.
ALEMBIC_INDEXES = (
    "ix_occurrences_week",
    "ix_makeups_week",
    "ix_agenda_docs_week",
    "ix_notices_unsent",
    "ix_notices_message_id",
    "ix_notices_week",
)
ADDED = {
    "series": ["seen_at", "person_slot"],
    "notices": ["channel", "raw", "lease_until"],
    "occurrences": ["away"],
}


def test_a_schema_1_ledger_is_upgraded_in_place_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    ledger = Ledger(f"sqlite:///{path}")
    start = datetime(2027, 1, 5, 10, tzinfo=NY)
    record = OccurrenceRecord(
        "m@x.example/r@x.example",
        "2027-W01",
        start,
        start,
        start + timedelta(minutes=30),
        "planned",
        "held",
        "",
    )
    ledger.save_occurrences([record], start)
    ledger.close()
    # Make it what schema 1 wrote: without the columns and the table schema 2 added.
    with sqlite3.connect(path) as db:
        for table, columns in ADDED.items():
            for column in columns:
                db.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')
        db.execute("DROP TABLE makeups")
        for table in SCHEMA_3_TABLES:
            db.execute(f"DROP TABLE {table}")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        for table in ALEMBIC_TABLES:
            db.execute(f"DROP TABLE {table}")
        for index in ALEMBIC_INDEXES:
            db.execute(f"DROP INDEX IF EXISTS {index}")
        for table, columns in ALEMBIC_COLUMNS.items():
            for column in columns:
                db.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')

    upgraded = Ledger(f"sqlite:///{path}")
    try:
        assert upgraded.get_state("schema_version") == SCHEMA_VERSION == "4"
        kept = upgraded.occurrences()["m@x.example/r@x.example"]["2027-W01"]
        assert kept.same_facts(record)
        assert upgraded.makeups() == {}
        assert upgraded.agenda_docs() == {} and upgraded.action_items() == {}
    finally:
        upgraded.close()
    with sqlite3.connect(path) as db:
        for table, columns in (*ADDED.items(), *ALEMBIC_COLUMNS.items()):
            present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            assert set(columns) <= present


def test_a_schema_2_ledger_gains_the_agenda_tables_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    ledger = Ledger(f"sqlite:///{path}")
    start = datetime(2027, 1, 5, 10, tzinfo=NY)
    record = OccurrenceRecord(
        "m@x.example/r@x.example",
        "2027-W01",
        start,
        start,
        start + timedelta(minutes=30),
        "planned",
        "upcoming",
        "",
        agenda="http://127.0.0.1:8321/agendas/t/m@x.example/r@x.example/2027-01-05",
    )
    ledger.save_occurrences([record], start)
    ledger.close()
    with sqlite3.connect(path) as db:
        for table in SCHEMA_3_TABLES:
            db.execute(f"DROP TABLE {table}")
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        for table in ALEMBIC_TABLES:
            db.execute(f"DROP TABLE {table}")
        for index in ALEMBIC_INDEXES:
            db.execute(f"DROP INDEX IF EXISTS {index}")
        for table, columns in ALEMBIC_COLUMNS.items():
            for column in columns:
                db.execute(f'ALTER TABLE {table} DROP COLUMN "{column}"')

    upgraded = Ledger(f"sqlite:///{path}")
    try:
        assert upgraded.get_state("schema_version") == SCHEMA_VERSION
        assert upgraded.occurrences()["m@x.example/r@x.example"]["2027-W01"].same_facts(record)
        assert upgraded.agenda_docs() == {} and upgraded.action_items() == {}
    finally:
        upgraded.close()
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert set(SCHEMA_3_TABLES) <= tables
