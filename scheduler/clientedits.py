"""Calendar edits made the way calendar clients make them, on vdir files.

I/O: reads and rewrites single ``.ics`` files. The demo uses these to play the people of its
simulated quarter, and the tests to play khal, Thunderbird or Apple Calendar users: a moved or
declined week is a RECURRENCE-ID override, a deleted week an EXDATE on the master, a person's
own meeting a plain VEVENT.

Exports: write_event, write_meeting, master_start, week_instance, move_instance,
decline_instance, decline_event, exdate_instance, cancel_instance, move_series.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Component, Event, vCalAddress

from scheduler.domain.series import utc

__all__ = [
    "cancel_instance",
    "decline_event",
    "decline_instance",
    "exdate_instance",
    "master_start",
    "move_instance",
    "move_series",
    "week_instance",
    "write_event",
    "write_meeting",
]

#: A fixed DTSTAMP keeps generated files byte-identical from run to run.
_STAMP = datetime(2026, 1, 1)


def write_event(
    folder: Path, uid: str, start: date | datetime, end: date | datetime, summary: str
) -> Path:
    """A person's own event in their vdir folder: timed (busy time) or all-day (away)."""
    return _write(folder, _event(uid, start, end, summary))


def write_meeting(
    folder: Path,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    organizer: str,
    attendees: list[str],
    *,
    weekly: bool = False,
) -> Path:
    """A meeting a person booked themselves, as their client writes it: an organizer, the
    attendees with their answers, and for ``weekly`` an RRULE (a 1:1 the product may adopt)."""
    event = _event(uid, start, end, summary)
    event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    for email in attendees:
        address = vCalAddress(f"mailto:{email}")
        address.params["PARTSTAT"] = "ACCEPTED"
        event.add("attendee", address, encode=False)
    if weekly:
        event.add("rrule", {"FREQ": "WEEKLY"})
    return _write(folder, event)


def _event(uid: str, start: date | datetime, end: date | datetime, summary: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", _STAMP)
    return event


def _write(folder: Path, event: Event) -> Path:
    """``event`` alone in a calendar object named after its UID."""
    cal = Calendar()
    cal.add("prodid", "-//oneonone client edits//EN")
    cal.add("version", "2.0")
    cal.add_component(event)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{event['uid']}.ics"
    path.write_bytes(cal.to_ical())
    return path


def _master(cal: Calendar) -> Component:
    return next(c for c in cal.walk("VEVENT") if "RECURRENCE-ID" not in c)


def master_start(path: Path) -> datetime:
    """The series' DTSTART (its first instance, in the organizer's zone)."""
    start: datetime = _master(Calendar.from_ical(path.read_bytes())).decoded("dtstart")
    return start


def _instance(cal: Calendar, rid: datetime) -> Component:
    """The override of the instance ``rid``, added as clients do when there is none yet."""
    for component in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in component and utc(component.decoded("recurrence-id")) == utc(rid):
            return component
    master = _master(cal)
    duration = master.decoded("dtend") - master.decoded("dtstart")
    override = Event()
    for key in ("uid", "summary", "organizer", "sequence"):
        if key in master:
            override[key] = master[key]
    override.add("recurrence-id", rid)
    override.add("dtstart", rid)
    override.add("dtend", rid + duration)
    override.add("dtstamp", _STAMP)
    for attendee in master.get("attendee", []):
        copy = vCalAddress(str(attendee))
        copy.params.update(dict(attendee.params))
        override.add("attendee", copy, encode=False)
    cal.add_component(override)
    return override


def move_instance(path: Path, rid: datetime, new_start: datetime) -> None:
    """Move one week's instance to ``new_start``, keeping its length."""
    cal = Calendar.from_ical(path.read_bytes())
    override = _instance(cal, rid)
    duration = override.decoded("dtend") - override.decoded("dtstart")
    for key in ("dtstart", "dtend"):
        del override[key]
    override.add("dtstart", new_start)
    override.add("dtend", new_start + duration)
    path.write_bytes(cal.to_ical())


def decline_instance(path: Path, rid: datetime, email: str) -> None:
    """Decline one week on this copy: PARTSTAT=DECLINED on ``email``'s ATTENDEE line."""
    cal = Calendar.from_ical(path.read_bytes())
    override = _instance(cal, rid)
    for attendee in override.get("attendee", []):
        if str(attendee).lower().removeprefix("mailto:") == email.lower():
            attendee.params["PARTSTAT"] = "DECLINED"
    path.write_bytes(cal.to_ical())


def cancel_instance(path: Path, rid: datetime) -> None:
    """Cancel one week the way Apple Calendar and Google exports do: an override of that
    instance with STATUS:CANCELLED."""
    cal = Calendar.from_ical(path.read_bytes())
    override = _instance(cal, rid)
    if "status" in override:
        del override["status"]
    override.add("status", "CANCELLED")
    path.write_bytes(cal.to_ical())


def move_series(path: Path, new_start: datetime) -> None:
    """Move the whole series ("all events" in a client): the master's DTSTART and DTEND, and
    its exceptions along with it (each EXDATE, each override's RECURRENCE-ID and times), as
    Thunderbird does when a series' start changes."""
    cal = Calendar.from_ical(path.read_bytes())
    master = _master(cal)
    old_start = master.decoded("dtstart")
    shift = new_start - old_start
    duration = master.decoded("dtend") - old_start
    for key in ("dtstart", "dtend"):
        del master[key]
    master.add("dtstart", new_start)
    master.add("dtend", new_start + duration)
    exdates = [d.dt + shift for prop in _as_list(master.get("exdate")) for d in prop.dts]
    if "exdate" in master:
        del master["exdate"]
    for exdate in exdates:
        master.add("exdate", exdate)
    for component in cal.walk("VEVENT"):
        if "RECURRENCE-ID" not in component:
            continue
        for key in ("recurrence-id", "dtstart", "dtend"):
            moved = component.decoded(key) + shift
            del component[key]
            component.add(key, moved)
    path.write_bytes(cal.to_ical())


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def decline_event(path: Path, email: str) -> None:
    """Decline a single event (or a whole series): PARTSTAT=DECLINED on the master."""
    cal = Calendar.from_ical(path.read_bytes())
    for attendee in _master(cal).get("attendee", []):
        if str(attendee).lower().removeprefix("mailto:") == email.lower():
            attendee.params["PARTSTAT"] = "DECLINED"
    path.write_bytes(cal.to_ical())


def exdate_instance(path: Path, rid: datetime) -> None:
    """Delete one week's instance: an EXDATE on the master, on a line of its own."""
    cal = Calendar.from_ical(path.read_bytes())
    _master(cal).add("exdate", rid)
    path.write_bytes(cal.to_ical())


def week_instance(path: Path, week_start: date) -> datetime:
    """The series' instance in the week starting ``week_start`` (a Monday)."""
    first = master_start(path)
    day = week_start + timedelta(days=first.weekday())
    return datetime.combine(day, first.time(), first.tzinfo)
