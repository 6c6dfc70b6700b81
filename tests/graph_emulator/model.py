"""The mailboxes behind the emulator: events, recurrence, attendee copies, delta, free/busy.

What Microsoft documents, and where (https://learn.microsoft.com/graph/api/resources/...):

- ``event``: ``type`` is ``singleInstance``, ``occurrence``, ``exception`` or ``seriesMaster``;
  an occurrence or exception names its ``seriesMasterId`` and ``originalStart``; ``@odata.etag``
  is ``W/"<changeKey>"`` and changes with every change of the item.
- ``patternedRecurrence``: ``pattern`` (``daily``/``weekly``, ``interval``, ``daysOfWeek``,
  ``firstDayOfWeek``) and ``range`` (``noEnd``/``endDate``/``numbered``, ``startDate``,
  ``endDate``, ``numberOfOccurrences``, ``recurrenceTimeZone``).
- An organizer's event with attendees is sent to them: Exchange puts a copy in each attendee's
  calendar (``isOrganizer`` false, ``responseStatus`` ``notResponded``) and keeps it in step
  with the organizer's; an attendee's answer shows on the organizer's copy in
  ``attendees[].status``.
- Deleting an occurrence removes it from the series (there is no way back but changing the
  series' pattern or times, which drops every exception: Exchange's behaviour with recurring
  items); a change to an occurrence makes it an ``exception``.
- Exceptions are stored with the series master (Exchange keeps them as attachments of the
  recurring master), so any change to one week changes the master's ``changeKey`` too.
- ``singleValueExtendedProperties`` are returned only when ``$expand``ed; they are the
  organizer's item's own and are not sent to attendees.
- ``transactionId`` on a POST: a retried POST with the same id returns the event made first.

Pure Python, no HTTP (``server`` does that). Times are kept as aware UTC datetimes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import tz_win, win_tz

__all__ = ["GraphError", "Item", "Mailbox", "Store", "graph_time", "parse_time", "zone_of"]

_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
#: copied from the organizer's item to attendees' copies
_SHARED = ("subject", "body", "start", "end", "recurrence", "attendees", "isAllDay", "location")


class GraphError(Exception):
    """An error answer: HTTP status, Graph's ``error.code`` and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def zone_of(name: str | None) -> ZoneInfo:
    """A Graph ``timeZone``: a Windows name (``Pacific Standard Time``) or an IANA one."""
    if not name or name == "UTC":
        return ZoneInfo("UTC")
    if name in win_tz:
        return ZoneInfo(win_tz[name])
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as error:
        raise GraphError(
            400,
            "TimeZoneNotSupportedException",
            f"A valid TimeZone value must be specified. "
            f"The following TimeZone value is not supported: '{name}'.",
        ) from error


def windows_name(iana: str) -> str:
    return tz_win.get(iana, "UTC")


def parse_time(value: Any) -> datetime:
    """A ``dateTimeTimeZone`` as an aware UTC datetime."""
    if not isinstance(value, dict) or "dateTime" not in value:
        raise GraphError(400, "ErrorInvalidRequest", "dateTimeTimeZone expected")
    text = str(value["dateTime"]).replace("Z", "")
    text = re.sub(r"(\.\d{6})\d+$", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise GraphError(400, "ErrorInvalidRequest", f"Cannot read {text!r}") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone_of(value.get("timeZone")))
    return moment.astimezone(UTC)


def graph_time(moment: datetime, zone: str = "UTC") -> dict[str, str]:
    local = moment.astimezone(zone_of(zone))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": zone}


def _key() -> str:
    return base64.b64encode(uuid.uuid4().bytes).decode("ascii")[:22]


def _opaque(*parts: str) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return "AAMk" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


