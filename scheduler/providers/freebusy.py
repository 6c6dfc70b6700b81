"""Free/busy arithmetic shared by the providers that read busy time as spans from a server
(Google's and Microsoft 365's free/busy answers), not from calendar objects.

Pure: no I/O. Exports: subtract_spans, days_out.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from scheduler.domain import Person
from scheduler.domain.series import utc

__all__ = ["days_out", "subtract_spans"]


def subtract_spans(
    busy: list[tuple[datetime, datetime]], remove: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """``busy`` minus the spans in ``remove`` (the product's own events)."""
    if not remove:
        return busy
    cuts = sorted((utc(s), utc(e)) for s, e in remove)
    result: list[tuple[datetime, datetime]] = []
    for start, end in busy:
        pieces = [(utc(start), utc(end))]
        for cut_start, cut_end in cuts:
            if cut_start >= utc(end):
                break
            next_pieces: list[tuple[datetime, datetime]] = []
            for piece_start, piece_end in pieces:
                if cut_end <= piece_start or cut_start >= piece_end:
                    next_pieces.append((piece_start, piece_end))
                    continue
                if piece_start < cut_start:
                    next_pieces.append((piece_start, cut_start))
                if cut_end < piece_end:
                    next_pieces.append((cut_end, piece_end))
            pieces = next_pieces
            if not pieces:
                break
        result.extend(pieces)
    return result


def days_out(
    busy: list[tuple[datetime, datetime]], person: Person, start: datetime, end: datetime
) -> set[date]:
    """Working days whose working hours are busy from start to end: days out."""
    zone = person.hours_zone
    hours = person.working_hours
    spans = sorted((utc(s), utc(e)) for s, e in busy)
    if not spans:
        return set()
    days: set[date] = set()
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    while day <= last:
        if day.weekday() in hours.days:
            begin = utc(datetime.combine(day, hours.start, zone))
            finish = utc(datetime.combine(day, hours.end, zone))
            reached = begin
            for span_start, span_end in spans:
                if span_end <= reached:
                    continue
                if span_start > reached:
                    break
                reached = span_end
                if reached >= finish:
                    break
            if reached >= finish:
                days.add(day)
        day += timedelta(days=1)
    return days
