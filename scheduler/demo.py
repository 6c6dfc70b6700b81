"""``oneonone demo``: a simulated quarter of the example org on the embedded default.

I/O: writes a demo folder (org file, vdir calendars, ledger) and prints a week-by-week table.
The clock is simulated: one pass every business morning at 08:00 org time, through the same
``run_pass`` the daemon uses. People's own meetings are generated from a fixed seed, so every
run prints the same quarter: a recurring pipeline review that pushes 1:1s aside, a week of
vacation, month-end close weeks skipped, and a few 1:1s a person moved or declined. Every 1:1
gets its agenda (Markdown under ``data/agendas/``); in the first pair's, people write action
items, tick one off, and the open ones are carried into the next agendas.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path

from scheduler.clientedits import (
    decline_event,
    decline_instance,
    exdate_instance,
    move_instance,
    week_instance,
    write_event,
)
from scheduler.domain import Pair, iso_week, makeup_uid, week_monday
from scheduler.errors import UserError
from scheduler.orgfile import Org, load_org
from scheduler.providers.vdir import uid_filename
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass

__all__ = ["run_demo"]

MARKER = ".oneonone-demo"
DEFAULT_START = datetime(2027, 1, 4, 8, 0)  # a Monday; the quarter covers Q1 2027 closes


def run_demo(folder: Path, *, weeks: int = 13, start: datetime | None = None) -> int:
    _fresh_folder(folder)
    example = resources.files("scheduler").joinpath("examples/oneonone.toml").read_text("utf-8")
    (folder / "oneonone.toml").write_text(example, encoding="utf-8")
    org = load_org(folder / "oneonone.toml")
    first = (start or DEFAULT_START).replace(tzinfo=None)
    monday = week_monday(iso_week(first.date()))
    rng = random.Random(7)
    for email in org.people:
        _write_busy(org, email, monday, weeks, rng)
    ledger = Ledger(org.database_url)
    edits = _people_edits(org, monday) + _agenda_edits(org, monday)
    widths = _widths(org)
    print(
        f"A simulated quarter of {org.name}: {len(org.pairs)} weekly 1:1s, a pass every business "
        "morning at 08:00; each week is printed once it is over.\n",
        flush=True,
    )
    print(_header(org, widths), flush=True)
    try:
        for day in _mornings(monday, weeks):
            now = datetime.combine(day, time(8, 0), org.zone)
            run_pass(org, ledger, now, apply=True)
            if day.weekday() == 0 and day > monday:
                # Monday's pass has seen what became of last week: print it.
                print(_row(org, ledger, day - timedelta(weeks=1), widths), flush=True)
            for edit_day, edit in edits:
                if edit_day == day:
                    edit()
        end = datetime.combine(monday + timedelta(weeks=weeks), time(8, 0), org.zone)
        run_pass(org, ledger, end, apply=True)
        print(_row(org, ledger, end.date() - timedelta(weeks=1), widths), flush=True)
        print(_LEGEND)
        print(_notices(org, ledger))
        print(_agendas(org, ledger, folder))
    finally:
        ledger.close()
    options = f"--config {folder}/oneonone.toml --now {end.isoformat()}"
    print(
        f"\nThe quarter's calendars, ledger and org file are in {folder}/: look with\n"
        f"  oneonone report {options}\n"
        f"  khal (point a khal config at {folder}/data/calendars/*)\n"
        "and at the leaders' dashboard and the agenda pages: the first prints the dashboard's\n"
        "address, the second serves it (Ctrl-C stops it)\n"
        f"  oneonone dashboard url --all {options}\n"
        f"  oneonone run {options}"
    )
    return 0


def _fresh_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise UserError(
                f"{folder} exists and is not a demo folder; pass --dir with a new folder name"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by oneonone demo; safe to delete\n", encoding="utf-8")


def _mornings(monday: date, weeks: int) -> Iterator[date]:
    for offset in range(weeks * 7):
        day = monday + timedelta(days=offset)
        if day.weekday() < 5:
            yield day


def _write_busy(org: Org, email: str, monday: date, weeks: int, rng: random.Random) -> None:
    """Each person's own meetings: a weekly pipeline review for managers, random customer calls,
    and one week of vacation for one rep."""
    person = org.people[email]
    folder = org.calendars[email].path
    assert folder is not None
    folder.mkdir(parents=True, exist_ok=True)
    zone = person.zone
    is_manager = any(pair.manager.email == email for pair in org.pairs)
    events: list[tuple[datetime, datetime, str]] = []
    for week in range(weeks):
        week_start = monday + timedelta(weeks=week)
        if is_manager and week % 3 == 1:
            # A forecast call every third week on the manager's 1:1 morning: 1:1s must move.
            slots = [p.slot for p in org.pairs if p.manager.email == email]
            if slots:
                day = week_start + timedelta(days=slots[0].weekday)
                begin = datetime.combine(day, slots[0].at, zone)
                events.append((begin, begin + timedelta(hours=2), "Forecast call"))
        for _ in range(rng.randint(2, 5)):
            day = week_start + timedelta(days=rng.randint(0, 4))
            hour = rng.randint(9, 15)
            begin = datetime.combine(day, time(hour, rng.choice((0, 30))), zone)
            events.append((begin, begin + timedelta(minutes=rng.choice((30, 60))), "Customer call"))
    for index, (begin, end, summary) in enumerate(events):
        write_event(folder, f"busy-{email}-{index:04d}", begin, end, summary)
    reps = [pair.rep.email for pair in org.pairs]
    if reps and email == reps[len(reps) // 2]:
        vacation = monday + timedelta(weeks=5)
        for offset in range(5):
            day = vacation + timedelta(days=offset)
            write_event(
                folder, f"vacation-{email}-{offset}", day, day + timedelta(days=1), "Vacation"
            )


def _people_edits(org: Org, monday: date) -> list[tuple[date, Callable[[], None]]]:
    """People at work on their calendars, the way a calendar client edits the files: a manager
    who moves one 1:1 by an hour, a rep who declines one, a manager who deletes one week (the
    product books a make-up), and a rep who declines two weeks in a row and the make-ups too
    (nudges, then an escalation to the skip-level)."""
    edits: list[tuple[date, Callable[[], None]]] = []
    if len(org.pairs) < 2:
        return edits
    moved, declined = org.pairs[0], org.pairs[-1]
    edits.append(
        (
            monday + timedelta(weeks=3, days=1),
            lambda: _edit_instance(org, moved.manager.email, moved.uid, monday, 4, "move"),
        )
    )
    edits.append(
        (
            monday + timedelta(weeks=7, days=1),
            lambda: _edit_instance(org, declined.rep.email, declined.uid, monday, 8, "decline"),
        )
    )
    reps = [pair for pair in org.pairs if pair.skip_level is not None]
    if len(reps) >= 2:
        cancelled, skipping = reps[0], reps[-2] if len(reps) > 2 else reps[1]
        edits.append(
            (
                monday + timedelta(weeks=1),
                lambda: _edit_instance(
                    org, cancelled.manager.email, cancelled.uid, monday, 2, "cancel"
                ),
            )
        )
        for week in (9, 10):
            edits.append(
                (
                    monday + timedelta(weeks=week),
                    lambda week=week: _edit_instance(  # type: ignore[misc]
                        org, skipping.rep.email, skipping.uid, monday, week, "decline"
                    ),
                )
            )
            edits.append(
                (
                    monday + timedelta(weeks=week, days=1),
                    lambda week=week: _decline_makeup(org, skipping, monday, week),  # type: ignore[misc]
                )
            )
    return edits


def _agenda_edits(org: Org, monday: date) -> list[tuple[date, Callable[[], None]]]:
    """The first pair at work on their agendas, the way people edit them: two action items
    written into the first one, then in the second (which carries both) one ticked off and one
    added. The product reads them back after each 1:1 and carries the open ones."""
    if not org.pairs:
        return []
    pair = org.pairs[0]
    first = [
        "- [ ] Send the Globex proposal",
        "- [ ] Book a demo with Initech",
    ]
    return [
        (monday + timedelta(days=2), lambda: _edit_latest_agenda(org, pair, first, None)),
        (
            monday + timedelta(weeks=1, days=2),
            lambda: _edit_latest_agenda(
                org, pair, ["- [ ] Call Hooli about the renewal"], "Send the Globex proposal"
            ),
        ),
    ]


def _edit_latest_agenda(org: Org, pair: Pair, add: list[str], tick: str | None) -> None:
    folder = org.data_dir / "agendas" / pair.manager.email / pair.rep.email
    written = sorted(folder.glob("*.md")) if folder.exists() else []
    if not written:
        return
    path = written[-1]
    text = path.read_text(encoding="utf-8")
    if tick is not None:
        text = text.replace(f"- [ ] {tick}", f"- [x] {tick}", 1)
    heading = "## Action items\n"
    if heading in text:
        text = text.replace(heading, heading + "\n" + "\n".join(add) + "\n", 1)
    path.write_text(text, encoding="utf-8")


def _agendas(org: Org, ledger: Ledger, folder: Path) -> str:
    """Two lines on the quarter's agendas and what became of the action items in them."""
    docs = [d for by_day in ledger.agenda_docs().values() for d in by_day.values()]
    items = [i for by_id in ledger.action_items().values() for i in by_id.values()]
    written = [d for d in docs if d.url is not None]
    carried = sum(
        1
        for d in written
        if any(item_id.partition("#")[0] < d.session_date for item_id, _ in d.items)
    )
    done = sum(1 for i in items if i.state == "done")
    still_open = [i.text for i in items if i.state == "open"]
    lines = [
        "",
        f"Agendas: {len(written)} written under {folder}/data/agendas/, each linked from its "
        "1:1 and announced to the rep.",
        f"Action items: {len(items)} written by people, {done} done, {len(still_open)} still "
        f"open; {carried} agendas carried open items over from earlier 1:1s.",
    ]
    if still_open:
        lines.append("  Open: " + "; ".join(still_open))
    return "\n".join(lines)


