"""Calendar v3: events and freebusy, with attendee copies, recurrence, sync tokens and etags.

What is emulated, and where Google says so (reference pages under
https://developers.google.com/workspace/calendar/api/v3/reference/, guides under
https://developers.google.com/workspace/calendar/api/guides/):

- **Event ids** (Event resource, ``id``): client ids use base32hex characters (a-v, 0-9) and
  are 5-1024 long, else 400 "Invalid resource id value."; "the ID must be unique per calendar",
  an id once used (a deleted event keeps it) answers 409 ``duplicate`` "The requested
  identifier already exists." (errors guide, 409).
- **Access**: a person reads and writes their own calendar; someone else's answers 404
  ``notFound`` ("when accessing a calendar that the user can not access", errors guide 404).
- **Copies** ("Event sharing" concepts page,
  https://developers.google.com/workspace/calendar/api/concepts/sharing, and Event resource
  ``attendees[].self``/``organizer``/``extendedProperties``): an event with attendees who are
  users here appears, with the same id, on each one's calendar; ``self: true`` marks the entry
  of the calendar the copy is on.  Shared properties are the organizer's; "Shared properties
  can only be changed by the organizer of the event" and an attendee changing one gets 403
  ``forbiddenForNonOrganizer`` (errors guide, 403).  An attendee may change their own
  ``responseStatus``/``comment``/``additionalGuests`` and their copy's private data:
  ``reminders``, ``colorId``, ``transparency`` and ``extendedProperties.private`` ("Properties
  that are private to the copy of the event that appears on this calendar").  Every change to
  shared data, a response included, gives every copy a new etag and puts it in that
  calendar's next incremental sync.  An attendee deleting their copy declines it; the
  organizer deleting cancels every copy.  With ``guestsCanModify`` attendees may change shared
  fields other than the ``guestsCan*`` settings.
- **Deleted events** (Event ``status``): "The list method returns cancelled events only on
  incremental sync (when syncToken or updatedMin are specified) or if the showDeleted flag is
  set to true. The get method always returns them."; cancelled exceptions of an uncancelled
  series are listed when ``showDeleted`` and ``singleEvents`` are both false (events.list
  ``showDeleted``) and "are only guaranteed to have values for the id, recurringEventId and
  originalStartTime fields"; other deleted events "only ... the id field", except that the
  organizer's calendar and a copy its owner removed keep details, which incremental sync
  without ``showDeleted`` leaves out.  Deleting a deleted event answers 410 ``deleted``
  (errors guide, 410).
- **Recurrence** (Recurring events guide, recurringevents): instances have ids
  ``<eventId>_<original start>``; changing or deleting one makes an exception that keeps
  ``recurringEventId`` and ``originalStartTime``; a deleted instance is a cancelled exception.
  Organizer changes to the series carry over to exceptions where those still had the series'
  value; exceptions whose original start the new rule no longer produces are cancelled.
- **events.list** (events/list): ``maxResults`` default 250, never more than 2500;
  ``nextSyncToken`` only on the last page; ``syncToken`` cannot be combined with iCalUID,
  orderBy, privateExtendedProperty, q, sharedExtendedProperty, timeMin, timeMax or updatedMin
  (400), and an expired one answers 410 ``fullSyncRequired`` "Sync token is no longer valid, a
  full sync is required." (errors guide, 410; Sync guide).  ``orderBy=startTime`` needs
  ``singleEvents=true`` (``orderBy`` enum description).  ``timeMin`` is exclusive on the end,
  ``timeMax`` exclusive on the start; ``timeMin`` not before ``timeMax`` answers 400
  ``timeRangeEmpty`` (errors guide, 400).
- **Patch** merges nested objects and replaces arrays ("Performance tips", guides/performance,
  "Patch"); **update** replaces the whole resource.
- **Etags** ("Get specific versions of resources", guides/version-resources): every change
  gives a new etag; ``If-Match`` with another one answers 412 ``conditionNotMet`` to an
  update, patch or delete and changes nothing, for an exception of a series (its own etag)
  as for any event, in a batch part as alone; "There is no support for conditional
  modifications for insert operations" (a client-supplied id is the insert's condition).
  ``If-None-Match`` with the current one answers 304 to a get.  Google documents no etag for
  an instance nobody changed; here it is its series' etag (as ``events.instances`` shows it).
- **Attachments** (Event ``attachments``): kept only when ``supportsAttachments=true``; "at
  most 25 attachments per event".
- **freebusy.query** (freebusy/query; FreeBusyRequest ``calendarExpansionMax`` "Maximum value is
  50"; ``timeZone`` "The default is UTC"): busy time of events that block time (``transparency``
  opaque, the default) and that the calendar's owner has not declined, recurring ones expanded,
  overlapping blocks merged; calendars this user cannot see answer ``errors: [{"domain":
  "global", "reason": "notFound"}]``.  Items beyond 50 answer, per calendar, the documented
  reason ``tooManyCalendarsRequested`` ("The number of calendars requested is too large for a
  single query", freeBusy ``Error`` schema); set ``freebusy_overflow = "400"`` to refuse the
  whole query instead.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .errors import ApiError, bad_request, invalid, not_found, required
from .recurrence import (
    When,
    duration,
    is_occurrence,
    occurrences,
    parse_query_time,
    parse_when,
    rfc3339,
    rfc3339_ms,
    rule_set,
    zone,
)
from .wire import Call, Reply

_ID = re.compile(r"^[a-v0-9]{5,1024}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

#: Fields a client cannot set (ignored in bodies, as Google does).
READ_ONLY = frozenset(
    {
        "kind",
        "etag",
        "id",
        "htmlLink",
        "created",
        "updated",
        "creator",
        "organizer",
        "iCalUID",
        "recurringEventId",
        "originalStartTime",
        "privateCopy",
        "locked",
        "hangoutLink",
        "sequence",
    }
)
#: Per-copy fields: each calendar's copy has its own.
PRIVATE = ("reminders", "colorId", "transparency")
#: Shared fields an attendee may not change even with guestsCanModify.
ORGANIZER_ONLY = frozenset({"guestsCanModify", "guestsCanInviteOthers", "guestsCanSeeOtherGuests"})
#: Documented defaults: a missing field and its default are the same thing.
DEFAULTS: dict[str, Any] = {
    "status": "confirmed",
    "visibility": "default",
    "eventType": "default",
    "guestsCanModify": False,
    "guestsCanInviteOthers": True,
    "guestsCanSeeOtherGuests": True,
    "anyoneCanAddSelf": False,
    "attendeesOmitted": False,
    "endTimeUnspecified": False,
}
#: Changes to these raise ``sequence`` (RFC 5545 SEQUENCE: changes that matter to attendees).
SIGNIFICANT = ("start", "end", "recurrence", "location", "status")
ATTENDEE_OWN = ("responseStatus", "comment", "additionalGuests")
EVENT_TYPES = ("default", "outOfOffice", "focusTime", "workingLocation", "birthday", "fromGmail")
SYNC_INCOMPATIBLE = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
MAX_PAGE = 2500
FREEBUSY_MAX = 50


def now_text() -> str:
    return rfc3339_ms(datetime.now(UTC))


def new_event_id() -> str:
    """26 base32hex characters, like the ids Google makes."""
    raw = base64.b32hexencode(secrets.token_bytes(16)).decode("ascii").lower()
    return raw.rstrip("=")[:26]


@dataclass
class User:
    email: str
    time_zone: str

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]


@dataclass
class Copy:
    """One calendar's copy of an event: its private data, etag and place in that sync."""

    calendar: str
    private: dict[str, Any] = field(default_factory=dict)
    etag: str = ""
    seq: int = 0
    #: the calendar's owner deleted their copy (declined); it shows as cancelled there
    removed: bool = False


