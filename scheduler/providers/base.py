"""The contract every calendar provider fulfils.

A provider reads one person's calendar into a ``CalendarRead`` and writes product-owned objects
(series, make-ups) described by a ``SeriesSpec``. It translates every library exception into
``scheduler.errors`` at its edge: ``CalendarError`` (with a sentence naming the calendar) for
anything the pass should report, ``TransientError`` for what may work on retry,
``ConflictError`` when the object changed under us. Read-only providers raise
``CalendarError`` from every write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from scheduler.domain import Person
from scheduler.domain.series import CalendarRead, ObservedSeries, SeriesSpec

__all__ = ["UNFINISHED", "CalendarProvider", "is_candidate", "is_single_meeting", "unfinished"]

#: Appended to the fingerprint a provider stamps first and completes in a later request (a
#: Google master whose instances are still to be written): such a copy is not yet the
#: product's last write, and is rewritten rather than read as people's edits.
UNFINISHED = "~partial"


def unfinished(fingerprint: str | None) -> bool:
    return fingerprint is not None and fingerprint.endswith(UNFINISHED)


class CalendarProvider(Protocol):
    """One calendar backend. Instances are created per person (they know where it lives)."""

    #: provider name as in the org file: "vdir", "google", "caldav", "ics"
    name: str
    #: a short description of where the calendar lives, for messages ("vdir folder data/ana")
    where: str
    #: whether the product can write its series there; a read-only calendar (``ics``) only
    #: gives busy time, and its owner gets their 1:1s through their ICS feed
    writable: bool

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        """Read busy time in [start, end) and every product-owned object (any date)."""
        ...

    def write(self, spec: SeriesSpec, owner: Person, *, dtstamp: datetime) -> bool:
        """Write ``spec`` as ``owner``'s copy; return whether anything changed on the calendar.

        ``dtstamp`` is the pass's clock (the DTSTAMP written), so output depends on no hidden
        clock.

        Must be atomic per object (a killed process never leaves a torn object) and idempotent:
        writing the same spec twice changes nothing the second time.
        """
        ...

    def delete(self, uid: str, owner: Person) -> bool:
        """Remove a product-owned object; return whether it existed."""
        ...

    def check(self, person: Person) -> list[str]:
        """Reach the calendar; one plain sentence per problem (empty when fine)."""
        ...


def _people(observed: ObservedSeries) -> set[str]:
    people = set(observed.attendees)
    if observed.organizer:
        people.add(observed.organizer)
    return people


def is_candidate(observed: ObservedSeries) -> bool:
    """An untagged weekly event between exactly two people: maybe a 1:1 to adopt."""
    return observed.weekly and not observed.cancelled and len(_people(observed)) == 2


def is_single_meeting(observed: ObservedSeries) -> bool:
    """An untagged one-off event between exactly two people: maybe a make-up they booked."""
    return not observed.recurring and not observed.cancelled and len(_people(observed)) == 2
