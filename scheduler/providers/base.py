"""The contract every calendar provider fulfils (vdirsyncer's ``Storage`` is the model).

A provider reads one person's calendar into a ``CalendarRead`` and writes product-owned objects
(series, make-ups) described by a ``SeriesSpec``.

**Versions and preconditions.** Every product-owned object a read returns carries its
``version`` (``ObservedSeries.version``): Google's etags, CalDAV's ``ETag``, a content hash of
a vdir file. Every write names the version it expects to replace (``WriteJob.expect``; ``None``
means "create: nothing may hold this UID yet"), and every delete the version it expects to
remove. When the object is not at that version any more (a person edited, deleted or created
it since the read) the write raises ``ConflictError`` and changes nothing: the pass reads it
again next time and never overwrites what a person did.

**Errors.** Every library exception is translated at the provider's edge:
``CalendarError`` (a sentence naming the calendar) for anything the pass should report,
``TransientError`` for what may work on retry, ``ConflictError`` for a failed precondition,
``AuthError`` when credentials must be renewed. Read-only providers raise ``CalendarError``
from every write.

**Capabilities** are declared, not discovered: ``Capabilities`` says whether the product can
write there, whether the server keeps attendees' copies itself (Google: the pass never writes
an attendee's copy) and whether the calendar gives only busy time. Batching is part of the
contract too: ``write_many`` takes every write of one calendar at once (Google sends them in
batches of ``Capabilities.batch_size``; vdir writes them one by one).

Exports: Capabilities, WriteJob, Written, CalendarProvider, write_one, content_version,
UNFINISHED, unfinished, is_candidate, is_single_meeting, link_let_go.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from scheduler import ical
from scheduler.domain import Pair, Person
from scheduler.domain.series import CalendarRead, ObservedInstance, ObservedSeries, SeriesSpec
from scheduler.errors import CalendarError

__all__ = [
    "UNFINISHED",
    "CalendarProvider",
    "Capabilities",
    "WriteJob",
    "Written",
    "content_version",
    "is_candidate",
    "is_single_meeting",
    "link_let_go",
    "pair_roles",
    "unfinished",
    "write_one",
]

#: Appended to the fingerprint a provider stamps first and completes in a later request (a
#: Google master whose instances are still to be written): such a copy is not yet the
#: product's last write, and is rewritten rather than read as people's edits.
UNFINISHED = "~partial"


def unfinished(fingerprint: str | None) -> bool:
    return fingerprint is not None and fingerprint.endswith(UNFINISHED)


def content_version(data: bytes) -> str:
    """The version of an object stored as bytes (a vdir file): a hash of exactly those bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can do, declared once per provider class."""

    #: the product can write its series there; a read-only calendar (a published ``ics``
    #: feed) only gives busy time, and its owner gets their 1:1s through their ICS feed
    writable: bool
    #: the server keeps each attendee's copy in step with the organizer's (Google): the
    #: attendee's copy is read from the organizer's and never written by the product
    keeps_attendee_copies: bool = False
    #: only busy time is read (no event details, so no series, adoption or make-ups there)
    free_busy_only: bool = False
    #: writes ``write_many`` sends per request (1: one request per object)
    batch_size: int = 1


@dataclass(frozen=True, slots=True)
class WriteJob:
    """One object to write as ``owner``'s copy, on condition that it is still at ``expect``.

    ``expect`` is the version the pass read (``ObservedSeries.version``), or ``None`` when it
    read no such object: then the write creates it and fails if one appeared meanwhile.
    ``dtstamp`` is the pass's clock (the DTSTAMP written), so output depends on no hidden clock.
    ``fingerprint`` is ``ical.fingerprint(spec)`` when the pass has it (it serialises every
    week of the series, and a weekly pass wrote each series' two copies); providers make it
    otherwise.
    """

    spec: SeriesSpec
    owner: Person
    dtstamp: datetime
    expect: str | None
    fingerprint: str | None = None

    def digest(self) -> str:
        """``ical.fingerprint(spec)``: the one the pass gave, else made now."""
        return self.fingerprint or ical.fingerprint(self.spec)


@dataclass(frozen=True, slots=True)
class Written:
    """A write that succeeded: whether it changed the calendar, and the object's version now
    (``None`` when the provider cannot know it without reading again)."""

    changed: bool
    version: str | None


class CalendarProvider(Protocol):
    """One calendar backend. Instances are created per person (they know where it lives)."""

    #: provider name as in the org file: "vdir", "google", "caldav", "ics"
    name: str
    #: a short description of where the calendar lives, for messages ("vdir folder data/ana")
    where: str
    capabilities: Capabilities

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        """Read busy time in [start, end) and every product-owned object (any date), each
        with its ``version``. A read-only provider reports none in ``owned``: nothing there is
        the product's to write (its owner gets their 1:1s through their ICS feed)."""
        ...

    def write_many(self, jobs: Sequence[WriteJob]) -> list[Written | CalendarError]:
        """Write each job; each one's outcome in order (one failing does not stop the others).

        A job whose object is no longer at ``job.expect`` fails with ``ConflictError`` and
        changes nothing. Each write is atomic per object (a killed process never leaves a torn
        object) and idempotent: writing the same spec over its own result changes nothing.
        """
        ...

    def delete(self, uid: str, owner: Person, *, expect: str) -> bool:
        """Remove a product-owned object if still at version ``expect``; whether it existed.
        ``ConflictError`` when it changed since it was read."""
        ...

    def check(self, person: Person) -> list[str]:
        """Reach the calendar; one plain sentence per problem (empty when fine)."""
        ...


def write_one(
    provider: CalendarProvider,
    spec: SeriesSpec,
    owner: Person,
    *,
    dtstamp: datetime,
    expect: str | None,
) -> Written:
    """One conditional write through ``write_many``; raises its error."""
    [outcome] = provider.write_many([WriteJob(spec, owner, dtstamp, expect)])
    if isinstance(outcome, CalendarError):
        raise outcome
    return outcome


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


def link_let_go(
    spec: SeriesSpec, line: datetime | None, original: datetime, found: ObservedInstance
) -> bool:
    """Whether an instance exception that ``spec`` no longer has is a week whose agenda link
    the series let go (``line``: ``ical.links_line(spec)``): at the rule's time, before the
    line. A calendar that keeps each instance apart (Google, Microsoft 365) leaves it as it
    is, its words and agenda, rather than patch a year of past weeks back to the rule."""
    return line is not None and original < line and found.at_rule_time(spec.duration)


def pair_roles(
    pairs: Iterable[Pair], people: Collection[str]
) -> tuple[set[str], dict[str, set[str]], dict[str, str]]:
    """For a server-side calendar (Google, Microsoft 365) holding ``people``: its organizers,
    each rep's managers on it too, and each rep's manager elsewhere (a mixed pair)."""
    organizers: set[str] = set()
    pair_managers: dict[str, set[str]] = {}
    foreign_managers: dict[str, str] = {}
    for pair in pairs:
        if pair.manager.email in people:
            organizers.add(pair.manager.email)
        if pair.rep.email in people and pair.manager.email in people:
            pair_managers.setdefault(pair.rep.email, set()).add(pair.manager.email)
        elif pair.rep.email in people:
            foreign_managers[pair.rep.email] = pair.manager.email
    return organizers, pair_managers, foreign_managers