@dataclass
class Core:
    """The event itself (a single event, a series, or one exception of a series)."""

    id: str
    home: str
    organizer: dict[str, Any]
    creator: dict[str, Any]
    created: str
    updated: str
    ical_uid: str
    start: When
    end: When
    shared: dict[str, Any]
    order: int
    sequence: int = 0
    master: Core | None = None
    original: When | None = None
    exceptions: dict[str, Core] = field(default_factory=dict)
    copies: dict[str, Copy] = field(default_factory=dict)
    #: events.import: a private copy that does not propagate
    imported: bool = False

    @property
    def recurrence(self) -> list[str] | None:
        value = self.shared.get("recurrence")
        return list(value) if value else None

    @property
    def span(self) -> timedelta:
        return duration(self.start, self.end)

    def attendee_emails(self) -> set[str]:
        return {str(a.get("email", "")).lower() for a in self.shared.get("attendees") or []}

    def attendee(self, email: str) -> dict[str, Any] | None:
        for entry in self.shared.get("attendees") or []:
            if str(entry.get("email", "")).lower() == email:
                found: dict[str, Any] = entry
                return found
        return None


@dataclass
class Calendar:
    id: str
    owner: str
    time_zone: str
    events: dict[str, Core] = field(default_factory=dict)
    generation: int = 0

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.time_zone)


@dataclass
class Page:
    calendar: str
    user: str
    items: list[dict[str, Any]]
    size: int
    envelope: dict[str, Any]
    sync_token: str | None