def _decline_makeup(org: Org, pair: Pair, monday: date, week_offset: int) -> None:
    folder = org.calendars[pair.rep.email].path
    assert folder is not None
    week = iso_week(monday + timedelta(weeks=week_offset))
    path = folder / uid_filename(makeup_uid(pair.manager.email, pair.rep.email, week))
    if path.exists():
        decline_event(path, pair.rep.email)


def _edit_instance(
    org: Org, owner: str, uid: str, monday: date, week_offset: int, how: str
) -> None:
    folder = org.calendars[owner].path
    assert folder is not None
    path = folder / uid_filename(uid)
    if not path.exists():
        return
    rid = week_instance(path, monday + timedelta(weeks=week_offset))
    if how == "move":
        move_instance(path, rid, rid + timedelta(hours=1))
    elif how == "cancel":
        exdate_instance(path, rid)
    else:
        decline_instance(path, rid, owner)


_SHORT = {
    "held": "held",
    "moved": "MOVED",
    "made_up": "MADE UP",
    "cancelled": "CANCELLED",
    "declined": "DECLINED",
    "missed": "MISSED",
    "close_week": "close",
    "time_off": "time off",
    "upcoming": "upcoming",
}


def _notices(org: Org, ledger: Ledger) -> str:
    """The notices of the quarter, one line per message (digests and preps counted, not
    listed)."""
    lines = ["", "Notices (written to the outbox folder as .eml files):"]
    digests = preps = 0
    seen: set[str] = set()
    for notice in ledger.notices():
        if notice.message_id in seen or notice.channel != "email":
            continue
        seen.add(notice.message_id)
        if notice.kind == "digest":
            digests += 1
            continue
        if notice.kind == "prep":
            preps += 1
            continue
        people = ", ".join(ledger.notice_recipients(notice.message_id))
        lines.append(f"  {notice.week}  {notice.kind:<16} {notice.pair_key}  to {people}")
    lines.append(f"  and {digests} weekly digests to the managers who have a skip-level")
    lines.append(f"  and {preps} prep notices asking a rep to prepare the agenda of their 1:1")
    makeups = [m for by_week in ledger.makeups().values() for m in by_week.values()]
    lines.append("")
    lines.append("Make-ups booked by oneonone:")
    for makeup in sorted(makeups, key=lambda m: m.start):
        zone = org.people[makeup.pair_key.partition("/")[0]].zone
        lines.append(
            f"  {makeup.week}  {makeup.start.astimezone(zone):%a %d %b %H:%M}  "
            f"{makeup.pair_key}  {makeup.state}: {makeup.reason}"
        )
    return "\n".join(lines)


