"""The pure part of agendas in the pass: which sessions are due a document, what reading one back
does to the ledger's action items, how documents are linked from events; and the ledger's
agenda and item tables."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler import ical
from scheduler.agenda.plan import (
    AgendaLink,
    Session,
    attach_series,
    attach_single,
    doc_for,
    excerpt,
    fold_read,
    new_item_id,
    ordered_open_items,
    plan_agendas,
    sessions,
)
from scheduler.agenda.store import AgendaKey, DatabaseAgendaStore, MarkdownFolderStore
from scheduler.domain.series import SeriesSpec, utc
from scheduler.store.ledger import (
    ActionItemRecord,
    AgendaDocRecord,
    Ledger,
    MakeupRecord,
    OccurrenceRecord,
)

NY = ZoneInfo("America/New_York")
PAIR = "marco@acme.example/ana@acme.example"
T0 = datetime(2027, 1, 12, 10, tzinfo=NY)  # Tue of 2027-W02
NOW = datetime(2027, 1, 12, 12, tzinfo=NY)
LEAD = timedelta(hours=72)


def record(week: str, start: datetime, **changes: object) -> OccurrenceRecord:
    base = OccurrenceRecord(
        PAIR, week, start, start, start + timedelta(minutes=30), "planned", "upcoming", ""
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def doc(day: str, items: list[tuple[str, str]], **changes: object) -> AgendaDocRecord:
    start = datetime.fromisoformat(f"{day}T10:00:00-05:00")
    base = AgendaDocRecord(
        pair_key=PAIR,
        session_date=day,
        week="2027-W02",
        kind="series",
        start=start,
        end=start + timedelta(minutes=30),
        title="1:1 Marco / Ana: agenda",
        excerpt="",
        state="written",
        items=tuple(items),
        created_at=start - LEAD,
        ref=f"marco/ana/{day}.md",
        url=f"https://x.example/agendas/t/{day}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def item(item_id: str, text: str, state: str = "open", **changes: object) -> ActionItemRecord:
    from scheduler.agenda.items import normalise

    base = ActionItemRecord(
        pair_key=PAIR,
        id=item_id,
        text=text,
        key=normalise(text),
        state=state,
        first_agenda=item_id.partition("#")[0],
        last_agenda=item_id.partition("#")[0],
        created_at=T0,
        updated_at=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def agenda(*lines: str) -> str:
    return "# 1:1\n\n## Wins\n\n- [ ] not an action item\n\n## Action items\n\n" + "\n".join(
        [*lines, "- [ ] "]
    )


# --------------------------------------------------------------------------- sessions and plan


def test_sessions_are_the_weeks_that_happen_at_their_time_and_the_booked_make_ups() -> None:
    moved_start = datetime(2027, 1, 20, 14, tzinfo=NY)
    records = {
        "2027-W02": record("2027-W02", T0),
        "2027-W03": record(
            "2027-W03",
            T0 + timedelta(weeks=1),
            change="moved",
            people_changed=True,
            actual_start=moved_start,
            actual_end=moved_start + timedelta(minutes=30),
        ),
        "2027-W04": record(
            "2027-W04", T0 + timedelta(weeks=2), plan_status="close_week", status="close_week"
        ),
        "2027-W05": record("2027-W05", T0 + timedelta(weeks=3), away=True),
        "2027-W06": record(
            "2027-W06", T0 + timedelta(weeks=4), change="cancelled", people_changed=True
        ),
        "2027-W07": record(
            "2027-W07", T0 + timedelta(weeks=5), change="declined", people_changed=True
        ),
    }
    makeup_start = datetime(2027, 2, 11, 15, tzinfo=NY)
    makeups = {
        "2027-W06": MakeupRecord(
            PAIR,
            "2027-W06",
            "oneonone-makeup-x",
            makeup_start,
            makeup_start + timedelta(minutes=30),
            "booked",
            "",
            False,
            "",
            T0,
            T0,
        ),
        "2027-W07": MakeupRecord(
            PAIR,
            "2027-W07",
            "oneonone-makeup-y",
            makeup_start + timedelta(weeks=1),
            makeup_start + timedelta(weeks=1, minutes=30),
            "declined",
            "",
            False,
            "",
            T0,
            T0,
        ),
    }
    found = sessions(PAIR, records, makeups, NY)
    assert [(s.week, s.kind, s.day) for s in found] == [
        ("2027-W02", "series", "2027-01-12"),
        ("2027-W03", "series", "2027-01-20"),  # where people moved it
        ("2027-W06", "makeup", "2027-02-11"),  # its own day
    ]


def _session(day: str, week: str = "2027-W02", kind: str = "series") -> Session:
    start = datetime.fromisoformat(f"{day}T10:00:00-05:00")
    return Session(PAIR, week, kind, start, start + timedelta(minutes=30), day)


@pytest.mark.parametrize(
    ("hours_before", "due"),
    [(73, False), (72, True), (1, True), (0, False), (-1, False)],
)
def test_a_session_is_due_from_the_lead_time_until_it_starts(hours_before: int, due: bool) -> None:
    session = _session("2027-01-12")
    plan = plan_agendas([session], {}, session.start - timedelta(hours=hours_before), LEAD)
    assert plan.due == ((session,) if due else ())


def test_a_lead_of_zero_writes_no_agendas() -> None:
    session = _session("2027-01-12")
    assert plan_agendas([session], {}, session.start - timedelta(hours=1), timedelta(0)).due == ()


def test_a_session_never_gets_a_second_document_even_when_moved_to_another_day() -> None:
    written = doc("2027-01-12", [])
    moved = _session("2027-01-13")  # the same week's instance, moved after its agenda was written
    plan = plan_agendas([moved], {"2027-01-12": written}, moved.start - timedelta(hours=2), LEAD)
    assert plan.due == ()
    assert doc_for(moved, {"2027-01-12": written}) == written


def test_a_make_up_on_the_day_of_an_agenda_shares_it_and_one_on_another_day_gets_its_own() -> None:
    original = doc("2027-01-12", [])
    same_day = _session("2027-01-12", kind="makeup")
    assert doc_for(same_day, {"2027-01-12": original}) == original
    later = _session("2027-01-14", kind="makeup")
    plan = plan_agendas([later], {"2027-01-12": original}, later.start - timedelta(hours=5), LEAD)
    assert plan.due == (later,)


def test_documents_are_read_when_their_session_ended_and_a_last_time_before_the_next() -> None:
    first = _session("2027-01-12")
    second = _session("2027-01-19", week="2027-W03")
    written = doc("2027-01-12", [])
    docs = {"2027-01-12": written}
    before_end = plan_agendas([first, second], docs, first.start + timedelta(minutes=10), LEAD)
    assert before_end.read == ()
    after_end = plan_agendas([first, second], docs, first.end, LEAD)
    assert after_end.read == (written,) and after_end.closing == frozenset()
    read = {"2027-01-12": replace(written, state="read", read_at=first.end)}
    quiet = plan_agendas([first, second], read, first.end + timedelta(days=1), LEAD)
    assert quiet.read == ()
    next_due = plan_agendas([first, second], read, second.start - LEAD, LEAD)
    assert next_due.due == (second,)
    assert [d.session_date for d in next_due.read] == ["2027-01-12"]
    assert next_due.closing == {"2027-01-12"}
    closed = {"2027-01-12": replace(written, state="closed")}
    assert plan_agendas([first, second], closed, second.start - LEAD, LEAD).read == ()


def test_a_pending_document_is_recovered() -> None:
    pending = doc("2027-01-12", [], state="pending", url=None, ref=None, body="# agenda\n")
    plan = plan_agendas([], {"2027-01-12": pending}, NOW, LEAD)
    assert plan.recover == (pending,)


# --------------------------------------------------------------------------- reading back


def test_ticked_items_are_done_unticked_carry_with_their_new_words_new_ones_are_added() -> None:
    items = {
        "2027-01-05#01": item("2027-01-05#01", "Send the Globex proposal"),
        "2027-01-05#02": item("2027-01-05#02", "Book a demo with Initech"),
        "2027-01-05#03": item("2027-01-05#03", "Call Hooli"),
    }
    written = doc(
        "2027-01-12",
        [
            ("2027-01-05#01", "Send the Globex proposal"),
            ("2027-01-05#02", "Book a demo with Initech"),
            ("2027-01-05#03", "Call Hooli"),
        ],
    )
    text = agenda(
        "- [ ] Book the Initech demo for March",  # reworded and moved up
        "- [x] send the Globex proposal!",  # ticked (case and punctuation changed)
        "- [ ] Prepare the QBR deck",  # added
        "- [x] Update the CRM",  # added, done already
    )  # "Call Hooli" deleted: dropped
    result = fold_read(written, items, text, NOW)
    assert not result.wiped and not result.gone
    changed = {i.id: i for i in result.changed}
    assert changed["2027-01-05#01"].state == "done"
    assert changed["2027-01-05#01"].done_at == NOW
    assert changed["2027-01-05#02"].state == "open"
    assert changed["2027-01-05#02"].text == "Book the Initech demo for March"
    assert [e[1] for e in changed["2027-01-05#02"].history] == ["reworded"]
    assert changed["2027-01-05#03"].state == "dropped"
    assert changed["2027-01-12#01"].text == "Prepare the QBR deck"
    assert changed["2027-01-12#01"].state == "open"
    assert changed["2027-01-12#02"].state == "done"
    assert all(i.last_agenda == "2027-01-12" for k, i in changed.items() if k != "2027-01-05#03")
    # The document now lists what people left, in their order; the deleted line is kept last
    # so that it is matched again if it comes back.
    assert [i for i, _ in result.doc.items] == [
        "2027-01-05#02",
        "2027-01-05#01",
        "2027-01-12#01",
        "2027-01-12#02",
        "2027-01-05#03",
    ]
    assert result.doc.state == "read" and result.doc.read_at == NOW
    merged = {**items, **changed}
    docs = {"2027-01-12": result.doc}
    assert [i.text for i in ordered_open_items(merged, docs)] == [
        "Book the Initech demo for March",
        "Prepare the QBR deck",
    ]


def test_reading_the_same_document_again_changes_nothing_and_undo_in_it_is_honoured() -> None:
    items = {"2027-01-05#01": item("2027-01-05#01", "Send the Globex proposal")}
    written = doc("2027-01-12", [("2027-01-05#01", "Send the Globex proposal")])
    text = agenda("- [x] Send the Globex proposal", "- [ ] Call Hooli")
    first = fold_read(written, items, text, NOW)
    after = {**items, **{i.id: i for i in first.changed}}
    again = fold_read(first.doc, after, text, NOW + timedelta(hours=1), closing=True)
    assert again.changed == ()
    assert again.doc.state == "closed"
    # Unticked in the same document: the tick was a mistake.
    undone = fold_read(
        first.doc, after, agenda("- [ ] Send the Globex proposal", "- [ ] Call Hooli"), NOW
    )
    assert {i.id: i.state for i in undone.changed} == {"2027-01-05#01": "open"}


def test_an_older_document_never_undoes_what_a_newer_one_decided() -> None:
    done_later = item(
        "2027-01-05#01",
        "Send the Globex proposal",
        "done",
        decided_in="2027-01-14",
        done_at=NOW,
        last_agenda="2027-01-14",
    )
    older = doc("2027-01-12", [("2027-01-05#01", "Send the Globex proposal")])
    result = fold_read(
        older, {done_later.id: done_later}, agenda("- [ ] Send the Globex proposal"), NOW
    )
    assert result.changed == ()


def test_a_line_copied_from_another_agenda_is_the_same_item_not_a_new_one() -> None:
    items = {"2027-01-05#01": item("2027-01-05#01", "Send the Globex proposal")}
    makeup_doc = doc("2027-01-14", [], kind="makeup")  # written before the item existed
    result = fold_read(makeup_doc, items, agenda("- [x] Send the Globex proposal"), NOW)
    assert [(i.id, i.state) for i in result.changed] == [("2027-01-05#01", "done")]


@pytest.mark.parametrize(
    "text",
    [
        "# 1:1\n\n## Action items\n\n",  # every checkbox removed
        "",  # an empty file
        None,  # the document was deleted
    ],
)
def test_an_emptied_or_deleted_agenda_keeps_every_item_open(text: str | None) -> None:
    items = {
        "2027-01-05#01": item("2027-01-05#01", "Send the Globex proposal"),
        "2027-01-05#02": item("2027-01-05#02", "Book a demo with Initech"),
    }
    written = doc("2027-01-12", [(k, i.text) for k, i in items.items()])
    result = fold_read(written, items, text, NOW)
    assert result.changed == ()
    assert result.wiped or result.gone
    assert [i.text for i in ordered_open_items(items, {"2027-01-12": result.doc})] == [
        "Send the Globex proposal",
        "Book a demo with Initech",
    ]


def test_item_ids_count_up_per_agenda() -> None:
    assert new_item_id("2027-01-12", []) == "2027-01-12#01"
    assert new_item_id("2027-01-12", ["2027-01-12#01", "2027-01-05#07"]) == "2027-01-12#02"


# --------------------------------------------------------------------------- linking


def _spec() -> SeriesSpec:
    return SeriesSpec(
        uid="oneonone-test",
        pair_key=PAIR,
        summary="1:1 Marco / Ana",
        description="Weekly 1:1.",
        organizer_email="marco@acme.example",
        organizer_name="Marco Rossi",
        attendee_email="ana@acme.example",
        attendee_name="Ana Alvarez",
        dtstart=datetime(2027, 1, 5, 10, tzinfo=NY),
        duration=timedelta(minutes=30),
        exdates=(datetime(2027, 1, 19, 10, tzinfo=NY),),
    )


LINK = AgendaLink(
    "https://x.example/agendas/t/marco@acme.example/ana@acme.example/2027-01-12",
    "1:1 Marco / Ana: agenda for Tue 12 Jan 2027",
    excerpt("Ana", ["Send the Globex proposal"]),
)


def test_an_agenda_is_attached_to_its_unchanged_week_and_written_once() -> None:
    spec = _spec()
    rid = datetime(2027, 1, 12, 10, tzinfo=NY)
    linked = attach_series(spec, {rid: LINK, datetime(2027, 1, 19, 10, tzinfo=NY): LINK})
    (override,) = linked.overrides  # the skipped week gets nothing
    assert utc(override.start) == utc(rid) and override.end - override.start == spec.duration
    assert override.attachment is not None and override.attachment.url == LINK.url
    assert f"Agenda: {LINK.url}" in override.description
    assert "- Send the Globex proposal" in override.description
    assert ical.fingerprint(linked) != ical.fingerprint(spec)
    assert ical.fingerprint(linked) == ical.fingerprint(attach_series(spec, {rid: LINK}))
    data = ical.render(linked, datetime(2027, 1, 9, tzinfo=NY))
    unfolded = data.replace(b"\r\n ", b"")
    assert f"ATTACH;FMTTYPE=text/html:{LINK.url}".encode() in unfolded
    observed = ical.observe(data, "test.ics")
    assert observed is not None
    assert observed.overrides[utc(rid)].attachments == (LINK.url,)
    # An object without attachments keeps the fingerprint it had before they existed.
    assert ical.fingerprint(spec) == ical.fingerprint(attach_series(spec, {}))


def test_a_make_up_carries_its_agenda_on_its_only_event() -> None:
    spec = replace(_spec(), exdates=(), makeup_week="2027-W02")
    linked = attach_single(spec, LINK)
    observed = ical.observe(ical.render(linked, datetime(2027, 1, 9, tzinfo=NY)), "m.ics")
    assert observed is not None and observed.attachments == (LINK.url,)
    assert attach_single(spec, None) == spec


# --------------------------------------------------------------------------- storage


def test_the_ledger_keeps_documents_and_items_and_refuses_a_second_document(
    ledger_url: str,
) -> None:
    ledger = Ledger(ledger_url)  # on SQLite and on PostgreSQL
    try:
        pending = doc(
            "2027-01-12",
            [("2027-01-05#01", "Send")],
            state="pending",
            url=None,
            ref=None,
            body="# x",
        )
        assert ledger.claim_agenda_doc(pending)
        assert not ledger.claim_agenda_doc(pending)
        # The same session on another day (moved) is refused too.
        assert not ledger.claim_agenda_doc(replace(pending, session_date="2027-01-13"))
        assert ledger.agenda_docs()[PAIR]["2027-01-12"] == pending
        written = replace(pending, state="written", url="https://x", ref="r", body=None)
        ledger.save_agenda_doc(written)
        assert ledger.agenda_docs([PAIR]) == {PAIR: {"2027-01-12": written}}
        one = item(
            "2027-01-05#01",
            "Send",
            history=(("2027-01-05T11:00:00-05:00", "added", "Send", "2027-01-05"),),
        )
        ledger.save_action_item(one)
        ledger.save_action_item(replace(one, state="done", done_at=NOW, decided_in="2027-01-12"))
        kept = ledger.action_items()[PAIR]["2027-01-05#01"]
        assert kept.state == "done" and kept.done_at == NOW and kept.history == one.history
    finally:
        ledger.close()


def test_documents_and_items_are_claimed_and_saved_many_at_once(ledger_url: str) -> None:
    """What a pass records for every pair, in a statement or two (issue 17): the same rows as
    one at a time, a claim that loses refused alone, and a saved row updated or added."""
    ledger = Ledger(ledger_url)  # on SQLite and on PostgreSQL
    try:
        other = f"{PAIR[: PAIR.index('/')]}/liam@acme.example"
        first = doc("2027-01-12", [], state="pending", url=None, ref=None, body="# x")
        assert ledger.claim_agenda_docs([first, replace(first, pair_key=other)]) == [True, True]
        # One recorded already, one a day on (the same session moved): only the third is new.
        later = replace(first, session_date="2027-01-19", week="2027-W03")
        claims = [replace(first, title="again"), replace(first, session_date="2027-01-13"), later]
        assert ledger.claim_agenda_docs(claims) == [False, False, True]
        assert ledger.claim_agenda_docs([]) == []
        kept = ledger.agenda_docs()
        assert kept[PAIR] == {"2027-01-12": first, "2027-01-19": later}
        written = [replace(d, state="written", url="u", ref="r", body=None) for d in (first, later)]
        added = doc("2027-01-26", [], week="2027-W04")
        ledger.save_agenda_docs([*written, added])
        assert ledger.agenda_docs([PAIR])[PAIR] == {
            "2027-01-12": written[0],
            "2027-01-19": written[1],
            "2027-01-26": added,
        }
        assert ledger.agenda_docs([other])[other]["2027-01-12"] == replace(first, pair_key=other)
        one, two = item("2027-01-05#01", "Send"), item("2027-01-05#02", "Call")
        ledger.save_action_items([one])
        ledger.save_action_items([replace(one, last_agenda="2027-01-12"), two])
        assert ledger.action_items()[PAIR] == {
            one.id: replace(one, last_agenda="2027-01-12"),
            two.id: two,
        }
    finally:
        ledger.close()


def test_the_folder_store_never_overwrites_and_reads_back(tmp_path: Path) -> None:
    store = MarkdownFolderStore(tmp_path / "agendas", lambda path: f"https://x/{path.name}")
    key = AgendaKey("Marco@acme.example", "ana@acme.example", datetime(2027, 1, 12).date())
    assert store.find(key) is None
    made = store.create(key, "title", "# first\n", ["marco@acme.example", "ana@acme.example"])
    assert made.ref == "marco@acme.example/ana@acme.example/2027-01-12.md"
    assert store.read(made.ref) == "# first\n"
    again = store.create(key, "title", "# second\n", [])
    assert again == made and store.read(made.ref) == "# first\n"
    assert store.find(key) == made
    (tmp_path / "agendas" / made.ref).unlink()
    assert store.read(made.ref) is None
    assert not [p for p in (tmp_path / "agendas").rglob("*") if p.name.startswith(".")]


def test_the_database_store_never_overwrites_and_reads_back(ledger_url: str) -> None:
    """The store of agendas on a shared ledger: the folder store's contract, in the database."""
    ledger = Ledger(ledger_url)
    try:
        store = DatabaseAgendaStore(ledger, lambda key: f"https://x/{key.name}", NOW)
        key = AgendaKey("Marco@acme.example", "ana@acme.example", datetime(2027, 1, 12).date())
        assert store.find(key) is None
        made = store.create(key, "title", "# first\n", ["marco@acme.example"])
        assert made.ref == "marco@acme.example/ana@acme.example/2027-01-12.md"
        assert made.url == "https://x/marco@acme.example/ana@acme.example/2027-01-12"
        assert store.read(made.ref) == "# first\n"
        again = store.create(key, "title", "# second\n", [])
        assert again == made and store.read(made.ref) == "# first\n"
        assert store.find(key) == made
        ledger.delete_agenda_text(made.ref)  # people deleted it
        assert store.read(made.ref) is None and store.find(key) is None
    finally:
        ledger.close()
