"""The ledger behaves the same on SQLite and on PostgreSQL: every test here runs on both
(``ledger_url``), PostgreSQL being a real server the tests start (``tests/pgserver.py``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from time import sleep
from zoneinfo import ZoneInfo

import pytest

from scheduler.store import ledger as ledger_module
from scheduler.store.ledger import (
    AgendaDocRecord,
    CopyRecord,
    Ledger,
    MakeupRecord,
    NoticeRecord,
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


def series_record() -> SeriesRecord:
    return SeriesRecord(
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


def test_series_and_makeups_round_trip_and_clear_pending(ledger: Ledger) -> None:
    series = series_record()
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


def test_a_passs_notices_are_claimed_together_and_one_decided_before_alone_is_refused(
    ledger: Ledger,
) -> None:
    """What a pass decides for every pair, recorded in a statement (issue 17): each message's
    rows all or none, and one decided before (even in the same batch) refused alone."""

    def message(week: str, message_id: str, *to: str) -> list[NoticeRecord]:
        return [
            NoticeRecord("prep", PAIR, week, person, T0, None, message_id, "email", "raw")
            for person in to
        ]

    first = message("2027-W02", "<p2@x>", "ana@acme.example", "marco@acme.example")
    assert ledger.claim_notices([first, message("2027-W03", "<p3@x>", "ana@acme.example")]) == [
        True,
        True,
    ]
    fourth = message("2027-W04", "<p4@x>", "ana@acme.example")
    with ledger.transaction():  # inside a pass's transaction, as a pass claims them
        assert ledger.claim_notices([first, fourth, fourth]) == [False, True, False]
    assert ledger.claim_notices([]) == []
    assert sorted((n.message_id, n.recipient) for n in ledger.notices()) == [
        ("<p2@x>", "ana@acme.example"),
        ("<p2@x>", "marco@acme.example"),
        ("<p3@x>", "ana@acme.example"),
        ("<p4@x>", "ana@acme.example"),
    ]


def test_a_message_is_kept_until_it_is_sent_and_then_only_its_record(ledger: Ledger) -> None:
    """A resend after a crash must be the same bytes, so a decided message keeps its text;
    once sent, the outbox or the mail server has it, and the ledger keeps who was told what
    and when (a year of message texts was most of the ledger, issue 17)."""
    to = ["ana@acme.example", "marco@acme.example"]
    ledger.claim_notice("prep", PAIR, "2027-W03", to, "<a@x>", T0, raw="the message a")
    ledger.claim_notice("prep", PAIR, "2027-W04", to, "<b@x>", T0, raw="the message b")
    ledger.mark_notice_sent("<a@x>", T0 + timedelta(minutes=1))
    found = {(n.message_id, n.recipient): n for n in ledger.notices()}
    assert {key: (n.raw, n.sent_at is not None) for key, n in found.items()} == {
        ("<a@x>", "ana@acme.example"): ("", True),
        ("<a@x>", "marco@acme.example"): ("", True),
        ("<b@x>", "ana@acme.example"): ("the message b", False),
        ("<b@x>", "marco@acme.example"): ("the message b", False),
    }
    assert [n.raw for n in ledger.unsent_notices()] == ["the message b"]


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
    # Read for its link only (a settled week's): all of it but its items and body.
    light = ledger.agenda_docs([PAIR], links_only=True)[PAIR]["2027-01-12"]
    assert light == replace(record, items=(), body=None)


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


def test_dashboard_tokens_rotate_and_are_revoked_whatever_the_case_of_their_scope(
    ledger: Ledger,
) -> None:
    # A digest's scope ends in its week ("2027-W02"); the ledger keeps scopes in lower case.
    scope = "digest:marco@acme.example:2027-W02"
    ledger.set_dashboard_token(scope, "a" * 64, T0)
    ledger.set_dashboard_token(scope, "b" * 64, T0 + timedelta(days=1))  # rotated
    found = ledger.dashboard_token(scope)
    assert found is not None and found[0] == "b" * 64 and found[2] is not None
    assert ledger.dashboard_token_scope("a" * 64) is None
    assert ledger.dashboard_token_scope("b" * 64) == (scope.lower(), "b" * 64)
    # A digest recorded before keeps its own address: the one just issued for it is revoked.
    ledger.delete_dashboard_token(scope)
    assert ledger.dashboard_token(scope) is None
    assert ledger.dashboard_token_scope("b" * 64) is None


def test_dashboard_tokens_under_a_prefix_are_revoked_and_no_other(ledger: Ledger) -> None:
    for n, scope in enumerate(("digest:a_b@x:2027-w01", "digest:a_b@x:2027-w02", "digest:aXb@x:w")):
        ledger.set_dashboard_token(scope, f"{n}" * 64, T0)
    ledger.set_dashboard_token("*", "9" * 64, T0)
    # "_" and "%" are letters here, not LIKE's wildcards.
    assert ledger.delete_dashboard_tokens_under("digest:a_b@x:") == 2
    assert ledger.delete_dashboard_tokens_under("digest:a%") == 0
    assert ledger.dashboard_token("digest:aXb@x:w") is not None
    assert ledger.dashboard_token("*") is not None


def test_agenda_texts_are_replaced_only_on_the_text_read_and_versions_count_up(
    ledger: Ledger,
) -> None:
    ref = "marco@acme.example/ana@acme.example/2027-01-12.md"
    assert ledger.create_agenda_text(ref, PAIR, "- [ ] first", T0)
    assert ledger.replace_agenda_text(ref, "- [ ] first", "- [x] first", T0)
    # A second editor who read the first text saves nothing over the first editor's save.
    assert not ledger.replace_agenda_text(ref, "- [ ] first", "- [ ] first\n- [ ] mine", T0)
    assert ledger.agenda_text(ref) == "- [x] first"
    assert ledger.add_agenda_version(ref, PAIR, "- [ ] first", "h1", "pass", T0) == 1
    assert ledger.add_agenda_version(ref, PAIR, "- [x] first", "h2", "page", T0) == 2
    assert [(v.version, v.text_hash, v.source) for v in ledger.agenda_versions(ref)] == [
        (1, "h1", "pass"),
        (2, "h2", "page"),
    ]
    assert ledger.agenda_version_text(ref, "h1") == "- [ ] first"
    assert ledger.agenda_version_text(ref, "nope") is None
    ledger.delete_agenda_text(ref)
    assert ledger.agenda_text(ref) is None


def test_copies_and_seen_series_and_decided_notices_round_trip(ledger: Ledger) -> None:
    copy = CopyRecord("uid-1", "ana@acme.example", PAIR, "v1", "f1", "b1", T0)
    ledger.save_copy(copy)
    ledger.save_copy(replace(copy, version="v2"))  # an upsert, never a duplicate key
    assert ledger.copies() == {("uid-1", "ana@acme.example"): replace(copy, version="v2")}
    ledger.save_series(series_record())
    ledger.mark_seen([PAIR], T0 + timedelta(hours=1))
    assert ledger.all_series()[PAIR].seen_at == T0 + timedelta(hours=1)
    ledger.claim_notice("nudge", PAIR, "2027-W02", ["ana@acme.example"], "<m2@x>", T0)
    assert ledger.notice_keys() == {("nudge", PAIR, "2027-W02")}


def test_series_and_copies_are_saved_in_bulk_new_and_known_alike(ledger: Ledger) -> None:
    """A pass saves every series and copy it wrote at once: rows already there are updated,
    new ones inserted, a key given twice keeps its last record."""
    known = series_record()
    ledger.save_series(known)
    other = replace(known, pair_key="marco@acme.example/liam@acme.example", uid="u-liam")
    ledger.save_series_many([replace(known, sequence=5, window="2027-W02 abc"), other])
    assert {key: (s.sequence, s.window) for key, s in ledger.all_series().items()} == {
        PAIR: (5, "2027-W02 abc"),
        other.pair_key: (known.sequence, None),
    }
    copy = CopyRecord("uid-1", "ana@acme.example", PAIR, "v1", "f1", "b1", T0)
    ledger.save_copy(copy)
    marco = replace(copy, owner="marco@acme.example")
    ledger.save_copies([replace(copy, version="v2"), marco, replace(marco, version="v3")])
    assert ledger.copies() == {
        ("uid-1", "ana@acme.example"): replace(copy, version="v2"),
        ("uid-1", "marco@acme.example"): replace(marco, version="v3"),
    }


@pytest.mark.postgres
@pytest.mark.parametrize("kind", ["feed", "dashboard"])
def test_two_replicas_issuing_the_first_token_of_one_key_at_once_both_succeed(
    postgres_url: str, kind: str
) -> None:
    """``oneonone feeds url ana`` (or ``dashboard url``) on two replicas at once: the second
    insert of the same key waits for the first to commit and then collides with it; it must
    become a rotation, not an ``IntegrityError`` traceback."""
    first, second = Ledger(postgres_url), Ledger(postgres_url)
    key = "ana@acme.example"

    def issue(ledger: Ledger, token_hash: str) -> None:
        if kind == "feed":
            ledger.set_feed_token(key, token_hash, T0)
        else:
            ledger.set_dashboard_token(key, token_hash, T0)

    errors: list[BaseException] = []

    def other() -> None:
        try:
            issue(second, "b" * 64)
        except BaseException as error:
            errors.append(error)

    try:
        racer = threading.Thread(target=other)
        with first.transaction():
            issue(first, "a" * 64)  # inserted, not yet committed
            racer.start()
            sleep(0.5)  # the other's insert now waits on this one's key
        racer.join(30)
        assert errors == []
        found = first.feed_token(key) if kind == "feed" else first.dashboard_token(key)
        assert found is not None and found[0] == "b" * 64 and found[2] is not None
    finally:
        first.close()
        second.close()


def test_what_a_windowed_pass_reads_of_settled_weeks(ledger: Ledger) -> None:
    """Statuses of a span of weeks, the few agenda documents of settled weeks a pass needs,
    copies without their baselines and then the baselines asked for, and prep notices of
    weeks ahead only (issue 17): alike on both engines."""
    weeks = [f"2027-W{n:02d}" for n in range(1, 9)]
    ledger.save_occurrences(
        [
            occurrence(week, T0 + timedelta(weeks=n), "declined" if n == 2 else "held")
            for n, week in enumerate(weeks)
        ],
        T0,
    )
    assert ledger.statuses(since="2027-W02", before="2027-W05") == {
        PAIR: {"2027-W02": "held", "2027-W03": "declined", "2027-W04": "held"}
    }

    def doc(week: str, day: str, kind: str, state: str, read: bool) -> AgendaDocRecord:
        return AgendaDocRecord(
            pair_key=PAIR,
            session_date=day,
            week=week,
            kind=kind,
            start=T0,
            end=T0 + timedelta(minutes=30),
            title="agenda",
            excerpt="",
            state=state,
            items=(),
            created_at=T0,
            read_at=T0 if read else None,
        )

    for record in [
        doc("2027-W01", "2027-01-05", "series", "closed", True),  # before the history line
        doc("2027-W02", "2027-01-12", "series", "closed", True),  # settled and closed
        doc("2027-W03", "2027-01-19", "makeup", "closed", True),  # a make-up's
        doc("2027-W04", "2027-01-26", "series", "closed", True),  # the last one read back
        doc("2027-W05", "2027-02-02", "series", "written", False),  # still open
        doc("2027-W07", "2027-02-16", "series", "pending", False),  # a record week
    ]:
        assert ledger.claim_agenda_doc(record)
    found = ledger.window_agenda_docs([PAIR], since="2027-W02", records_from="2027-W07")
    assert list(found[PAIR]) == ["2027-01-19", "2027-01-26", "2027-02-02", "2027-02-16"]

    copy = CopyRecord("uid-1", "ana@acme.example", PAIR, "v1", "f1", "a baseline", T0)
    ledger.save_copies([copy, replace(copy, owner="marco@acme.example", baseline="other")])
    light = ledger.copies(baselines=False)
    assert {key: one.baseline for key, one in light.items()} == {
        ("uid-1", "ana@acme.example"): "",
        ("uid-1", "marco@acme.example"): "",
    }
    assert ledger.copy_baselines([("uid-1", "ana@acme.example"), ("uid-2", "x")]) == {
        ("uid-1", "ana@acme.example"): "a baseline"
    }

    to = ["ana@acme.example"]
    ledger.claim_notice("prep", PAIR, "2027-W03", to, "<p3@x>", T0)
    ledger.claim_notice("prep", PAIR, "2027-W07", to, "<p7@x>", T0)
    ledger.claim_notice("nudge", PAIR, "2027-W03", to, "<n3@x>", T0)
    assert ledger.notice_keys(since="2027-W02", preps_since="2027-W07") == {
        ("prep", PAIR, "2027-W07"),
        ("nudge", PAIR, "2027-W03"),
    }

    # A write of a windowed pair's series: the settled weeks its series shows, and the
    # documents those weeks can link, by session date.
    some = ledger.occurrences_of({PAIR: ["2027-W04", "2027-W02"], "x/y": ["2027-W02"]})
    assert list(some[PAIR]) == ["2027-W02", "2027-W04"] and list(some) == [PAIR]
    assert some[PAIR]["2027-W04"] == ledger.occurrences([PAIR])[PAIR]["2027-W04"]
    linked = ledger.agenda_links_of(
        {PAIR: ["2027-W03", "2027-W06"]}, {PAIR: ["2027-02-02", "2027-03-01"]}
    )
    assert list(linked[PAIR]) == ["2027-01-19", "2027-02-02"]
    assert (
        linked[PAIR]["2027-02-02"]
        == ledger.agenda_docs([PAIR], links_only=True)[PAIR]["2027-02-02"]
    )


def test_weeks_read_by_key_are_exactly_those_asked(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``occurrences_of`` and the read before ``save_occurrences`` find exactly the (pair,
    week) keys asked, grouped by week or by pair, in chunks (``tests/unit/test_ledger_indexes``
    checks that SQLite finds them by index)."""
    monkeypatch.setattr(ledger_module, "_IN_CHUNK", 2)  # chunks of two keys
    pairs = [f"m@acme.example/r{n}@acme.example" for n in range(5)]
    weeks = [f"2027-W{n:02d}" for n in range(1, 9)]
    ledger.save_occurrences(
        [
            replace(occurrence(week, T0 + timedelta(weeks=n)), pair_key=pair)
            for pair in pairs
            for n, week in enumerate(weeks)
        ],
        T0,
    )
    # Many pairs, one week each (grouped by week), then one pair, many weeks.
    one_week = ledger.occurrences_of({pair: ["2027-W03"] for pair in pairs[:3]})
    many_weeks = ledger.occurrences_of({pairs[4]: ["2027-W02", "2027-W05", "2027-W09"]})
    changed = replace(ledger.occurrences([pairs[1]])[pairs[1]]["2027-W06"], reason="moved")
    saved = ledger.save_occurrences([changed], T0)
    assert {key: list(found) for key, found in one_week.items()} == {
        pair: ["2027-W03"] for pair in pairs[:3]
    }
    assert {key: list(found) for key, found in many_weeks.items()} == {
        pairs[4]: ["2027-W02", "2027-W05"]
    }
    assert saved == 1
    assert ledger.occurrences([pairs[1]])[pairs[1]]["2027-W06"].reason == "moved"
    # The weeks since a line, of every pair (read by the week index), still in order.
    window = ledger.occurrences(since="2027-W07")
    assert list(window) == sorted(pairs)
    assert [list(found) for found in window.values()] == [["2027-W07", "2027-W08"]] * 5


