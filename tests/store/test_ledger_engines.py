"""The ledger behaves the same on SQLite and on PostgreSQL: every test here runs on both
(``ledger_url``), PostgreSQL being a real server the tests start (``tests/pgserver.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.store.ledger import (
    AgendaDocRecord,
    Ledger,
    MakeupRecord,
    OccurrenceRecord,
    SeriesRecord,
)

NY = ZoneInfo("America/New_York")
PAIR = "marco@acme.example/ana@acme.example"
T0 = datetime(2027, 1, 12, 10, tzinfo=NY)


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    opened = Ledger(ledger_url)
    try:
        yield opened
    finally:
        opened.close()


def occurrence(week: str, start: datetime, status: str = "upcoming") -> OccurrenceRecord:
    return OccurrenceRecord(
        PAIR, week, start, start, start + timedelta(minutes=30), "planned", status, ""
    )


def test_times_come_back_with_their_zone_and_offset(ledger: Ledger) -> None:
    ledger.upsert_pair("marco@acme.example", "ana@acme.example", "vera@acme.example", T0)
    record = occurrence("2027-W02", T0)
    assert ledger.save_occurrences([record], T0) == 1
    assert ledger.save_occurrences([record], T0) == 0  # the same facts change nothing
    kept = ledger.occurrences()[PAIR]["2027-W02"]
    assert kept.same_facts(record)
    assert kept.planned_start.utcoffset() == timedelta(hours=-5)
    assert [p.key for p in ledger.pairs(active_only=True)] == [PAIR]
    ledger.end_pair(PAIR, T0)
    assert ledger.pairs(active_only=True) == []
    changed = occurrence("2027-W02", T0, status="held")
    ledger.save_occurrences([changed], T0 + timedelta(days=1))
    assert [status for _, status, _, _ in ledger.history(PAIR, "2027-W02")] == [
        "upcoming",
        "held",
    ]


def test_series_and_makeups_round_trip_and_clear_pending(ledger: Ledger) -> None:
    series = SeriesRecord(
        pair_key=PAIR,
        uid="uid-1",
        organizer="marco@acme.example",
        dtstart=T0,
        weekday=1,
        at_time=time(10, 0),
        timezone="America/New_York",
        duration=timedelta(minutes=30),
        until=None,
        sequence=0,
        fingerprint="f1",
        dtstamp=T0,
        created_at=T0,
        updated_at=T0,
        pending=True,
    )
    ledger.save_series(series)
    ledger.save_series(series)  # an upsert, never a duplicate key
    ledger.clear_pending([PAIR])
    assert not ledger.all_series()[PAIR].pending
    assert [s.pair_key for s in ledger.feed_series("ana@acme.example")] == [PAIR]
    assert ledger.feed_series("ana_acme.example") == []  # "_" is no wildcard
    makeup = MakeupRecord(
        PAIR, "2027-W02", "mk-1", T0, T0 + timedelta(minutes=30), "booked", "", True, "m1", T0, T0
    )
    ledger.save_makeup(makeup)
    ledger.clear_makeup_pending([(PAIR, "2027-W02")])
    assert not ledger.makeups()[PAIR]["2027-W02"].pending


def test_a_notice_is_claimed_once_and_leased_by_one_sender(ledger: Ledger) -> None:
    to = ["ana@acme.example", "marco@acme.example"]
    assert ledger.claim_notice("nudge", PAIR, "2027-W02", to, "<m1@x>", T0, raw="message")
    # A second pass or replica deciding the same notice records nothing, and no error.
    assert not ledger.claim_notice("nudge", PAIR, "2027-W02", to, "<m1@x>", T0, raw="message")
    with ledger.transaction():  # inside a pass's transaction, too
        assert not ledger.claim_notice("nudge", PAIR, "2027-W02", to, "<m1@x>", T0)
        ledger.set_state("after", "the transaction goes on")
    assert ledger.get_state("after") == "the transaction goes on"
    assert [n.message_id for n in ledger.unsent_notices()] == ["<m1@x>"]
    wall = datetime.now(UTC)
    assert ledger.lease_notice("<m1@x>", wall, wall + timedelta(minutes=2))
    assert not ledger.lease_notice("<m1@x>", wall, wall + timedelta(minutes=2))
    ledger.mark_notice_sent("<m1@x>", T0)
    assert ledger.unsent_notices() == []
    assert ledger.notice_recipients("<m1@x>") == to


def test_an_agenda_document_is_claimed_once(ledger: Ledger) -> None:
    record = AgendaDocRecord(
        pair_key=PAIR,
        session_date="2027-01-12",
        week="2027-W02",
        kind="series",
        start=T0,
        end=T0 + timedelta(minutes=30),
        title="agenda",
        excerpt="",
        state="pending",
        items=(("2027-01-05#01", "send the deck"),),
        created_at=T0,
        body="# agenda\n",
    )
    assert ledger.claim_agenda_doc(record)
    assert not ledger.claim_agenda_doc(record)
    assert ledger.agenda_docs()[PAIR]["2027-01-12"].items == record.items


def test_agenda_texts_are_kept_once_and_never_replaced(ledger: Ledger) -> None:
    ref = "marco@acme.example/ana@acme.example/2027-01-12.md"
    assert ledger.agenda_text(ref) is None
    assert ledger.create_agenda_text(ref, PAIR, "- [ ] first", T0)
    assert not ledger.create_agenda_text(ref, PAIR, "- [ ] second", T0)
    assert ledger.agenda_text(ref) == "- [ ] first"


def test_feed_tokens_rotate(ledger: Ledger) -> None:
    ledger.set_feed_token("Ana@acme.example", "a" * 64, T0)
    ledger.set_feed_token("ana@acme.example", "b" * 64, T0 + timedelta(days=1))
    found = ledger.feed_token("ana@acme.example")
    assert found is not None and found[0] == "b" * 64 and found[2] is not None
    assert ledger.feed_token_email("a" * 64) is None
    assert ledger.feed_token_email("b" * 64) == ("ana@acme.example", "b" * 64)


def test_passes_are_recorded_and_an_unfinished_one_is_named(ledger: Ledger) -> None:
    wall = datetime.now(UTC)
    first, unfinished = ledger.begin_pass("replica-a", 1, T0, wall)
    assert unfinished is None
    # replica-a dies here; replica-b's pass names the one it finishes.
    second, unfinished = ledger.begin_pass("replica-b", 2, T0, wall)
    assert unfinished is not None and unfinished.id == first
    ledger.end_pass(second, "ok", wall)
    last, before = ledger.pass_runs(2)
    assert (last.id, last.replica, last.result, last.resumes) == (second, "replica-b", "ok", first)
    assert (before.result, before.finished_at) == ("abandoned", None)
    assert ledger.shared == ledger_engine_is_shared(ledger)


def ledger_engine_is_shared(ledger: Ledger) -> bool:
    return ledger.engine.dialect.name == "postgresql"
