"""People's own calendar objects as files, the way their clients write them, for the harnesses
of file-based calendars (a vdir folder; the folder a published ICS feed is made from).

I/O: writes ``.ics`` files in the folder given. Built on ``scheduler.clientedits``, adding the
two flags a client sets on an event that takes no time ("show as free": ``TRANSP:TRANSPARENT``)
or that was called off (``STATUS:CANCELLED``).

Exports: write_event, write_meeting, publish.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from icalendar import Calendar, Component

from scheduler import clientedits

__all__ = ["publish", "write_event", "write_meeting"]


def write_event(
    folder: Path,
    uid: str,
    start: datetime,
    end: datetime,
    *,
    transparent: bool = False,
    cancelled: bool = False,
) -> Path:
    """A person's own event in ``folder``; returns its file."""
    path = clientedits.write_event(folder, uid, start, end, uid.replace("-", " ").title())
    if transparent or cancelled:
        cal = Calendar.from_ical(path.read_bytes())
        event = next(iter(cal.walk("VEVENT")))
        if transparent:
            event.add("transp", "TRANSPARENT")
        if cancelled:
            event.add("status", "CANCELLED")
        path.write_bytes(cal.to_ical())
    return path


def write_meeting(
    folder: Path,
    uid: str,
    start: datetime,
    end: datetime,
    organizer: str,
    attendee: str,
    *,
    weekly: bool,
) -> Path:
    """A meeting ``organizer`` booked with ``attendee`` in their client; returns its file."""
    return clientedits.write_meeting(
        folder, uid, start, end, "Catch-up", organizer, [attendee], weekly=weekly
    )


def publish(folder: Path) -> bytes:
    """Every object in ``folder`` as one VCALENDAR, as a calendar's "publish" link serves it
    (each time zone once, then the events)."""
    feed = Calendar()
    feed.add("prodid", "-//oneonone contract suite publish//EN")
    feed.add("version", "2.0")
    zones: dict[str, Component] = {}
    events: list[Component] = []
    for file in sorted(folder.glob("*.ics")):
        for component in Calendar.from_ical(file.read_bytes()).subcomponents:
            if component.name == "VTIMEZONE":
                zones.setdefault(str(component.get("TZID")), component)
            elif component.name == "VEVENT":
                events.append(component)
    for component in [*zones.values(), *events]:
        feed.add_component(component)
    return bytes(feed.to_ical())