def test_rows_of_one_read_share_their_repeated_values(ledger: Ledger) -> None:
    """Thousands of rows of a pass repeat the same pair keys, weeks, statuses and moments;
    the records made from one read share one object for each (issue 17: memory at 10,000
    pairs), on both engines, and still compare and convert as before."""
    other = "marco@acme.example/bo@acme.example"
    weeks = [f"2027-W{n:02d}" for n in range(1, 4)]
    same_time = T0  # every pair's week at one time: the moments repeat across pairs
    records = [
        OccurrenceRecord(
            key,
            week,
            same_time,
            same_time,
            same_time + timedelta(minutes=30),
            "planned",
            "held",
            "",
        )
        for key in (PAIR, other)
        for week in weeks
    ]
    ledger.save_occurrences(records, T0)
    found = ledger.occurrences()
    read = [found[key][week] for key in (PAIR, other) for week in weeks]
    assert [one.same_facts(record) for one, record in zip(read, records, strict=True)] == [True] * 6
    first, *rest = read
    for one in rest:
        assert one.updated_at is first.updated_at
        assert one.regular_start is first.regular_start
        assert one.status is first.status
        assert one.plan_status is first.plan_status
    assert found[PAIR]["2027-W02"].week is found[other]["2027-W02"].week
    assert found[PAIR]["2027-W01"].pair_key is found[PAIR]["2027-W03"].pair_key
    statuses = ledger.statuses(since="2027-W01", before="2027-W04")
    assert statuses[PAIR]["2027-W01"] is statuses[other]["2027-W03"]

    copy = CopyRecord("uid-1", "ana@acme.example", PAIR, "v1", "f1", "", T0)
    ledger.save_copies([copy, replace(copy, owner="marco@acme.example")])
    copies = list(ledger.copies(baselines=False).values())
    assert copies[0].uid is copies[1].uid
    assert copies[0].written_at is copies[1].written_at
