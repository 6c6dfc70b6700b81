"""A ledger written by the previous schema opens, gains the new columns and tables, and keeps
every row."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.store.ledger import Ledger, OccurrenceRecord

NY = ZoneInfo("America/New_York")
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
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")

    upgraded = Ledger(f"sqlite:///{path}")
    try:
        assert upgraded.get_state("schema_version") == "2"
        kept = upgraded.occurrences()["m@x.example/r@x.example"]["2027-W01"]
        assert kept.same_facts(record)
        assert upgraded.makeups() == {}
    finally:
        upgraded.close()
    with sqlite3.connect(path) as db:
        for table, columns in ADDED.items():
            present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            assert set(columns) <= present
