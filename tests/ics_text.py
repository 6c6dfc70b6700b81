"""Hand-written iCalendar text for tests: the shapes calendar clients produce."""

from __future__ import annotations


def vevent(uid: str, start: str, end: str, *extra: str) -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20270101T000000Z",
        f"DTSTART{start}",
        f"DTEND{end}",
        "SUMMARY:something",
        *extra,
        "END:VEVENT",
    ]
    return "\r\n".join(lines) + "\r\n"


def calendar(*events: str) -> bytes:
    body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(events)
    return (body + "END:VCALENDAR\r\n").encode()
