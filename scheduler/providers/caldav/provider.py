"""The CalDAV provider: a person's calendar on any CalDAV server, the object model of vdir.

The series is written to the organizer's calendar and a copy to the attendee's, each in its
owner's calendar under ``<uid>.ics``; the organizer's copy rules time and cancellation, each
attendee's copy that attendee's PARTSTAT; any other object is busy time unless transparent,
cancelled or declined. Agendas are linked as on vdir (``ATTACH`` and ``DESCRIPTION``, written by
``scheduler.ical.render``).

I/O: HTTP through ``scheduler.providers.caldav.client`` only. A read brings the process's
mirror of the calendar up to date (one sync-collection REPORT when nothing changed) and parses
what changed; versions are the server's ETags. Writes are conditional on the ETag read
(``If-Match``; ``If-None-Match: *`` to create), and a server that delivers the attendee's copy
itself (RFC 6638 implicit scheduling, ``Quirks.delivers_attendee_copies``) is not written a
second copy: the one it delivered is taken when it holds exactly what the product would write.

Exports: CaldavProvider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from scheduler import ical
from scheduler.domain import Person
from scheduler.domain.series import CalendarRead, ObservedSeries
from scheduler.errors import CalendarError, ConflictError
from scheduler.providers.base import (
    Capabilities,
    WriteJob,
    Written,
)
from scheduler.providers.caldav.client import DavCalendar, Item
from scheduler.providers.vdir import MEMO_BYTES, Memo, take_object, uid_filename

__all__ = ["CaldavProvider"]

_MEMO = Memo(MEMO_BYTES)


class CaldavProvider:
    """One person's CalDAV calendar. Floating times in objects are read in ``default_zone``."""

    name = "caldav"
    capabilities = Capabilities(writable=True)

    def __init__(self, calendar: DavCalendar, default_zone: ZoneInfo) -> None:
        self.calendar = calendar
        self.default_zone = default_zone
        self.where = f"CalDAV calendar {calendar.configured}"

    # ----------------------------------------------------------------------- reading

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        """Busy time in [start, end) and every product-owned object (any date), each with
        its version: the object's ETag."""
        mirror = self.calendar.sync()
        result = CalendarRead()
        zone = _zone_or(person, self.default_zone)
        for href in sorted(mirror.items):
            item = mirror.items[href]
            result.object_count += 1
            try:
                take_object(
                    result,
                    _MEMO,
                    item.data,
                    href,
                    item.etag,
                    person,
                    (start, end),
                    zone,
                    self.default_zone,
                )
            except ValueError as exc:
                result.problems.append(_sentence(str(exc)))
                name = _name(href)
                if name.startswith(ical.PRODUCT_UID_PREFIX):
                    result.damaged[name.removesuffix(".ics")] = item.etag
                continue
        return result

    # ----------------------------------------------------------------------- writing

    def _find(self, uid: str) -> tuple[Item, ObservedSeries | None] | None:
        """The object holding ``uid`` as last read, and what it holds (``None`` if
        unreadable): ``<uid>.ics`` first, else any object with that UID (adopted, named by
        another client)."""
        items = self.calendar.mirror.items
        preferred = self.calendar.href_for(uid_filename(uid))
        item = items.get(preferred)
        if item is not None:
            observed = _observe(item, self.default_zone)
            if observed is not None and observed.uid != uid:
                raise CalendarError(
                    f"{preferred} holds another object (UID {observed.uid}) where the "
                    f"product's {uid} belongs; it was left alone."
                )
            return item, observed
        needle = uid.encode("utf-8", "replace")
        for href in sorted(items):
            candidate = items[href]
            if needle not in candidate.data:
                continue
            observed = _observe(candidate, self.default_zone)
            if observed is not None and observed.uid == uid:
                return candidate, observed
        return None

    def write_many(self, jobs: Sequence[WriteJob]) -> list[Written | CalendarError]:
        """Each job in turn, one PUT each (CalDAV has no batches); each one's outcome."""
        outcomes: list[Written | CalendarError] = []
        for job in jobs:
            try:
                outcomes.append(self._write(job))
            except ConflictError as error:
                outcomes.append(ConflictError(_conflict(job.spec.uid, self.where, str(error))))
            except CalendarError as error:
                outcomes.append(error)
        return outcomes

    def _write(self, job: WriteJob) -> Written:
        spec = job.spec
        self.calendar.connect()
        digest = job.digest()
        found = self._find(spec.uid)
        if found is not None:
            item, current = found
            if item.etag != job.expect:
                raise ConflictError("changed" if job.expect is not None else "appeared")
            if (
                current is not None
                and current.fingerprint == digest
                and current.sequence == spec.sequence
            ):
                # Nothing to write, as long as it is still what was read (one PROPFIND).
                now = self.calendar.etag_of(item.href)
                if now != item.etag:
                    raise ConflictError("changed" if now is not None else "404")
                return Written(changed=False, version=item.etag)
            href = item.href
        else:
            href = self.calendar.href_for(uid_filename(spec.uid))
            attendee_copy = job.owner.email.lower() != spec.organizer_email.lower()
            if attendee_copy and self.calendar.auto_schedule:
                delivered = self._delivered(job, digest, job.expect)
                if delivered is not None:
                    return delivered
        try:
            data = ical.render(spec, job.dtstamp)
        except ValueError as exc:
            raise CalendarError(
                f"Cannot write {spec.uid} to the {self.where}: {_sentence(str(exc))}"
            ) from exc
        try:
            version = self.calendar.put(href, data, job.expect)
        except ConflictError:
            # A scheduling server may have just delivered the organizer's change into this
            # attendee copy itself (its ETag moved): that is no person's edit.
            if job.owner.email.lower() == spec.organizer_email.lower():
                raise
            if not self.calendar.auto_schedule:
                raise
            delivered = self._delivered(job, digest, None)
            if delivered is None:
                raise
            return delivered
        return Written(changed=True, version=version)

    def _delivered(self, job: WriteJob, digest: str, expect: str | None) -> Written | None:
        """The attendee's copy a scheduling server delivered itself, when it holds the meeting
        the product would write: taken as written (RFC 6638 section 3.2: the server keeps it
        in step with the organizer's), so the product never writes a second copy. A copy
        that differs (the attendee answered or moved a week in it) is theirs: a conflict."""
        spec = job.spec
        item = self.calendar.find_uid(spec.uid)
        if item is None:
            return None
        observed = _observe(item, self.default_zone)
        if (
            observed is not None
            and observed.fingerprint == digest
            and observed.sequence == spec.sequence
            and _same_meeting(observed, ical.observe(ical.render(spec, job.dtstamp), "spec"))
        ):
            return Written(changed=False, version=item.etag)
        if expect is None:
            raise ConflictError("appeared")
        return None

    def delete(self, uid: str, owner: Person, *, expect: str) -> bool:
        """Remove the product-owned object ``uid`` if still at ``expect``; ``False`` when
        there is none. Refuses one the product does not own (``CalendarError``) and one that
        changed since it was read (``ConflictError``)."""
        self.calendar.connect()
        found = self._find(uid)
        if found is None:
            href = self.calendar.href_for(uid_filename(uid))
        else:
            item, current = found
            if current is None or not _is_owned(current):
                raise CalendarError(
                    f"{item.href} in the {self.where} holds {uid} but the product does not "
                    "own it; it was left alone."
                )
            href = item.href
        try:
            return self.calendar.delete(href, expect)
        except ConflictError as error:
            raise ConflictError(_conflict(uid, self.where, str(error))) from None

    # ----------------------------------------------------------------------- checking

    def check(self, person: Person) -> list[str]:
        """One sentence per problem reaching the calendar (sign-in, address, TLS)."""
        try:
            self.calendar.connect()
        except CalendarError as error:
            return [str(error)]
        return []