class CalendarBackend:
    """The state of every calendar; each method runs under the emulator's lock."""

    def __init__(self, users: dict[str, User]) -> None:
        self.users = users
        self.calendars: dict[str, Calendar] = {}
        self.seq = 0
        self._etag_clock = 0
        self._order = 0
        self.pages: dict[str, Page] = {}
        #: every write's sendUpdates, for tests to assert whom Google would have told
        self.sent_updates: list[dict[str, Any]] = []
        #: most instances produced for one series when no timeMax bounds it
        self.expansion_limit = 1000
        #: "per_calendar" (tooManyCalendarsRequested per calendar beyond 50) or "400"
        self.freebusy_overflow = "per_calendar"

    # ------------------------------------------------------------------ bookkeeping

    def add_calendar(self, user: User) -> None:
        self.calendars.setdefault(user.email, Calendar(user.email, user.email, user.time_zone))

    def _etag(self) -> str:
        self._etag_clock = max(self._etag_clock + 1, int(time.time() * 1_000_000))
        return f'"{self._etag_clock}"'

    def _touch(
        self, core: Core, calendars: Iterable[str] | None = None, *, main: bool = True
    ) -> None:
        """``core`` changed: new etags and sync places for its copies (all, or some)."""
        if main:
            core.updated = now_text()
        for cal in list(core.copies) if calendars is None else calendars:
            copy_ = core.copies.get(cal)
            if copy_ is None:
                continue
            self.seq += 1
            copy_.seq = self.seq
            copy_.etag = self._etag()

    def _calendar(self, call: Call) -> Calendar:
        wanted = call.params.get("calendarId", "primary")
        cid = call.user if wanted == "primary" else wanted.lower()
        cal = self.calendars.get(cid)
        if cal is None or cal.owner != call.user:
            raise not_found()
        return cal

    def _record_updates(self, call: Call, cal: Calendar, core: Core) -> None:
        value = call.q("sendUpdates")
        if value is None and call.q("sendNotifications") is not None:
            value = "all" if call.q_bool("sendNotifications") else "none"
        if value not in (None, "all", "externalOnly", "none"):
            raise bad_request(f"Invalid value for sendUpdates: {value}", location="sendUpdates")
        guests = sorted(core.attendee_emails() - {call.user})
        if value == "all":
            recipients = guests
        elif value == "externalOnly":
            recipients = [g for g in guests if g not in self.users]
        else:
            recipients = []
        self.sent_updates.append(
            {
                "method": call.method_id,
                "calendar": cal.id,
                "eventId": core.id,
                "sendUpdates": value,
                "actor": call.user,
                "recipients": recipients,
            }
        )

    # ------------------------------------------------------------------ rendering

    def status_for(self, core: Core, cal: str) -> str:
        status = str(core.shared.get("status") or "confirmed")
        if status == "cancelled":
            return status
        if core.master is not None and core.master.shared.get("status") == "cancelled":
            return "cancelled"
        copy_ = core.copies.get(cal)
        if copy_ is not None and copy_.removed:
            return "cancelled"
        if cal != core.home and not core.imported and cal not in core.attendee_emails():
            return "cancelled"
        return status

    def _details_kept(self, core: Core, cal: str) -> bool:
        """Deleted events keep details on the organizer's calendar and on removed copies."""
        copy_ = core.copies.get(cal)
        return cal == core.home or (copy_ is not None and copy_.removed)

    def minimal(self, core: Core, cal: str) -> dict[str, Any]:
        copy_ = core.copies[cal]
        out: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": copy_.etag,
            "id": core.id,
            "status": "cancelled",
        }
        if core.master is not None and core.original is not None:
            out["recurringEventId"] = core.master.id
            out["originalStartTime"] = core.original.to_json(self.calendars[cal].zone)
        return out

    def render(
        self, core: Core, cal: str, *, details: bool = True, force: bool = False
    ) -> dict[str, Any]:
        """The event as it appears on ``cal`` (``force``: details even where Google drops them)."""
        status = self.status_for(core, cal)
        if status == "cancelled" and not force and not (details and self._details_kept(core, cal)):
            return self.minimal(core, cal)
        tz = self.calendars[cal].zone
        copy_ = core.copies[cal]
        out: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": copy_.etag,
            "id": core.id,
            "status": status,
            "htmlLink": "https://www.google.com/calendar/event?eid="
            + base64.urlsafe_b64encode(f"{core.id} {cal}".encode()).decode("ascii").rstrip("="),
            "created": core.created,
            "updated": core.updated,
        }
        shared = copy.deepcopy(core.shared)
        shared.pop("status", None)
        attendees = shared.pop("attendees", None)
        ext_shared = shared.pop("extendedProperties", {}).get("shared")
        for key in ("summary", "description", "location"):
            if key in shared:
                out[key] = shared.pop(key)
        if "colorId" in copy_.private:
            out["colorId"] = copy_.private["colorId"]
        out["creator"] = dict(core.creator)
        organizer = dict(core.organizer)
        if str(organizer.get("email", "")).lower() == cal:
            organizer["self"] = True
        out["organizer"] = organizer
        out["start"] = core.start.to_json(tz)
        out["end"] = core.end.to_json(tz)
        recurrence = shared.pop("recurrence", None)
        if recurrence:
            out["recurrence"] = recurrence
        if core.master is not None and core.original is not None:
            out["recurringEventId"] = core.master.id
            out["originalStartTime"] = core.original.to_json(tz)
        transparency = copy_.private.get("transparency", "opaque")
        if transparency != "opaque":
            out["transparency"] = transparency
        if shared.get("visibility") not in (None, "default"):
            out["visibility"] = shared.pop("visibility")
        shared.pop("visibility", None)
        out["iCalUID"] = core.ical_uid
        out["sequence"] = core.sequence
        if attendees:
            rendered = []
            organizer_email = str(core.organizer.get("email", "")).lower()
            for entry in attendees:
                item = dict(entry)
                email = str(item.get("email", "")).lower()
                if email == organizer_email:
                    item["organizer"] = True
                if email == cal:
                    item["self"] = True
                rendered.append(item)
            out["attendees"] = rendered
        ext: dict[str, Any] = {}
        if copy_.private.get("extendedProperties"):
            ext["private"] = dict(copy_.private["extendedProperties"])
        if ext_shared:
            ext["shared"] = dict(ext_shared)
        if ext:
            out["extendedProperties"] = ext
        out["reminders"] = copy.deepcopy(copy_.private.get("reminders", {"useDefault": True}))
        out["eventType"] = shared.pop("eventType", "default")
        out.update(shared)
        return out

    def render_instance(self, master: Core, when: When, cal: str) -> dict[str, Any]:
        """A not-yet-changed instance of ``master``, expanded."""
        tz = self.calendars[cal].zone
        if self.status_for(master, cal) == "cancelled":
            return {
                "kind": "calendar#event",
                "etag": master.copies[cal].etag,
                "id": f"{master.id}_{when.key()}",
                "status": "cancelled",
                "recurringEventId": master.id,
                "originalStartTime": when.to_json(tz),
            }
        out = self.render(master, cal)
        out.pop("recurrence", None)
        out["id"] = f"{master.id}_{when.key()}"
        out["start"] = when.to_json(tz)
        out["end"] = when.shifted(master.span).to_json(tz)
        out["recurringEventId"] = master.id
        out["originalStartTime"] = when.to_json(tz)
        return out

    # ------------------------------------------------------------------ lookups

    def _find(self, cal: Calendar, event_id: str) -> tuple[Core | None, Core | None, When | None]:
        """(stored event, or None; the series and original start of a plain instance id)."""
        core = cal.events.get(event_id)
        if core is not None:
            return core, None, None
        base, sep, key = event_id.rpartition("_")
        if not sep:
            return None, None, None
        master = cal.events.get(base)
        if master is None or master.master is not None or not master.recurrence:
            return None, None, None
        existing = master.exceptions.get(key)
        if existing is not None:
            return existing, None, None
        when = is_occurrence(master.start, master.recurrence, key)
        if when is None:
            return None, None, None
        return None, master, when

    def _materialize(self, master: Core, when: When) -> Core:
        """The exception for one instance of ``master`` (made now if it does not exist)."""
        key = when.key()
        found = master.exceptions.get(key)
        if found is not None:
            return found
        stamp = now_text()
        shared = copy.deepcopy(master.shared)
        shared.pop("recurrence", None)
        self._order += 1
        exception = Core(
            id=f"{master.id}_{key}",
            home=master.home,
            organizer=dict(master.organizer),
            creator=dict(master.creator),
            created=stamp,
            updated=stamp,
            ical_uid=master.ical_uid,
            start=when,
            end=when.shifted(master.span),
            shared=shared,
            order=self._order,
            sequence=master.sequence,
            master=master,
            original=when,
            imported=master.imported,
        )
        for cal_id, master_copy in master.copies.items():
            exception.copies[cal_id] = Copy(
                cal_id, copy.deepcopy(master_copy.private), removed=master_copy.removed
            )
            self.calendars[cal_id].events.setdefault(exception.id, exception)
        master.exceptions[key] = exception
        self._touch(exception)
        return exception

    # ------------------------------------------------------------------ editing

    def _view(self, core: Core, cal: str) -> dict[str, Any]:
        """What a client may write, as ``cal`` sees it: the base a patch merges into."""
        copy_ = core.copies[cal]
        tz = self.calendars[cal].zone
        view = copy.deepcopy(core.shared)
        view["start"] = core.start.to_json(tz)
        view["end"] = core.end.to_json(tz)
        for key in PRIVATE:
            if key in copy_.private:
                view[key] = copy.deepcopy(copy_.private[key])
        ext: dict[str, Any] = {}
        if copy_.private.get("extendedProperties"):
            ext["private"] = dict(copy_.private["extendedProperties"])
        shared_ext = core.shared.get("extendedProperties", {}).get("shared")
        if shared_ext:
            ext["shared"] = dict(shared_ext)
        view.pop("extendedProperties", None)
        if ext:
            view["extendedProperties"] = ext
        return view

    @staticmethod
    def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        """Patch semantics: nested objects merge, arrays and scalars replace, null clears."""
        out = copy.deepcopy(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif (
                isinstance(value, dict)
                and isinstance(out.get(key), dict)
                and key
                not in (
                    "start",
                    "end",
                )
            ):
                out[key] = CalendarBackend._merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out

    def _split(
        self, view: dict[str, Any], *, event_type_default: str = "default"
    ) -> tuple[dict[str, Any], dict[str, Any], When, When]:
        """A written resource -> (shared fields, private fields, start, end), validated."""
        start = parse_when(view.get("start"), "start")
        end = parse_when(view.get("end"), "end")
        span = duration(start, end)
        if span <= timedelta(0):
            raise ApiError(
                400,
                "timeRangeEmpty",
                "The specified time range is empty.",
                domain="calendar",
                location="end",
            )
        shared: dict[str, Any] = {}
        private: dict[str, Any] = {}
        for key, value in view.items():
            if key in READ_ONLY or key in ("start", "end") or value is None:
                continue
            if key in PRIVATE:
                private[key] = copy.deepcopy(value)
            elif key == "extendedProperties":
                if not isinstance(value, dict):
                    raise invalid("Invalid extendedProperties.", "extendedProperties")
                if value.get("private"):
                    private["extendedProperties"] = {
                        str(k): str(v) for k, v in value["private"].items() if v is not None
                    }
                if value.get("shared"):
                    shared["extendedProperties"] = {
                        "shared": {
                            str(k): str(v) for k, v in value["shared"].items() if v is not None
                        }
                    }
            else:
                shared[key] = copy.deepcopy(value)
        if private.get("transparency") not in (None, "opaque", "transparent"):
            raise invalid("Invalid transparency value.", "transparency")
        status = shared.get("status", "confirmed")
        if status not in ("confirmed", "tentative", "cancelled"):
            raise invalid("Invalid status value.", "status")
        event_type = shared.setdefault("eventType", event_type_default)
        if event_type not in EVENT_TYPES:
            raise invalid("Invalid event type.", "eventType")
        if shared.get("recurrence"):
            if not isinstance(shared["recurrence"], list):
                raise invalid("Invalid recurrence rule.", "recurrence")
            rule_set(start, [str(line) for line in shared["recurrence"]])
        attendees = shared.get("attendees")
        if attendees is not None:
            if not isinstance(attendees, list):
                raise invalid("Invalid attendees.", "attendees")
            seen = set()
            cleaned = []
            for entry in attendees:
                if not isinstance(entry, dict) or not entry.get("email"):
                    raise required("Missing attendee email.", "attendees.email")
                email = str(entry["email"]).strip()
                if not _EMAIL.match(email):
                    raise invalid("Invalid attendee email.", "attendees.email")
                if email.lower() in seen:
                    continue
                seen.add(email.lower())
                item = {k: v for k, v in entry.items() if k not in ("self", "organizer", "id")}
                item["email"] = email
                item.setdefault("responseStatus", "needsAction")
                if item["responseStatus"] not in (
                    "needsAction",
                    "declined",
                    "tentative",
                    "accepted",
                ):
                    raise invalid("Invalid attendee response status.", "attendees.responseStatus")
                cleaned.append(item)
            shared["attendees"] = cleaned
            if not cleaned:
                del shared["attendees"]
        return shared, private, start, end

    @staticmethod
    def _normal(shared: dict[str, Any], start: When, end: When) -> dict[str, Any]:
        """Shared data with defaults and empties dropped, for comparing two versions."""
        out = {}
        for key, value in shared.items():
            if value in (None, "", [], {}) or DEFAULTS.get(key, object()) == value:
                continue
            out[key] = value
        out["start"] = (start.day, start.instant, start.tz)
        out["end"] = (end.day, end.instant, end.tz)
        return out

    def _check_attendee_change(
        self, core: Core, cal: str, new_shared: dict[str, Any], start: When, end: When
    ) -> None:
        """An attendee's write: only their own answer and their copy's private data."""
        old = self._normal(core.shared, core.start, core.end)
        new = self._normal(new_shared, start, end)
        old_attendees = old.pop("attendees", [])
        new_attendees = new.pop("attendees", [])
        can_modify = bool(core.shared.get("guestsCanModify"))

        def others(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for entry in entries:
                item = dict(entry)
                if str(item.get("email", "")).lower() == cal:
                    for key in ATTENDEE_OWN:
                        item.pop(key, None)
                out.append(item)
            return sorted(out, key=lambda e: str(e.get("email", "")).lower())

        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        if others(old_attendees) != others(new_attendees):
            changed.add("attendees")
        if not changed:
            return
        if can_modify and not changed & ORGANIZER_ONLY:
            return
        raise ApiError(
            403,
            "forbiddenForNonOrganizer",
            "Shared properties can only be changed by the organizer of the event.",
            domain="calendar",
        )

    def _sync_copies(self, core: Core, private_seed: dict[str, Any] | None = None) -> None:
        """Give every invited user a copy (the organizer's calendar has one already)."""
        if core.imported:
            return
        seed = {}
        if private_seed and "transparency" in private_seed:
            seed["transparency"] = private_seed["transparency"]
        for email in sorted(core.attendee_emails()):
            if email in core.copies or email not in self.calendars:
                continue
            calendar = self.calendars[email]
            holder = calendar.events.get(core.id)
            if holder is not None and holder is not core:
                continue  # that calendar uses this id for another event already
            core.copies[email] = Copy(email, copy.deepcopy(seed))
            calendar.events[core.id] = core

    def _apply_organizer(
        self,
        core: Core,
        cal: str,
        shared: dict[str, Any],
        private: dict[str, Any],
        start: When,
        end: When,
        sequence: int | None,
    ) -> None:
        old_shared = core.shared
        old_norm = self._normal(old_shared, core.start, core.end)
        new_norm = self._normal(shared, start, end)
        shared_changed = old_norm != new_norm
        significant = any(old_norm.get(k) != new_norm.get(k) for k in SIGNIFICANT)
        old_start, old_end, old_recurrence = core.start, core.end, core.recurrence
        private_changed = core.copies[cal].private != private
        main_private_changed = {
            k: v for k, v in core.copies[cal].private.items() if k != "reminders"
        } != {k: v for k, v in private.items() if k != "reminders"}
        core.shared = shared
        core.start, core.end = start, end
        core.copies[cal].private = private
        core.sequence = max(sequence or 0, core.sequence + (1 if significant else 0))
        if shared_changed:
            self._sync_copies(core, private)
            self._touch(core)
            if core.exceptions:
                self._carry_to_exceptions(core, old_shared, old_start, old_end, old_recurrence)
        elif private_changed:
            self._touch(core, [cal], main=main_private_changed)

    def _carry_to_exceptions(
        self,
        master: Core,
        old: dict[str, Any],
        old_start: When,
        old_end: When,
        old_recurrence: list[str] | None,
    ) -> None:
        """Series changes reach exceptions that still had the series' value."""
        new = master.shared
        timing_changed = (
            not old_start.same_moment(master.start)
            or old_start.tz != master.start.tz
            or duration(old_start, old_end) != master.span
            or old_recurrence != master.recurrence
        )
        for key, exception in list(master.exceptions.items()):
            if exception.shared.get("status") == "cancelled":
                continue
            changed = False
            if timing_changed:
                recurrence = master.recurrence
                if not recurrence or is_occurrence(master.start, recurrence, key) is None:
                    exception.shared["status"] = "cancelled"
                    self._touch(exception)
                    continue
            for name in set(old) | set(new):
                if name in ("recurrence", "attendees", "status"):
                    continue
                if exception.shared.get(name) == old.get(name) and new.get(name) != old.get(name):
                    if name in new:
                        exception.shared[name] = copy.deepcopy(new[name])
                    else:
                        exception.shared.pop(name, None)
                    changed = True
            if old.get("attendees") != new.get("attendees"):
                old_by_email = {
                    str(a.get("email", "")).lower(): a for a in old.get("attendees") or []
                }
                mine = {
                    str(a.get("email", "")).lower(): a
                    for a in exception.shared.get("attendees") or []
                }
                merged = []
                for entry in new.get("attendees") or []:
                    email = str(entry.get("email", "")).lower()
                    item = dict(entry)
                    own, before = mine.get(email), old_by_email.get(email)
                    if own is not None and before is not None:
                        for field_name in ATTENDEE_OWN:
                            if own.get(field_name) != before.get(field_name):
                                if field_name in own:
                                    item[field_name] = own[field_name]
                                else:
                                    item.pop(field_name, None)
                    merged.append(item)
                if merged:
                    exception.shared["attendees"] = merged
                else:
                    exception.shared.pop("attendees", None)
                for cal_id in master.copies:
                    if cal_id not in exception.copies:
                        exception.copies[cal_id] = Copy(
                            cal_id, copy.deepcopy(master.copies[cal_id].private)
                        )
                        self.calendars[cal_id].events.setdefault(exception.id, exception)
                changed = True
            if changed:
                self._touch(exception)

    def _apply_attendee(
        self,
        core: Core,
        cal: str,
        new_shared: dict[str, Any],
        private: dict[str, Any],
        start: When,
        end: When,
    ) -> None:
        copy_ = core.copies[cal]
        own_old = core.attendee(cal)
        own_new = None
        for entry in new_shared.get("attendees") or []:
            if str(entry.get("email", "")).lower() == cal:
                own_new = entry
        answer_changed = False
        if own_old is not None and own_new is not None:
            for key in ATTENDEE_OWN:
                if own_old.get(key) != own_new.get(key):
                    if key in own_new:
                        own_old[key] = copy.deepcopy(own_new[key])
                    else:
                        own_old.pop(key, None)
                    answer_changed = True
        if core.shared.get("guestsCanModify"):
            # guests may edit the event: everything but the attendees list (own answer aside)
            old_rest = {k: v for k, v in core.shared.items() if k != "attendees"}
            new_rest = {k: v for k, v in new_shared.items() if k != "attendees"}
            if self._normal(old_rest, core.start, core.end) != self._normal(new_rest, start, end):
                if core.shared.get("attendees"):
                    new_rest["attendees"] = core.shared["attendees"]
                core.shared, core.start, core.end = new_rest, start, end
                answer_changed = True
        if copy_.removed and own_old is not None and own_old.get("responseStatus") != "declined":
            copy_.removed = False
            answer_changed = True
        private_changed = copy_.private != private
        main_private_changed = {k: v for k, v in copy_.private.items() if k != "reminders"} != {
            k: v for k, v in private.items() if k != "reminders"
        }
        copy_.private = private
        if answer_changed:
            self._touch(core)
        elif private_changed:
            self._touch(core, [cal], main=main_private_changed)

    def _check_if_match(self, call: Call, etag: str) -> None:
        """``If-Match``: ``*`` or a list of entity tags, compared strongly (RFC 9110 13.1.1:
        a weak tag ``W/"..."`` never matches); else 412 ``conditionNotMet``."""
        wanted = call.header("if-match")
        if wanted is None or not wanted.strip():
            return
        tags = [tag.strip() for tag in wanted.split(",")]
        if "*" not in tags and etag not in tags:
            raise ApiError(
                412,
                "conditionNotMet",
                "Precondition Failed",
                location="If-Match",
                location_type="header",
            )

    def _attachments(self, call: Call, shared: dict[str, Any], old: dict[str, Any] | None) -> None:
        if not call.q_bool("supportsAttachments"):
            if old is not None and old.get("attachments"):
                shared["attachments"] = copy.deepcopy(old["attachments"])
            else:
                shared.pop("attachments", None)
            return
        attachments = shared.get("attachments")
        if attachments is None:
            return
        if not isinstance(attachments, list) or len(attachments) > 25:
            raise invalid("There can be at most 25 attachments per event.", "attachments")
        for item in attachments:
            if not isinstance(item, dict) or not item.get("fileUrl"):
                raise required("Missing attachment fileUrl.", "attachments.fileUrl")

    # ------------------------------------------------------------------ methods

    def insert(self, call: Call, *, imported: bool = False) -> Reply:
        cal = self._calendar(call)
        body = call.json()
        event_id = body.get("id")
        if event_id is not None:
            event_id = str(event_id)
            if not _ID.match(event_id):
                raise invalid("Invalid resource id value.", "id")
        else:
            event_id = new_event_id()
        if imported:
            if not body.get("iCalUID"):
                raise required("Missing iCalUID.", "iCalUID")
            for existing in cal.events.values():
                if (
                    existing.ical_uid == body["iCalUID"]
                    and existing.master is None
                    and existing.home == cal.id
                    and existing.imported
                ):
                    call.params["eventId"] = existing.id
                    return self.write(call, replace=True, body=body)
        if event_id in cal.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        event_type = str(body.get("eventType") or "default")
        shared, private, start, end = self._split(body, event_type_default=event_type)
        if imported:
            shared["eventType"] = "default"
        self._attachments(call, shared, None)
        stamp = now_text()
        actor = call.user
        organizer = {"email": cal.id}
        if imported and isinstance(body.get("organizer"), dict) and body["organizer"].get("email"):
            organizer = {"email": str(body["organizer"]["email"]).lower()}
            if body["organizer"].get("displayName"):
                organizer["displayName"] = body["organizer"]["displayName"]
        answered = {
            str(a.get("email", "")).lower()
            for a in body.get("attendees") or []
            if isinstance(a, dict) and a.get("responseStatus")
        }
        for entry in shared.get("attendees") or []:
            email = str(entry["email"]).lower()
            if email == organizer["email"] and email not in answered:
                entry["responseStatus"] = "accepted"  # the organizer goes to their own event
        self._order += 1
        sequence = body.get("sequence")
        core = Core(
            id=event_id,
            home=cal.id,
            organizer=organizer,
            creator={"email": actor},
            created=stamp,
            updated=stamp,
            ical_uid=str(body.get("iCalUID") or f"{event_id}@google.com"),
            start=start,
            end=end,
            shared=shared,
            order=self._order,
            sequence=int(sequence) if isinstance(sequence, int) and sequence >= 0 else 0,
            imported=imported,
        )
        core.copies[cal.id] = Copy(cal.id, private)
        cal.events[event_id] = core
        self._sync_copies(core, private)
        self._touch(core)
        if not imported:
            self._record_updates(call, cal, core)
        return Reply(200, self.render(core, cal.id))

    def get(self, call: Call) -> Reply:
        cal = self._calendar(call)
        core, master, when = self._find(cal, call.params["eventId"])
        if core is not None:
            answer = self.render(core, cal.id)
        elif master is not None and when is not None:
            answer = self.render_instance(master, when, cal.id)
        else:
            raise not_found()
        wanted = call.header("if-none-match")
        if wanted and wanted.strip() == answer["etag"]:
            return Reply(304)
        return Reply(200, answer)

    def write(self, call: Call, *, replace: bool, body: dict[str, Any] | None = None) -> Reply:
        """events.patch (``replace`` False) and events.update (True)."""
        cal = self._calendar(call)
        body = call.json() if body is None else body
        core, master, when = self._find(cal, call.params["eventId"])
        if core is None:
            if master is None or when is None:
                raise not_found()
            self._check_if_match(call, master.copies[cal.id].etag)
            core = self._materialize(master, when)
        else:
            self._check_if_match(call, core.copies[cal.id].etag)
        if "eventType" in body and body["eventType"] != core.shared.get("eventType", "default"):
            raise bad_request("The event type cannot be changed.", location="eventType")
        if "id" in body and body["id"] != core.id:
            raise invalid("Invalid resource id value.", "id")
        base = self._view(core, cal.id)
        if replace:
            view = {k: v for k, v in body.items() if k not in READ_ONLY}
            view.setdefault("eventType", core.shared.get("eventType", "default"))
            if core.master is not None:
                view.pop("recurrence", None)
        else:
            view = self._merge(base, {k: v for k, v in body.items() if k not in READ_ONLY})
        shared, private, start, end = self._split(view)
        if core.master is not None:
            shared.pop("recurrence", None)
        self._attachments(call, shared, core.shared)
        sequence = body.get("sequence")
        if sequence is not None and (not isinstance(sequence, int) or sequence < core.sequence):
            raise invalid(
                "Invalid sequence value. The specified sequence number is below the current "
                "sequence number of the resource.",
                "sequence",
            )
        if cal.id == core.home:
            self._apply_organizer(core, cal.id, shared, private, start, end, sequence)
        else:
            self._check_attendee_change(core, cal.id, shared, start, end)
            self._apply_attendee(core, cal.id, shared, private, start, end)
        self._record_updates(call, cal, core)
        return Reply(200, self.render(core, cal.id))

    def delete(self, call: Call) -> Reply:
        cal = self._calendar(call)
        core, master, when = self._find(cal, call.params["eventId"])
        if core is None:
            if master is None or when is None:
                raise not_found()
            if self.status_for(master, cal.id) == "cancelled":
                raise ApiError(410, "deleted", "Resource has been deleted")
            self._check_if_match(call, master.copies[cal.id].etag)
            core = self._materialize(master, when)
        else:
            if self.status_for(core, cal.id) == "cancelled":
                raise ApiError(410, "deleted", "Resource has been deleted")
            self._check_if_match(call, core.copies[cal.id].etag)
        if cal.id == core.home:
            core.shared["status"] = "cancelled"
            core.sequence += 1
            self._touch(core)
            for exception in core.exceptions.values():
                self._touch(exception)
        else:
            self._decline(core, cal.id)
            for exception in core.exceptions.values():
                if cal.id in exception.copies:
                    self._decline(exception, cal.id)
        self._record_updates(call, cal, core)
        return Reply(204)

    def _decline(self, core: Core, cal: str) -> None:
        entry = core.attendee(cal)
        if entry is not None:
            entry["responseStatus"] = "declined"
        core.copies[cal].removed = True
        self._touch(core)

    # ------------------------------------------------------------------ listing

    def _window(
        self, call: Call, *, inclusive_min: bool = False
    ) -> tuple[datetime | None, datetime | None]:
        low = call.q("timeMin")
        high = call.q("timeMax")
        time_min = parse_query_time(low, "timeMin") if low else None
        time_max = parse_query_time(high, "timeMax") if high else None
        if time_min is not None and time_max is not None and time_min >= time_max:
            raise ApiError(
                400,
                "timeRangeEmpty",
                "The specified time range is empty.",
                domain="calendar",
                location="timeMax",
            )
        if inclusive_min and time_min is not None:
            time_min = time_min - timedelta(microseconds=1)
        return time_min, time_max

    @staticmethod
    def _overlaps(
        start: datetime, end: datetime, low: datetime | None, high: datetime | None
    ) -> bool:
        return (low is None or end > low) and (high is None or start < high)

    def _core_overlaps(
        self, core: Core, cal: Calendar, low: datetime | None, high: datetime | None
    ) -> bool:
        if core.recurrence and core.master is None:
            if low is None and high is None:
                return True
            found = occurrences(
                core.start,
                core.recurrence,
                after=low,
                before=high,
                span=core.span,
                limit=1,
                calendar_zone=cal.zone,
            )
            return next(found, None) is not None
        when = (
            core.original
            if core.master is not None and self.status_for(core, cal.id) == "cancelled"
            else None
        )
        start = (when or core.start).start_in(cal.zone)
        end = start + core.span if when else core.end.start_in(cal.zone)
        return self._overlaps(start, end, low, high)

    def _matches(self, call: Call, core: Core, cal: Calendar) -> bool:
        """The filters of events.list other than time and deletion."""
        ical = call.q("iCalUID")
        if ical and core.ical_uid != ical:
            return False
        copy_ = core.copies[cal.id]
        for item in call.q_all("privateExtendedProperty"):
            key, _, value = item.partition("=")
            if copy_.private.get("extendedProperties", {}).get(key) != value:
                return False
        for item in call.q_all("sharedExtendedProperty"):
            key, _, value = item.partition("=")
            if core.shared.get("extendedProperties", {}).get("shared", {}).get(key) != value:
                return False
        text = call.q("q")
        if text:
            haystack = " ".join(
                str(core.shared.get(k, "")) for k in ("summary", "description", "location")
            )
            haystack += " " + " ".join(sorted(core.attendee_emails()))
            if not all(word.lower() in haystack.lower() for word in text.split()):
                return False
        types = call.q_all("eventTypes")
        return not (types and core.shared.get("eventType", "default") not in types)

    def _expand(
        self,
        master: Core,
        cal: Calendar,
        low: datetime | None,
        high: datetime | None,
        *,
        show_deleted: bool,
        with_exceptions: bool = True,
    ) -> Iterator[tuple[datetime, int, dict[str, Any]]]:
        """(start, order, resource) of each instance of ``master`` in the window."""
        master_cancelled = self.status_for(master, cal.id) == "cancelled"
        if master_cancelled and not show_deleted:
            return
        recurrence = master.recurrence or []
        for when in occurrences(
            master.start,
            recurrence,
            after=low,
            before=high,
            span=master.span,
            limit=self.expansion_limit,
            calendar_zone=cal.zone,
        ):
            if when.key() in master.exceptions:
                continue
            yield when.start_in(cal.zone), master.order, self.render_instance(master, when, cal.id)
        if not with_exceptions:
            return
        for exception in master.exceptions.values():
            if cal.id not in exception.copies:
                continue
            cancelled = self.status_for(exception, cal.id) == "cancelled"
            if cancelled and not show_deleted:
                continue
            if not self._core_overlaps(exception, cal, low, high):
                continue
            place = (exception.original if cancelled else exception.start) or exception.start
            yield (
                place.start_in(cal.zone),
                exception.order,
                self.render(exception, cal.id, details=not cancelled),
            )

    def list_events(self, call: Call) -> Reply:
        cal = self._calendar(call)
        token = call.q("pageToken")
        if token:
            page = self.pages.pop(token, None)
            if page is None or page.calendar != cal.id or page.user != call.user:
                raise bad_request("Invalid page token value.", "invalid", location="pageToken")
            return self._serve(page)
        size = call.q_int("maxResults", 250)
        if size < 1:
            raise invalid("Invalid value for maxResults.", "maxResults")
        size = min(size, MAX_PAGE)
        single = call.q_bool("singleEvents")
        show_deleted = call.q_bool("showDeleted")
        order_by = call.q("orderBy")
        if order_by not in (None, "startTime", "updated"):
            raise invalid(f"Invalid value for orderBy: {order_by}", "orderBy")
        if order_by == "startTime" and not single:
            raise bad_request(
                "The requested ordering is not available for the particular query.",
                location="orderBy",
            )
        sync = call.q("syncToken")
        if sync is not None:
            for name in SYNC_INCOMPATIBLE:
                if call.q(name) is not None:
                    raise bad_request(
                        f"Sync token cannot be used together with the {name} parameter.",
                        "invalid",
                        location=name,
                    )
            since = self._read_sync_token(sync, cal)
            items = self._changes(cal, since, single=single, show_deleted=show_deleted)
        else:
            items = self._full(
                call, cal, single=single, show_deleted=show_deleted, order_by=order_by
            )
        envelope = {
            "kind": "calendar#events",
            "etag": f'"{self.seq}"',
            "summary": cal.owner,
            "description": "",
            "updated": max((i.get("updated", "") for i in items), default=now_text()) or now_text(),
            "timeZone": call.q("timeZone") or cal.time_zone,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
        }
        page = Page(cal.id, call.user, items, size, envelope, self._sync_token(cal))
        return self._serve(page)

    def _serve(self, page: Page) -> Reply:
        chunk, rest = page.items[: page.size], page.items[page.size :]
        answer = dict(page.envelope)
        answer["items"] = chunk
        if rest:
            token = secrets.token_urlsafe(24)
            self.pages[token] = Page(
                page.calendar, page.user, rest, page.size, page.envelope, page.sync_token
            )
            answer["nextPageToken"] = token
        elif page.sync_token is not None:
            answer["nextSyncToken"] = page.sync_token
        return Reply(200, answer)

    def _full(
        self,
        call: Call,
        cal: Calendar,
        *,
        single: bool,
        show_deleted: bool,
        order_by: str | None,
    ) -> list[dict[str, Any]]:
        low, high = self._window(call)
        updated_min_text = call.q("updatedMin")
        updated_min = parse_query_time(updated_min_text, "updatedMin") if updated_min_text else None
        if updated_min is not None:
            show_deleted = True  # "entries deleted since this time will always be included"
        found: list[tuple[datetime, int, dict[str, Any]]] = []
        for core in list(cal.events.values()):
            if not self._matches(call, core, cal):
                continue
            if updated_min is not None and core.updated < rfc3339_ms(updated_min):
                continue
            cancelled = self.status_for(core, cal.id) == "cancelled"
            if core.master is not None:
                if single and cal.events.get(core.master.id) is core.master:
                    continue  # instances come from their series
                master_cancelled = self.status_for(core.master, cal.id) == "cancelled"
                if cancelled and master_cancelled and not show_deleted:
                    continue
                if not self._core_overlaps(core, cal, low, high):
                    continue
                place = (core.original if cancelled else core.start) or core.start
                details = not cancelled
                found.append(
                    (
                        place.start_in(cal.zone),
                        core.order,
                        self.render(core, cal.id, details=details),
                    )
                )
                continue
            if single and core.recurrence:
                found.extend(self._expand(core, cal, low, high, show_deleted=show_deleted))
                continue
            if cancelled and not show_deleted:
                continue
            if not self._core_overlaps(core, cal, low, high):
                continue
            found.append((core.start.start_in(cal.zone), core.order, self.render(core, cal.id)))
        if order_by == "startTime":
            found.sort(key=lambda item: (item[0], item[1]))
        elif order_by == "updated":
            found.sort(key=lambda item: (item[2].get("updated", ""), item[1]))
        else:
            found.sort(key=lambda item: (item[1], item[0]))
        return [item[2] for item in found]

    def _changes(
        self, cal: Calendar, since: int, *, single: bool, show_deleted: bool
    ) -> list[dict[str, Any]]:
        changed = sorted(
            (core for core in cal.events.values() if core.copies[cal.id].seq > since),
            key=lambda core: core.copies[cal.id].seq,
        )
        items: list[dict[str, Any]] = []
        for core in changed:
            cancelled = self.status_for(core, cal.id) == "cancelled"
            if single and core.master is None and core.recurrence:
                # every instance changed with the series; changed exceptions come on their own
                expanded = self._expand(
                    core, cal, None, None, show_deleted=True, with_exceptions=False
                )
                items.extend(item for _, _, item in expanded)
                continue
            items.append(self.render(core, cal.id, details=not cancelled or show_deleted))
        return items

    def _sync_token(self, cal: Calendar) -> str:
        raw = json.dumps({"c": cal.id, "s": self.seq, "g": cal.generation}).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def _read_sync_token(self, token: str, cal: Calendar) -> int:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            ok = data["c"] == cal.id and data["g"] == cal.generation
            since = int(data["s"])
        except (ValueError, KeyError, TypeError):
            ok, since = False, 0
        if not ok:
            raise ApiError(
                410,
                "fullSyncRequired",
                "Sync token is no longer valid, a full sync is required.",
                domain="calendar",
                location="syncToken",
            )
        return since

    def expire_sync_tokens(self, email: str | None = None) -> None:
        for cal in self.calendars.values():
            if email is None or cal.id == email:
                cal.generation += 1

    def instances(self, call: Call) -> Reply:
        cal = self._calendar(call)
        token = call.q("pageToken")
        if token:
            page = self.pages.pop(token, None)
            if page is None or page.calendar != cal.id or page.user != call.user:
                raise bad_request("Invalid page token value.", "invalid", location="pageToken")
            return self._serve(page)
        core = cal.events.get(call.params["eventId"])
        if core is None:
            raise not_found()
        size = min(max(call.q_int("maxResults", 250), 1), MAX_PAGE)
        show_deleted = call.q_bool("showDeleted")
        low, high = self._window(call, inclusive_min=True)
        if not core.recurrence or core.master is not None:
            items = [self.render(core, cal.id)]
        else:
            found = list(self._expand(core, cal, low, high, show_deleted=show_deleted))
            found.sort(key=lambda item: (item[0], item[1]))
            items = [item[2] for item in found]
            original = call.q("originalStart")
            if original:
                wanted = parse_query_time(original, "originalStart")
                items = [
                    item
                    for item in items
                    if parse_when(item["originalStartTime"], "originalStart").start_in(cal.zone)
                    == wanted
                ]
        envelope = {
            "kind": "calendar#events",
            "etag": core.copies[cal.id].etag,
            "summary": cal.owner,
            "updated": core.updated,
            "timeZone": call.q("timeZone") or cal.time_zone,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
        }
        return self._serve(Page(cal.id, call.user, items, size, envelope, None))

    # ------------------------------------------------------------------ freebusy

    def busy(self, cal: Calendar, low: datetime, high: datetime) -> list[tuple[datetime, datetime]]:
        """Merged busy blocks of ``cal`` within [low, high)."""
        blocks: list[tuple[datetime, datetime]] = []

        def blocking(core: Core) -> bool:
            if self.status_for(core, cal.id) == "cancelled":
                return False
            if core.copies[cal.id].private.get("transparency", "opaque") != "opaque":
                return False
            if core.shared.get("eventType") == "workingLocation":
                return False
            own = core.attendee(cal.id)
            return not (own is not None and own.get("responseStatus") == "declined")

        for core in list(cal.events.values()):
            if core.master is not None:
                continue
            if core.recurrence:
                if self.status_for(core, cal.id) == "cancelled":
                    continue
                for when in occurrences(
                    core.start,
                    core.recurrence,
                    after=low,
                    before=high,
                    span=core.span,
                    limit=100000,
                    calendar_zone=cal.zone,
                ):
                    if when.key() in core.exceptions:
                        continue
                    if blocking(core):
                        start = when.start_in(cal.zone)
                        blocks.append((start, start + core.span))
                for exception in core.exceptions.values():
                    if cal.id in exception.copies and blocking(exception):
                        blocks.append(
                            (exception.start.start_in(cal.zone), exception.end.start_in(cal.zone))
                        )
                continue
            if blocking(core):
                blocks.append((core.start.start_in(cal.zone), core.end.start_in(cal.zone)))
        clipped = sorted(
            (max(start, low), min(end, high)) for start, end in blocks if end > low and start < high
        )
        merged: list[tuple[datetime, datetime]] = []
        for start, end in clipped:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def freebusy(self, call: Call) -> Reply:
        body = call.json()
        if not body.get("timeMin"):
            raise required("Missing timeMin parameter.", "timeMin")
        if not body.get("timeMax"):
            raise required("Missing timeMax parameter.", "timeMax")
        low = parse_query_time(str(body["timeMin"]), "timeMin")
        high = parse_query_time(str(body["timeMax"]), "timeMax")
        if low >= high:
            raise ApiError(
                400,
                "timeRangeEmpty",
                "The specified time range is empty.",
                domain="calendar",
                location="timeMax",
            )
        tz = zone(str(body.get("timeZone") or "UTC"))
        items = body.get("items") or []
        expansion_max = body.get("calendarExpansionMax")
        if expansion_max is not None and (
            not isinstance(expansion_max, int) or expansion_max > FREEBUSY_MAX
        ):
            raise invalid("Invalid value for calendarExpansionMax.", "calendarExpansionMax")
        limit = min(expansion_max or FREEBUSY_MAX, FREEBUSY_MAX)
        if len(items) > limit and self.freebusy_overflow == "400":
            raise bad_request(
                "The number of calendars requested is too large for a single query.",
                "tooManyCalendarsRequested",
                location="items",
            )
        requester = self.users.get(call.user)
        calendars: dict[str, Any] = {}
        for index, item in enumerate(items):
            wanted = str((item or {}).get("id", ""))
            if index >= limit:
                calendars[wanted] = {
                    "errors": [{"domain": "calendar", "reason": "tooManyCalendarsRequested"}],
                    "busy": [],
                }
                continue
            cid = call.user if wanted == "primary" else wanted.lower()
            cal = self.calendars.get(cid)
            owner = self.users.get(cid)
            visible = cal is not None and (
                cid == call.user
                or (
                    requester is not None and owner is not None and owner.domain == requester.domain
                )
            )
            if not visible or cal is None:
                calendars[wanted] = {
                    "errors": [{"domain": "global", "reason": "notFound"}],
                    "busy": [],
                }
                continue
            calendars[wanted] = {
                "busy": [
                    {"start": rfc3339(start, tz), "end": rfc3339(end, tz)}
                    for start, end in self.busy(cal, low, high)
                ]
            }
        return Reply(
            200,
            {
                "kind": "calendar#freeBusy",
                "timeMin": rfc3339_ms(low),
                "timeMax": rfc3339_ms(high),
                "calendars": calendars,
            },
        )

    # ------------------------------------------------------------------ control API

    def stored(self, email: str) -> list[dict[str, Any]]:
        """Every stored resource of a calendar (series, exceptions, deleted ones)."""
        cal = self.calendars[email.lower()]
        return [
            self.render(core, cal.id, force=True)
            for core in sorted(cal.events.values(), key=lambda c: c.order)
        ]