#: The widest cell: "Tue 10:00* MADE UP".
_CELL = len("Www HH:MM* CANCELLED")
_LEGEND = (
    "\n* moved by oneonone around someone's busy time; MOVED/DECLINED: done by a person; "
    "MADE UP: a make-up oneonone booked after a cancel or decline took place"
)


def _widths(org: Org) -> list[int]:
    names = [f"{p.manager.first_name[:5]}/{p.rep.first_name[:6]}" for p in org.pairs]
    return [len("2027-W01")] + [max(len(name), _CELL) for name in names]


def _header(org: Org, widths: list[int]) -> str:
    header = ["week"] + [f"{p.manager.first_name[:5]}/{p.rep.first_name[:6]}" for p in org.pairs]
    return "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()


def _row(org: Org, ledger: Ledger, monday: date, widths: list[int]) -> str:
    """One week of every pair, as the ledger has it now."""
    week = iso_week(monday)
    keys = [pair.key for pair in org.pairs]
    occurrences = ledger.occurrences(keys)
    makeups = ledger.makeups(keys)
    cells = [week]
    for pair in org.pairs:
        record = occurrences.get(pair.key, {}).get(week)
        if record is None:
            cells.append("-")
            continue
        start = (record.actual_start or record.planned_start).astimezone(pair.manager.zone)
        makeup = makeups.get(pair.key, {}).get(week)
        if record.status == "made_up" and makeup is not None:
            start = makeup.start.astimezone(pair.manager.zone)  # when it did take place
        word = _SHORT.get(record.status, record.status)
        shifted = "*" if record.planned_start != record.regular_start else " "
        cells.append(
            word
            if record.status in ("close_week", "time_off")
            else f"{start:%a %H:%M}{shifted} {word}"
        )
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