def _observe(item: Item, zone: ZoneInfo) -> ObservedSeries | None:
    try:
        observed = ical.observe(item.data, item.href, zone)
    except ValueError:
        return None
    return replace(observed, version=item.etag) if observed is not None else None


def _same_meeting(found: ObservedSeries, wanted: ObservedSeries | None) -> bool:
    """Whether ``found`` holds the meeting ``wanted`` holds: times, weeks left out, moved and
    cancelled weeks, and nobody's answer changed to a decline (a server's delivered copy may
    differ in everything else: SCHEDULE-STATUS, its own PRODID, line folding)."""
    if wanted is None:
        return False

    def weeks(observed: ObservedSeries) -> dict[datetime, tuple[datetime, bool]]:
        return {
            rid: (_utc(instance.start), instance.cancelled)
            for rid, instance in observed.overrides.items()
        }

    def declined(partstats: dict[str, str]) -> set[str]:
        return {who for who, answer in partstats.items() if answer.upper() == "DECLINED"}

    return (
        _utc(found.dtstart) == _utc(wanted.dtstart)
        and found.duration == wanted.duration
        and found.exdates == wanted.exdates
        and weeks(found) == weeks(wanted)
        and declined(found.partstats) == declined(wanted.partstats)
        and all(
            declined(found.overrides[rid].partstats) == declined(instance.partstats)
            for rid, instance in wanted.overrides.items()
            if rid in found.overrides
        )
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _conflict(uid: str, where: str, what: str) -> str:
    if "appeared" in what:
        happened = "appeared"
    elif "404" in what:
        happened = "was removed"
    else:
        happened = "changed"
    return (
        f"{uid} in the {where} {happened} since this pass read it (a person or a client at "
        "work); it was left as it is and is read again next pass."
    )


def _name(href: str) -> str:
    return PurePosixPath(href).name


def _is_owned(observed: ObservedSeries) -> bool:
    # As on vdir: a copy that lost its tag to a client is still the product's.
    return observed.pair_key is not None or observed.uid.startswith(ical.PRODUCT_UID_PREFIX)


def _zone_or(person: Person, fallback: ZoneInfo) -> ZoneInfo:
    try:
        return person.zone
    except (ValueError, KeyError):
        return fallback


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."
