"""What every pass asks of tables that grow with history is found by index, not by reading the
table (issue 17): SQLite's query plans of the statements the ledger runs, caught as it runs
them. A scan of a year of notices, once for each message a pass sent, was 228 ms a message at
half a million notices."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from scheduler.store.ledger import Ledger, OccurrenceRecord

T0 = datetime(2027, 1, 11, 14, tzinfo=UTC)
PAIR = "marco@acme.example/ana@acme.example"


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        yield opened
    finally:
        opened.close()


def _plans(ledger: Ledger, run: Callable[[], None]) -> list[tuple[str, list[str]]]:
    """(statement, its plan's steps) of every statement ``run()`` sends."""
    sent: list[tuple[str, object]] = []

    def caught(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        sent.append((statement, params))

    event.listen(ledger.engine, "before_cursor_execute", caught)
    try:
        run()
    finally:
        event.remove(ledger.engine, "before_cursor_execute", caught)
    path = str(ledger.engine.url.database)
    with sqlite3.connect(path) as db:
        return [
            (statement, [row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + statement, params)])
            for statement, params in sent
            if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))
        ]


def test_sending_notices_reads_no_notice_it_does_not_send(ledger: Ledger) -> None:
    for week in range(1, 30):  # sent ones: what a year of prep notices leaves
        message = f"<prep-{week}@oneonone>"
        ledger.claim_notice("prep", PAIR, f"2027-W{week:02d}", ["ana@acme.example"], message, T0)
        ledger.mark_notice_sent(message, T0)
    ledger.claim_notice("prep", PAIR, "2027-W30", ["ana@acme.example"], "<new@oneonone>", T0)

    def send() -> None:
        for notice in ledger.unsent_notices():
            ledger.lease_notice(notice.message_id, T0, T0)
            ledger.notice_recipients(notice.message_id)
            ledger.mark_notice_sent(notice.message_id, T0)

    plans = _plans(ledger, send)
    assert len(plans) >= 4
    # Searches by index, and a scan of the unsent ones alone (a partial index).
    scans = [
        (statement, plan)
        for statement, plan in plans
        if any(step.startswith("SCAN notices") and "ix_notices_unsent" not in step for step in plan)
    ]
    assert scans == []
    assert ledger.unsent_notices() == []


def test_a_pass_reads_the_weeks_it_needs_by_index_not_a_year_of_them(ledger: Ledger) -> None:
    """The weeks of a pass's window (records, make-ups, notices decided), the settled weeks a
    series write reads by (pair, week), their documents, and the weeks a pass saves: each
    found by index. A row-value ``(pair, week) IN (...)`` read every week ever recorded, and
    so did ordering a window's weeks by pair (SQLite walked the primary key)."""
    pairs = [f"marco@acme.example/r{n}@acme.example" for n in range(3)]
    weeks = [f"2027-W{n:02d}" for n in range(1, 30)]
    start = datetime(2027, 1, 5, 15, tzinfo=UTC)
    ledger.save_occurrences(
        [
            OccurrenceRecord(pair, week, start, start, start, "planned", "held", "")
            for pair in pairs
            for week in weeks
        ],
        T0,
    )
    for week in weeks:
        ledger.claim_notice("prep", PAIR, week, ["ana@acme.example"], f"<{week}@x>", T0)
    saved = ledger.occurrences([pairs[0]])[pairs[0]]["2027-W29"]

    def window() -> None:
        ledger.occurrences(since="2027-W27")
        ledger.makeups(since="2027-W27")
        ledger.notice_keys(since="2027-W27", preps_since="2027-W28")
        ledger.occurrences_of({pair: ["2027-W03", "2027-W11"] for pair in pairs})
        ledger.occurrences_of({pairs[0]: ["2027-W03", "2027-W11", "2027-W19"]})
        ledger.agenda_links_of({pairs[0]: ["2027-W03"]}, {pairs[1]: ["2027-01-19"]})
        ledger.save_occurrences([replace(saved, reason="moved")], T0)

    plans = _plans(ledger, window)
    assert len(plans) >= 8
    scans = [
        (statement, plan)
        for statement, plan in plans
        if any(step.startswith("SCAN") for step in plan)
    ]
    assert scans == []
