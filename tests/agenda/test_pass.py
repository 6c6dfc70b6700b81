"""Agendas through the pass, end to end on the embedded default (vdir calendars, Markdown
agendas): written before each session and attached to it, read back after it, open items
carried to the next one; moved sessions and make-ups get theirs, close and time-off weeks none;
each document written once, whatever stops a pass; the rep asked to prepare it once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import getaddresses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler.agenda import parse_items
from scheduler.agenda.store import MarkdownFolderStore
from scheduler.domain.series import utc
from scheduler.feeds import build_feed
from scheduler.providers.google.drive import DriveAgendaStore
from scheduler.store.ledger import Ledger
from tests.system.world import VdirWorld

NY = ZoneInfo("America/New_York")
ANA = "ana@acme.example"
MARCO = "marco@acme.example"


def at(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=NY)


def tuesday_10(day: int, month: int = 1) -> datetime:
    return at(day, 10, month=month)


@pytest.fixture
def world(make_world: Callable[..., Any], tmp_path: Path) -> Any:
    """The example org on each provider: Markdown agendas on vdir, Google Docs on Google."""
    return make_world(tmp_path / "org")


def add_items(*lines: str) -> Callable[[str], str]:
    """People add checkbox lines right under the Action items heading."""

    def edit(text: str) -> str:
        assert "## Action items\n" in text
        return text.replace("## Action items\n", "## Action items\n\n" + "\n".join(lines) + "\n", 1)

    return edit


def replace_line(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)

    return edit


def open_items(text: str | None) -> list[str]:
    assert text is not None
    return [item.text for item in parse_items(text) if not item.done]


def ana_week(world: VdirWorld, now: datetime, week: str) -> dict[str, object]:
    weeks = world.pair(now, "marco", "ana")["weeks"]
    found: dict[str, object] = next(w for w in weeks if w["week"] == week)
    return found


def agenda_files(world: VdirWorld) -> dict[str, tuple[bytes, int]]:
    root = world.org.data_dir / "agendas"
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*.md"))
    }


# --------------------------------------------------------------------------- the weekly cycle


def test_four_sessions_carry_exactly_the_open_items_people_left(world: VdirWorld) -> None:
    # 2027-W01: the first agenda, written within 72 hours of Tuesday's 1:1, lists no items.
    world.sync(at(4, 8))
    assert world.agenda_days("marco", "ana") == ["2027-01-05"]
    assert open_items(world.agenda_text("marco", "ana", "2027-01-05")) == []
    world.edit_agenda(
        "marco",
        "ana",
        "2027-01-05",
        add_items(
            "- [ ] Send the Globex proposal",
            "- [ ] Book a demo with Initech",
            "- [x] Update the CRM",
        ),
    )
    world.sync(at(5, 11))  # after the 1:1: read back

    # 2027-W02: written Saturday morning (72 hours ahead) with the two open items.
    world.sync(at(9, 9, 30))
    assert "2027-01-12" not in world.agenda_days("marco", "ana")
    world.sync(at(9, 10, 30))
    second = world.agenda_text("marco", "ana", "2027-01-12")
    assert open_items(second) == ["Send the Globex proposal", "Book a demo with Initech"]
    assert second is not None and "[Previous agenda](" in second
    world.edit_agenda(
        "marco",
        "ana",
        "2027-01-12",
        lambda text: add_items("- [ ] Call Hooli about the renewal")(
            replace_line("- [ ] Send the Globex proposal", "- [x] Send the Globex proposal")(
                replace_line(
                    "- [ ] Book a demo with Initech", "- [ ] Book the Initech demo for March"
                )(text)
            )
        ),
    )
    world.sync(at(12, 11))

    # 2027-W03: the reworded item in its new words, the added one, not the ticked one.
    world.sync(at(16, 10, 30))
    assert open_items(world.agenda_text("marco", "ana", "2027-01-19")) == [
        "Call Hooli about the renewal",
        "Book the Initech demo for March",
    ]
    world.edit_agenda(
        "marco",
        "ana",
        "2027-01-19",
        lambda text: add_items("- [ ] Prepare the QBR deck")(
            replace_line("- [ ] Book the Initech demo for March\n", "")(
                replace_line(
                    "- [ ] Call Hooli about the renewal", "- [ ] call Hooli about their renewal"
                )(text)
            )
        ),
    )
    world.sync(at(19, 11))

    # 2027-W04 is the month-end close week: no 1:1, no agenda.
    world.sync(at(23, 10, 30))
    world.sync(at(25, 8))
    assert "2027-01-26" not in world.agenda_days("marco", "ana")
    assert ana_week(world, at(25, 8), "2027-W04")["agenda"] is None

    # 2027-W05: exactly the open items, in the order people left them.
    now = at(30, 10, 30)
    world.sync(now)
    fourth = world.agenda_text("marco", "ana", "2027-02-02")
    assert open_items(fourth) == ["Prepare the QBR deck", "call Hooli about their renewal"]
    assert world.agenda_days("marco", "ana") == [
        "2027-01-05",
        "2027-01-12",
        "2027-01-19",
        "2027-02-02",
    ]

    pair = world.pair(now, "marco", "ana")
    assert [(i["text"], i["since"]) for i in pair["open_items"]] == [
        ("Prepare the QBR deck", "2027-01-19"),
        ("call Hooli about their renewal", "2027-01-12"),
    ]
    items = {i.text: i for i in world.ledger.action_items()[f"{MARCO}/{ANA}"].values()}
    assert items["Send the Globex proposal"].state == "done"
    assert items["Update the CRM"].state == "done"
    assert items["Book the Initech demo for March"].state == "dropped"
    history = [event for _, event, _, _ in items["call Hooli about their renewal"].history]
    assert history == ["added", "reworded"]

    # Each week links its agenda, on the calendar as in the report.
    urls = {w["week"]: w["agenda"] for w in pair["weeks"]}
    assert all(urls[w] for w in ("2027-W01", "2027-W02", "2027-W03", "2027-W05"))
    assert fourth is not None and f"[Previous agenda]({urls['2027-W03']})" in fourth
    for owner in ("marco", "ana"):
        attached = world.series_attachments(owner, "marco", "ana")
        assert attached[utc(tuesday_10(2, month=2))] == [urls["2027-W05"]]
        assert attached[utc(tuesday_10(5))] == [urls["2027-W01"]]
        assert utc(tuesday_10(26)) not in attached


def test_a_second_pass_writes_nothing(world: VdirWorld) -> None:
    world.sync(at(4, 8))
    world.edit_agenda("marco", "ana", "2027-01-05", add_items("- [ ] Send the Globex proposal"))
    world.sync(at(5, 11))
    first = world.sync(at(9, 10, 30))
    assert first.agendas_written >= 1 and first.written >= 2
    before = world.snapshot()
    again = world.sync(at(9, 10, 30) + timedelta(minutes=5))
    assert (again.written, again.agendas_written, again.notices_decided) == (0, 0, 0)
    assert world.snapshot() == before
    assert world.plan(at(9, 10, 40)).changes == []


def test_an_agenda_people_edited_is_never_overwritten(world: VdirWorld) -> None:
    world.sync(at(4, 8))
    world.edit_agenda("marco", "ana", "2027-01-05", lambda text: "My own notes only.\n")
    world.restart()
    world.sync(at(4, 9))
    world.sync(at(5, 9))
    assert world.agenda_text("marco", "ana", "2027-01-05") == "My own notes only.\n"


# --------------------------------------------------------------------------- which sessions


def test_a_moved_session_gets_its_agenda_on_its_new_day(world: VdirWorld) -> None:
    world.sync(at(4, 8))
    new_start = at(13, 14)
    world.move_instance("marco", "marco", "ana", tuesday_10(12), new_start)
    world.sync(at(8, 8))
    assert not {"2027-01-12", "2027-01-13"} & set(world.agenda_days("marco", "ana"))
    world.sync(at(10, 14, 30))
    assert "2027-01-13" in world.agenda_days("marco", "ana")
    assert "2027-01-12" not in world.agenda_days("marco", "ana")
    url = ana_week(world, at(10, 15), "2027-W02")["agenda"]
    assert url == world.ledger.agenda_docs()[f"{MARCO}/{ANA}"]["2027-01-13"].url
    view = world.series_view("marco", "marco", "ana")
    assert view is not None and new_start in view.moved_starts  # still where Marco put it
    assert world.series_attachments("marco", "marco", "ana")[utc(tuesday_10(12))] == [url]


def test_a_make_up_gets_an_agenda_of_its_own_day_with_the_same_open_items(
    world: VdirWorld,
) -> None:
    world.sync(at(4, 8))
    world.edit_agenda("marco", "ana", "2027-01-05", add_items("- [ ] Send the Globex proposal"))
    world.sync(at(5, 11))
    world.sync(at(16, 10, 30))  # the agenda of Tue 19 Jan is written
    assert open_items(world.agenda_text("marco", "ana", "2027-01-19")) == [
        "Send the Globex proposal"
    ]
    # Monday: Ana is out all Tuesday, and Marco deletes Tuesday's 1:1.
    world.add_event("ana", "ana-out", at(19, 0).date(), at(20, 0).date(), "Doctor")
    world.cancel_instance("marco", "marco", "ana", tuesday_10(19))
    world.sync(at(18, 9))
    makeup = world.ledger.makeups()[f"{MARCO}/{ANA}"]["2027-W03"]
    day = makeup.start.astimezone(NY).date().isoformat()
    assert day != "2027-01-19"
    assert sorted(world.agenda_days("marco", "ana"))[-2:] == ["2027-01-19", day]
    assert open_items(world.agenda_text("marco", "ana", day)) == ["Send the Globex proposal"]
    url = ana_week(world, at(18, 9), "2027-W03")["agenda"]
    assert url == world.ledger.agenda_docs()[f"{MARCO}/{ANA}"][day].url
    for owner in ("marco", "ana"):
        assert world.makeup_attachments(owner, "marco", "ana", "2027-W03") == [url]
    feed = Calendar.from_ical(build_feed(world.org, world.ledger, ANA).body)
    in_feed = [e for e in feed.walk("VEVENT") if "X-ONEONONE-WEEK" in e]
    assert [str(e["ATTACH"]) for e in in_feed] == [url]  # subscribers see it too
    # The cancelled instance keeps its document (people may have written in it) and gets no
    # new one; after the make-up, both are read back and the item carries on.
    world.edit_agenda(
        "marco",
        "ana",
        day,
        replace_line("- [ ] Send the Globex proposal", "- [x] Send the Globex proposal"),
    )
    world.sync(makeup.end + timedelta(hours=1))
    world.sync(at(23, 10, 30))  # the close week: nothing written
    world.sync(at(30, 10, 30))
    assert open_items(world.agenda_text("marco", "ana", "2027-02-02")) == []


def test_close_weeks_and_time_off_weeks_get_no_agenda(world: VdirWorld) -> None:
    for offset in range(5):  # Ana away the whole week of 8 Feb
        day = at(8, 0, month=2).date() + timedelta(days=offset)
        world.add_event("ana", f"ana-vacation-{offset}", day, day + timedelta(days=1), "Vacation")
    for now in (at(4, 8), at(23, 10, 30), at(25, 8), at(6, 10, 30, month=2), at(9, 8, month=2)):
        world.sync(now)
    days = world.agenda_days("marco", "ana")
    assert "2027-01-26" not in days  # month-end close
    assert "2027-02-09" not in days  # time off
    weeks = world.statuses(at(9, 8, month=2), "marco", "ana")
    assert weeks["2027-W04"] == "close_week" and weeks["2027-W06"] == "time_off"
    assert ana_week(world, at(9, 8, month=2), "2027-W06")["agenda"] is None


def test_a_cancelled_week_without_a_make_up_keeps_its_agenda_and_its_items_carry_over(
    tmp_path: Path,
) -> None:
    world = VdirWorld(tmp_path / "org", edit={"makeup = true": "makeup = false"})
    try:
        world.sync(at(4, 8))
        world.edit_agenda("marco", "ana", "2027-01-05", add_items("- [ ] Send the proposal"))
        world.sync(at(5, 11))
        world.sync(at(9, 10, 30))  # written for Tue 12 Jan
        world.cancel_instance("marco", "marco", "ana", tuesday_10(12))
        world.edit_agenda("marco", "ana", "2027-01-12", add_items("- [ ] Ask about Q2 targets"))
        world.sync(at(11, 9))
        assert world.agenda_days("marco", "ana")[:2] == ["2027-01-05", "2027-01-12"]
        world.sync(at(12, 11))
        assert world.statuses(at(12, 11), "marco", "ana")["2027-W02"] == "cancelled"
        world.sync(at(16, 10, 30))
        assert open_items(world.agenda_text("marco", "ana", "2027-01-19")) == [
            "Ask about Q2 targets",
            "Send the proposal",
        ]
    finally:
        world.close()


def test_an_emptied_agenda_loses_no_item(world: VdirWorld) -> None:
    world.sync(at(4, 8))
    world.edit_agenda("marco", "ana", "2027-01-05", add_items("- [ ] Send the proposal"))
    world.sync(at(5, 11))
    world.sync(at(9, 10, 30))
    world.edit_agenda("marco", "ana", "2027-01-12", lambda text: "# notes\n\nall gone\n")
    world.sync(at(12, 11))
    world.sync(at(16, 10, 30))
    assert open_items(world.agenda_text("marco", "ana", "2027-01-19")) == ["Send the proposal"]


# --------------------------------------------------------------------------- exactly once


def test_a_pass_stopped_between_recording_and_writing_writes_the_agenda_once(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pass dies before the document is made, then after it is made (on Google: after the
    # Doc was created in Drive, in the org's bulk creation, and before it was recorded or
    # attached).
    store: Any = DriveAgendaStore if world.provider == "google" else MarkdownFolderStore
    method = "_create" if world.provider == "google" else "create"
    real_create = getattr(store, method)

    def killed_before(self: Any, *args: object, **kwargs: object) -> object:
        raise RuntimeError("killed")

    monkeypatch.setattr(store, method, killed_before)
    with pytest.raises(RuntimeError):
        world.sync(at(4, 8))
    pending = world.ledger.agenda_docs()[f"{MARCO}/{ANA}"]
    assert [d.state for d in pending.values()] == ["pending"]
    assert world.agenda_days("marco", "ana") == []

    calls: list[str] = []

    def killed_after(self: Any, *args: object, **kwargs: object) -> object:
        made = real_create(self, *args, **kwargs)  # type: ignore[arg-type]
        calls.append(made.ref)
        raise RuntimeError("killed")

    monkeypatch.setattr(store, method, killed_after)
    world.restart()
    with pytest.raises(RuntimeError):
        world.sync(at(4, 8, 5))
    assert world.agenda_days("marco", "ana") == ["2027-01-05"]
    # People start editing before the next pass: theirs stays.
    world.edit_agenda("marco", "ana", "2027-01-05", add_items("- [ ] Mine"))
    edited = world.agenda_text("marco", "ana", "2027-01-05")

    monkeypatch.setattr(store, method, real_create)
    world.restart()
    result = world.sync(at(4, 8, 10))
    assert result.problems == []
    assert world.agenda_days("marco", "ana") == ["2027-01-05"]
    assert world.agenda_text("marco", "ana", "2027-01-05") == edited
    doc = world.ledger.agenda_docs()[f"{MARCO}/{ANA}"]["2027-01-05"]
    assert doc.state == "written" and doc.url is not None and doc.body is None
    assert world.series_attachments("ana", "marco", "ana")[utc(tuesday_10(5))] == [doc.url]
    preps = [n for n in world.notices("prep") if n["rep"] == ANA]
    assert [(n["week"], n["to"]) for n in preps] == [("2027-W01", ANA)]
    assert world.sync(at(4, 8, 15)).agendas_written == 0


# --------------------------------------------------------------------------- notices, report


def test_the_rep_is_asked_to_prepare_each_agenda_once(world: VdirWorld) -> None:
    world.sync(at(4, 8))
    world.edit_agenda("marco", "ana", "2027-01-05", add_items("- [ ] Send the Globex proposal"))
    for now in (at(4, 9), at(5, 11), at(9, 10, 30), at(9, 11)):
        world.sync(now)
    world.restart()
    world.sync(at(10, 8))
    preps = [n for n in world.notices("prep") if n["rep"] == ANA]
    assert [(n["week"], n["to"]) for n in preps] == [("2027-W01", ANA), ("2027-W02", ANA)]
    assert all(n["sent_at"] for n in preps)
    mails = [m for m in world.outbox() if "please prepare the agenda" in str(m["Subject"])]
    to_ana = [m for m in mails if [a for _, a in getaddresses([str(m["To"])])] == [ANA]]
    assert len(to_ana) == 2 and all(m["Cc"] is None for m in to_ana)
    second = to_ana[-1]
    text = next(
        str(part.get_payload(decode=True).decode())
        for part in second.walk()
        if part.get_content_type() == "text/plain"
    )
    url = ana_week(world, at(10, 8), "2027-W02")["agenda"]
    assert f"Your agenda: {url}" in text
    assert "- Send the Globex proposal" in text
    assert "Tue 12 Jan 10:00" in str(second["Subject"])


def test_report_shows_open_items_per_pair_in_json_and_text(world: VdirWorld) -> None:
    from scheduler.report import format_report

    world.sync(at(4, 8))
    world.edit_agenda(
        "marco",
        "ana",
        "2027-01-05",
        add_items("- [ ] Send the Globex proposal", "- [x] Update the CRM"),
    )
    world.sync(at(5, 11))
    report = world.report(at(5, 11))
    ana = next(p for p in report["pairs"] if p["rep"] == ANA)
    assert ana["open_items"] == [
        {
            "id": "2027-01-05#01",
            "text": "Send the Globex proposal",
            "since": "2027-01-05",
            "last_agenda": "2027-01-05",
        }
    ]
    others = [p for p in report["pairs"] if p["rep"] != ANA]
    assert all(p["open_items"] == [] for p in others)
    assert "Send the Globex proposal (since 2027-01-05)" in format_report(report)


def test_agendas_show_the_reps_deals_and_metrics(tmp_path: Path) -> None:
    root = tmp_path / "org"
    root.mkdir()
    (root / "deals.csv").write_text(
        "rep_email,account,amount,stage,next_step,close_date\n"
        "ana@acme.example,Globex,120000,Proposal,,2027-01-01\n"
        "ana@acme.example,Initech,80000,Negotiation,Send MSA,2027-03-20\n"
        "liam@acme.example,Hooli,50000,Discovery,Call,2027-02-01\n"
    )
    (root / "metrics.csv").write_text(
        "rep_email,metric,value,benchmark\nana@acme.example,Calls,42,50\n"
    )
    world = VdirWorld(
        root,
        edit={
            'pipeline_csv = ""': 'pipeline_csv = "deals.csv"',
            'metrics_csv = ""': 'metrics_csv = "metrics.csv"',
        },
    )
    try:
        world.sync(at(4, 8))
        text = world.agenda_text("marco", "ana", "2027-01-05")
        assert text is not None
        assert "| Globex |" in text and "| Initech |" in text and "Hooli" not in text
        assert "no next step" in text and "close date passed" in text
        assert "| Calls | 42 | 50 |" in text
    finally:
        world.close()


def test_two_agendas_made_in_one_pass_link_the_earlier_one(
    make_world: Callable[..., Any], tmp_path: Path
) -> None:
    """With a lead time over a week, one pass makes two documents of a pair: the later one
    links the earlier ("Previous agenda"), whose address exists only once it is created, so
    the pass creates the earlier one first."""
    world = make_world(tmp_path / "org", edit={"agenda_lead_hours = 72": "agenda_lead_hours = 200"})
    world.sync(at(4, 8))
    first, second = world.agenda_days("marco", "ana")[:2]
    assert (first, second) == ("2027-01-05", "2027-01-12")
    url = world.ledger.agenda_docs()[f"{MARCO}/{ANA}"][first].url
    assert url and f"[Previous agenda]({url})" in (world.agenda_text("marco", "ana", second) or "")


def test_an_agenda_another_replica_recorded_first_is_left_to_it(
    world: VdirWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass records the documents it decided on together, just before it creates them.
    One that another replica recorded in between is that replica's to write: this pass
    creates none for it and carries no items into it; every other pair's goes ahead."""
    pair = f"{MARCO}/{ANA}"
    world.sync(at(4, 8))
    world.edit_agenda("marco", "ana", "2027-01-05", add_items("- [ ] Send the Globex proposal"))
    world.sync(at(5, 11))
    real = Ledger.claim_agenda_docs

    def racing(ledger: Ledger, records: Any) -> list[bool]:
        for record in records:
            if record.pair_key == pair and record.session_date == "2027-01-12":
                other = Ledger(world.org.database_url)  # another replica, just before
                assert real(other, [replace(record, title="theirs", items=())]) == [True]
                other.close()
        return real(ledger, records)

    monkeypatch.setattr(Ledger, "claim_agenda_docs", racing)
    world.sync(at(9, 10, 30))
    docs = world.ledger.agenda_docs()
    assert (docs[pair]["2027-01-12"].title, docs[pair]["2027-01-12"].state) == ("theirs", "pending")
    assert "2027-01-12" not in world.agenda_days("marco", "ana")
    (item,) = world.ledger.action_items()[pair].values()
    assert item.last_agenda == "2027-01-05"  # not carried into a document it did not make
    sam = f"{MARCO}/sam@acme.example"
    assert docs[sam]["2027-01-12"].state == "written"
    assert "2027-01-12" in world.agenda_days("marco", "sam")
    # The other replica never wrote it: the next pass finds it pending and writes it.
    monkeypatch.setattr(Ledger, "claim_agenda_docs", real)
    world.sync(at(9, 10, 35))
    assert world.ledger.agenda_docs()[pair]["2027-01-12"].state == "written"
    assert "2027-01-12" in world.agenda_days("marco", "ana")