@dataclass
class Item:
    """A single event or a series master in one mailbox (an organizer's or a copy)."""

    id: str
    owner: str
    data: dict[str, Any]
    organizer: str
    ical_uid: str
    change_key: str = field(default_factory=_key)
    #: bumps only when the master's own data changes (the occurrences' etags follow it)
    content_key: str = field(default_factory=_key)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    props: dict[str, str] = field(default_factory=dict)
    transaction_id: str | None = None
    #: original start (UTC) -> the exception's own fields (start, end, body, attendees...)
    exceptions: dict[datetime, dict[str, Any]] = field(default_factory=dict)
    exception_keys: dict[datetime, str] = field(default_factory=dict)
    deleted: set[datetime] = field(default_factory=set)
    #: an attendee's copy: their answer to the series and to single weeks
    response: str = "organizer"
    responses: dict[datetime, str] = field(default_factory=dict)

    @property
    def is_series(self) -> bool:
        return bool(self.data.get("recurrence"))

    @property
    def is_organizer(self) -> bool:
        return self.owner == self.organizer

    def touch(self, content: bool = True) -> None:
        self.change_key = _key()
        if content:
            self.content_key = _key()
        self.modified = datetime.now(UTC)

    def start(self) -> datetime:
        return parse_time(self.data["start"])

    def duration(self) -> timedelta:
        return parse_time(self.data["end"]) - parse_time(self.data["start"])

    # ------------------------------------------------------------------ recurrence

    def originals(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """The original starts of the series' weeks overlapping [start, end), deleted or not."""
        recurrence = self.data.get("recurrence") or {}
        pattern = recurrence.get("pattern") or {}
        rng = recurrence.get("range") or {}
        zone = zone_of(rng.get("recurrenceTimeZone") or self.data["start"].get("timeZone"))
        first = self.start().astimezone(zone)
        clock = first.timetz().replace(tzinfo=None)
        kind = pattern.get("type", "weekly")
        interval = int(pattern.get("interval") or 1)
        days = [d.lower() for d in pattern.get("daysOfWeek") or [_DAYS[first.weekday()]]]
        wanted = sorted(_DAYS.index(d) for d in days)
        begin = date.fromisoformat(rng.get("startDate") or first.date().isoformat())
        last = date.fromisoformat(rng["endDate"]) if rng.get("type") == "endDate" else None
        count = int(rng.get("numberOfOccurrences") or 0) if rng.get("type") == "numbered" else 0
        made = 0
        duration = self.duration()
        day = begin
        if kind == "weekly":
            week_start = day - timedelta(days=day.weekday())
            for week in itertools.count():
                if week % interval:
                    continue
                monday = week_start + timedelta(weeks=week)
                for weekday in wanted:
                    current = monday + timedelta(days=weekday)
                    if current < begin:
                        continue
                    if last is not None and current > last:
                        return
                    moment = datetime.combine(current, clock, zone).astimezone(UTC)
                    made += 1
                    if count and made > count:
                        return
                    if moment >= end:
                        return
                    if moment + duration > start:
                        yield moment
        else:  # daily
            for step in itertools.count():
                current = begin + timedelta(days=step * interval)
                if last is not None and current > last:
                    return
                moment = datetime.combine(current, clock, zone).astimezone(UTC)
                made += 1
                if (count and made > count) or moment >= end:
                    return
                if moment + duration > start:
                    yield moment

    def occurrence_id(self, original: datetime) -> str:
        return _opaque(self.id, original.isoformat())


class Mailbox:
    def __init__(
        self,
        email: str,
        time_zone: str,
        working_hours: tuple[time, time],
        working_days: tuple[str, ...] = tuple(_DAYS[:5]),
        hours_zone: str | None = None,
    ) -> None:
        self.email = email
        self.time_zone = time_zone  # IANA; mailboxSettings answers the Windows name
        self.working_hours = working_hours
        self.working_days = working_days
        #: the working hours' own zone (IANA); None: the mailbox's
        self.hours_zone = hours_zone
        self.items: dict[str, Item] = {}
        #: deltaLink states: token -> {instance id: etag}, the last few rounds only
        self.delta_states: dict[str, dict[str, str]] = {}

    def working_hours_resource(self) -> dict[str, Any]:
        """``workingHours`` as mailboxSettings and getSchedule give it (Windows zone names)."""
        start, end = self.working_hours
        return {
            "daysOfWeek": list(self.working_days),
            "startTime": start.strftime("%H:%M:%S.0000000"),
            "endTime": end.strftime("%H:%M:%S.0000000"),
            "timeZone": {"name": windows_name(self.hours_zone or self.time_zone)},
        }


@dataclass
class Store:
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    #: every occurrence id given out: id -> (mailbox, master id, original start); a client
    #: learns an occurrence's id only from an answer (instances, calendarView, delta)
    occurrences: dict[str, tuple[str, str, datetime]] = field(default_factory=dict)
    #: attendees' copies by iCalendar UID
    copies: dict[str, list[Item]] = field(default_factory=dict)

    def mailbox(self, who: str) -> Mailbox:
        box = self.mailboxes.get(who.lower())
        if box is None:
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{who}' is invalid.")
        return box

    # ------------------------------------------------------------------ the event resource

    def find(self, box: Mailbox, event_id: str) -> tuple[Item, datetime | None]:
        """The item ``event_id`` names: a master or single (original None), or an occurrence."""
        item = box.items.get(event_id)
        if item is not None:
            return item, None
        known = self.occurrences.get(event_id)
        if known is not None:
            owner, master_id, original = known
            candidate = box.items.get(master_id)
            if candidate is not None and owner == box.email and original not in candidate.deleted:
                return candidate, original
        raise GraphError(
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )

    def render(
        self,
        item: Item,
        original: datetime | None = None,
        *,
        zone: str = "UTC",
        expand: list[str] | None = None,
        text_body: bool = True,
    ) -> dict[str, Any]:
        """The event resource as Graph answers it."""
        data = dict(item.data)
        kind = "seriesMaster" if item.is_series else "singleInstance"
        etag_key = item.change_key
        if original is not None:
            exception = item.exceptions.get(original, {})
            data.update({k: v for k, v in exception.items() if k != "attendees"})
            kind = "exception" if exception else "occurrence"
            data.pop("recurrence", None)
            start = parse_time(exception["start"]) if "start" in exception else original
            end = parse_time(exception["end"]) if "end" in exception else original + item.duration()
            data["start"], data["end"] = graph_time(start, zone), graph_time(end, zone)
            etag_key = _opaque(item.content_key, item.exception_keys.get(original, ""))[4:26]
            attendees = [dict(a) for a in exception.get("attendees") or data.get("attendees") or []]
            data["attendees"] = attendees
        else:
            data["start"] = graph_time(item.start(), zone)
            data["end"] = graph_time(parse_time(item.data["end"]), zone)
        body = dict(data.get("body") or {"contentType": "text", "content": ""})
        if not text_body and body.get("contentType") == "text":
            body = {
                "contentType": "html",
                "content": f"<html><body>{body['content']}</body></html>",
            }
        response = (
            {"response": "organizer", "time": "0001-01-01T00:00:00Z"}
            if item.is_organizer
            else {
                "response": item.responses.get(original, item.response)
                if original is not None
                else item.response,
                "time": "0001-01-01T00:00:00Z",
            }
        )
        if original is not None:
            self.occurrences[item.occurrence_id(original)] = (item.owner, item.id, original)
        resource: dict[str, Any] = {
            "@odata.etag": f'W/"{etag_key}"',
            "id": item.id if original is None else item.occurrence_id(original),
            "createdDateTime": item.created.isoformat().replace("+00:00", "Z"),
            "lastModifiedDateTime": item.modified.isoformat().replace("+00:00", "Z"),
            "changeKey": etag_key,
            "iCalUId": item.ical_uid,
            "type": kind,
            "subject": data.get("subject", ""),
            "body": body,
            "start": data["start"],
            "end": data["end"],
            "originalStartTimeZone": item.data["start"].get("timeZone", "UTC"),
            "isAllDay": bool(data.get("isAllDay")),
            "isCancelled": bool(data.get("isCancelled")),
            "isOrganizer": item.is_organizer,
            "showAs": data.get("showAs", "busy"),
            "responseStatus": response,
            "organizer": {"emailAddress": {"address": item.organizer, "name": item.organizer}},
            "attendees": data.get("attendees") or [],
            "recurrence": data.get("recurrence") if original is None else None,
            "seriesMasterId": item.id if original is not None else None,
            "transactionId": item.transaction_id if original is None else None,
        }
        if original is not None:
            resource["originalStart"] = original.isoformat().replace("+00:00", "Z")
        if expand:
            resource["singleValueExtendedProperties"] = [
                {"id": key, "value": value}
                for key, value in sorted(item.props.items())
                if "*" in expand or key.lower() in expand
            ]
        return resource

    def instances(
        self, item: Item, start: datetime, end: datetime
    ) -> list[tuple[Item, datetime | None]]:
        """The occurrences and exceptions of ``item`` in [start, end), or the single event."""
        if not item.is_series:
            if item.start() < end and parse_time(item.data["end"]) > start:
                return [(item, None)]
            return []
        found: list[tuple[Item, datetime | None]] = []
        originals = set(item.originals(start, end))
        for original, exception in item.exceptions.items():
            moved_start = parse_time(exception["start"]) if "start" in exception else original
            moved_end = (
                parse_time(exception["end"]) if "end" in exception else original + item.duration()
            )
            if moved_start < end and moved_end > start:
                originals.add(original)
            else:
                originals.discard(original)
        for original in sorted(originals):
            if original not in item.deleted:
                found.append((item, original))
        return found

    def view(
        self, box: Mailbox, start: datetime, end: datetime
    ) -> list[tuple[Item, datetime | None]]:
        found: list[tuple[Item, datetime | None]] = []
        for item in box.items.values():
            found.extend(self.instances(item, start, end))
        return found

    # ------------------------------------------------------------------ writes

    def create(self, owner: str, body: dict[str, Any], ical_uid: str | None = None) -> Item:
        box = self.mailbox(owner)
        transaction = body.get("transactionId")
        if transaction:
            for item in box.items.values():
                if item.transaction_id == transaction:
                    return item
        data = self._validated(body, None)
        item = Item(
            id=_opaque(owner, uuid.uuid4().hex),
            owner=box.email,
            data=data,
            organizer=box.email,
            ical_uid=ical_uid or "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper(),
            transaction_id=transaction,
        )
        for prop in body.get("singleValueExtendedProperties") or []:
            item.props[str(prop["id"])] = str(prop["value"])
        box.items[item.id] = item
        self._propagate(item)
        return item

    def _validated(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        data = dict(current or {})
        for key in (*_SHARED, "showAs", "isCancelled", "sensitivity"):
            if key in body:
                data[key] = body[key]
        for key in ("start", "end"):
            if key not in data:
                raise GraphError(400, "ErrorInvalidRequest", f"The event needs {key}.")
            zone_of(data[key].get("timeZone"))
            parse_time(data[key])
        if parse_time(data["end"]) < parse_time(data["start"]):
            raise GraphError(
                400, "ErrorInvalidRequest", "The end of the event is before its start."
            )
        if data.get("recurrence"):
            pattern = data["recurrence"].get("pattern") or {}
            if pattern.get("type") not in ("weekly", "daily"):
                raise GraphError(
                    501, "NotImplemented", "The emulator expands daily and weekly patterns only."
                )
        # Response tracking is per recipient: an attendee sent again keeps their answer.
        kept = {
            a["emailAddress"]["address"]: a.get("status")
            for a in (current or {}).get("attendees") or []
        }
        data["attendees"] = [
            {
                "type": a.get("type", "required"),
                "status": kept.get(str(a["emailAddress"]["address"]).lower())
                or a.get("status")
                or {"response": "none", "time": "0001-01-01T00:00:00Z"},
                "emailAddress": {
                    "address": str(a["emailAddress"]["address"]).lower(),
                    "name": a["emailAddress"].get("name", ""),
                },
            }
            for a in data.get("attendees") or []
        ]
        return data

    def update(
        self, owner: str, event_id: str, body: dict[str, Any], if_match: str | None
    ) -> tuple[Item, datetime | None]:
        box = self.mailbox(owner)
        item, original = self.find(box, event_id)
        self._precondition(item, original, if_match)
        if not item.is_organizer:
            # An attendee may change only their own copy's private things; nothing else goes.
            item.touch()
            return item, original
        if original is None:
            before = {k: item.data.get(k) for k in ("start", "end", "recurrence")}
            item.data = self._validated(body, item.data)
            after = {k: item.data.get(k) for k in ("start", "end", "recurrence")}
            if before != after and item.is_series:
                item.exceptions.clear()
                item.exception_keys.clear()
                item.deleted.clear()
            for prop in body.get("singleValueExtendedProperties") or []:
                item.props[str(prop["id"])] = str(prop["value"])
            item.touch()
        else:
            exception = item.exceptions.setdefault(original, {})
            for key in ("start", "end", "body", "subject", "showAs", "location"):
                if key in body:
                    exception[key] = body[key]
            if "start" in body:
                parse_time(body["start"])
            item.exception_keys[original] = _key()
            item.touch(content=False)
        self._propagate(item)
        return item, original

    def delete(self, owner: str, event_id: str, if_match: str | None) -> None:
        box = self.mailbox(owner)
        item, original = self.find(box, event_id)
        self._precondition(item, original, if_match)
        if original is None:
            del box.items[item.id]
            if item.is_organizer:
                for copy in self._copies(item):
                    copy.data["isCancelled"] = True
                    copy.touch()
            else:
                self._answer_organizer(item, None, "declined")
            return
        if item.is_organizer:
            item.deleted.add(original)
            item.exceptions.pop(original, None)
            item.touch(content=False)
            self._propagate(item)
        else:
            item.deleted.add(original)
            item.touch(content=False)
            self._answer_organizer(item, original, "declined")

    def answer(self, owner: str, event_id: str, response: str) -> None:
        """An attendee accepts, declines or tentatively accepts (a series or one week)."""
        box = self.mailbox(owner)
        item, original = self.find(box, event_id)
        if item.is_organizer:
            raise GraphError(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. You can't respond to a meeting you organized.",
            )
        if original is None:
            item.response = response
            item.responses.clear()
        else:
            item.responses[original] = response
        item.touch(content=original is None)
        self._answer_organizer(item, original, response)

    def cancel(self, owner: str, event_id: str) -> None:
        box = self.mailbox(owner)
        item, _original = self.find(box, event_id)
        if not item.is_organizer:
            raise GraphError(
                400,
                "ErrorInvalidRequest",
                "Your request can't be completed. Only the organizer can cancel the meeting.",
            )
        self.delete(owner, event_id, None)

    def _precondition(self, item: Item, original: datetime | None, if_match: str | None) -> None:
        if if_match is None or if_match == "*":
            return
        current = self.render(item, original)["@odata.etag"]
        if if_match.strip() != current:
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The change key passed in the request does not match the current change key "
                "of the item.",
            )

    # ------------------------------------------------------------------ attendees' copies

    def _copies(self, item: Item) -> list[Item]:
        return [
            copy
            for copy in self.copies.get(item.ical_uid, [])
            if copy.id in self.mailboxes[copy.owner].items
        ]

    def _propagate(self, item: Item) -> None:
        """Send the organizer's item to its attendees: make or refresh their copies."""
        if not item.is_organizer:
            return
        existing = {copy.owner: copy for copy in self._copies(item)}
        for attendee in item.data.get("attendees") or []:
            email = attendee["emailAddress"]["address"]
            box = self.mailboxes.get(email)
            if box is None or email == item.owner:
                continue
            copy = existing.get(email)
            shared = {k: item.data[k] for k in _SHARED if k in item.data}
            if copy is None:
                copy = Item(
                    id=_opaque(email, item.ical_uid),
                    owner=email,
                    data=dict(shared),
                    organizer=item.owner,
                    ical_uid=item.ical_uid,
                    response="notResponded",
                )
                box.items[copy.id] = copy
                self.copies.setdefault(item.ical_uid, []).append(copy)
            else:
                changed = any(copy.data.get(k) != v for k, v in shared.items())
                if (
                    changed
                    or copy.exceptions != item.exceptions
                    or copy.deleted - set(copy.responses) != item.deleted
                ):
                    copy.data.update(shared)
                    copy.touch()
            copy.exceptions = {k: dict(v) for k, v in item.exceptions.items()}
            copy.exception_keys = dict(item.exception_keys)
            copy.deleted = set(item.deleted) | {
                k for k, v in copy.responses.items() if v == "declined" and k in copy.deleted
            }

    def _answer_organizer(self, copy: Item, original: datetime | None, response: str) -> None:
        box = self.mailboxes.get(copy.organizer)
        if box is None:
            return
        for item in box.items.values():
            if item.ical_uid != copy.ical_uid:
                continue
            if original is None:
                for attendee in item.data.get("attendees") or []:
                    if attendee["emailAddress"]["address"] == copy.owner:
                        attendee["status"] = {"response": response, "time": _now()}
                item.touch(content=True)
            else:
                exception = item.exceptions.setdefault(original, {})
                attendees = [
                    dict(a) for a in exception.get("attendees") or item.data.get("attendees") or []
                ]
                for attendee in attendees:
                    if attendee["emailAddress"]["address"] == copy.owner:
                        attendee["status"] = {"response": response, "time": _now()}
                exception["attendees"] = attendees
                item.exception_keys[original] = _key()
                item.touch(content=False)
            return


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
