"""iCalendar (RFC 5545) for the product: render a series, read one back, read busy time.

Pure: no file or network I/O and no clock (the one timer, ``OBJECT_SECONDS``, bounds the CPU
time an object's expansion may take, like the other limits); callers pass bytes in and get
bytes or values out.

- ``render(spec, dtstamp)`` writes a ``SeriesSpec`` as one VCALENDAR (VTIMEZONEs, the master
  VEVENT with RRULE/EXDATE, one VEVENT per RECURRENCE-ID override; or a single make-up event),
  byte-identical for the same input. An agenda (``Attachment``) on an override or on a
  make-up's master is written as ``ATTACH;FMTTYPE=text/html:<url>`` (RFC 5545 3.8.1.1).
- ``fingerprint(spec)`` is the ``X-ONEONONE-HASH`` stamped on what ``render`` writes: it changes
  exactly when something that matters in the spec changes (never the SEQUENCE or DTSTAMP).
- ``parse_object(data, href)`` parses a calendar object into its VCALENDARs.
- ``observe(data, href)`` / ``observe_parsed`` turn a calendar object (as written by us, khal,
  Thunderbird, Apple Calendar, ...) into an ``ObservedSeries``.
- ``busy_from_object(...)`` / ``busy_from_parsed`` expand an object's events over a window into
  busy intervals and out-of-office days.

Every problem with the input becomes a ``ValueError`` whose message is one plain sentence that
names the object (its href) and what is wrong; no other exception escapes the readers.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import threading
import time as _time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar, Component, Event, vCalAddress, vText
from icalendar.error import GloballyUniqueTZIDGuessed
from icalendar.timezone import tzp

from scheduler.domain.series import (
    Attachment,
    InstanceOverride,
    ObservedInstance,
    ObservedSeries,
    SeriesSpec,
    utc,
)
from scheduler.vtimezone import vtimezone

__all__ = [
    "AGENDA_LINKS_KEPT",
    "HASH_PROPERTY",
    "MAX_DATES",
    "MAX_INSTANCES",
    "MAX_INSTANCE_LENGTH",
    "MAX_LINES",
    "MAX_RULE_STEPS",
    "MAX_ZONE_STEPS",
    "OBJECT_SECONDS",
    "PAIR_PROPERTY",
    "PRODID",
    "PRODUCT_UID_PREFIX",
    "WEEK_PROPERTY",
    "busy_from_object",
    "busy_from_parsed",
    "fingerprint",
    "fold_line",
    "is_product_object",
    "links_line",
    "observe",
    "observe_parsed",
    "observed_written",
    "parse_object",
    "reach_from_parsed",
    "render",
    "screen",
    "with_recent_links",
]

PRODID = "-//oneonone//EN"

#: Agenda links stay on the instances of the latest four weeks that carry one (past or
#: coming): an instance overridden only to carry its link leaves the series once four later
#: weeks carry theirs, so a series does not grow by one override a week for ever (its
#: fingerprint, rendering and parsing, every client's sync with it, and on Google and
#: Microsoft 365 a patch of every past week's words whenever the series' description
#: changed). Older agendas are one "previous agenda" link away from a recent one, and in the
#: ledger; moved, cancelled and answered instances are always kept. By count, not age: a
#: week without a 1:1 (a close week) drops no link, so it rewrites no series.
AGENDA_LINKS_KEPT = 4
PAIR_PROPERTY = "X-ONEONONE-PAIR"
HASH_PROPERTY = "X-ONEONONE-HASH"
WEEK_PROPERTY = "X-ONEONONE-WEEK"

#: Most instances one object may expand to within one read window; beyond it the object is
#: hostile or broken (an hourly rule over a long window, say) and is reported, not expanded.
MAX_INSTANCES = 5000

#: Most RDATE plus EXDATE values one object may list (a weekly series kept for 20 years has about
#: a thousand); counted on the raw bytes before parsing, since parsing the values is the cost
#: (100,000 of them took 10 s).
MAX_DATES = 2000
#: Most content lines one object may have; parsing costs about 0.15 ms a line.
MAX_LINES = 10_000
#: Rule steps the expander may walk from an event's DTSTART to the window's end: dateutil
#: walks every step from the start, whatever the window.
MAX_RULE_STEPS = 200_000
#: Longest a recurring event's instance may last; an end years before (or after) its start
#: makes the expander look back (or ahead) that far for instances that overlap the window.
MAX_INSTANCE_LENGTH = timedelta(days=366)
#: Offset changes one VTIMEZONE rule may give from its DTSTART to ``_ZONE_HORIZON``: dateutil
#: walks a zone's rule from its start on every offset it looks up. A real zone's rule gives one
#: or two a year (Outlook's start in 1601: about 500); a hostile one, millions.
MAX_ZONE_STEPS = 20_000
_ZONE_HORIZON = 2100
#: CPU seconds (of the reading thread) expanding one object may take. Not the pass's clock:
#: a budget on work, like the limits above, so a heavy object is refused, not waited for.
OBJECT_SECONDS = 0.5

#: UIDs the product generates (``series_uid``/``makeup_uid``); a copy that lost its tag to a
#: client that drops unknown properties is still the product's.
PRODUCT_UID_PREFIX = "oneonone-"

#: Bumped when ``render`` changes what it writes, so every stamped object gets rewritten once.
_RENDER_VERSION = 2

# Thunderbird and Evolution write vendor-prefixed TZIDs ("/mozilla.org/.../America/New_York");
# icalendar reads them as the IANA zone, which is right, and warns on every parse, which would
# flood the daemon's log.
warnings.filterwarnings("ignore", category=GloballyUniqueTZIDGuessed)

_DEFAULT_ORGANIZER_PARTSTAT = "ACCEPTED"
_DEFAULT_ATTENDEE_PARTSTAT = "NEEDS-ACTION"

# Frequencies no real meeting uses; dateutil can spin for a very long time looking for the next
# instance of an impossible sub-daily rule, so such objects are refused before expansion.
_REFUSED_FREQUENCIES = frozenset({"SECONDLY", "MINUTELY"})

# Instances per day of each frequency, for bounding a rule before it is expanded.
_PER_DAY = {"YEARLY": 1 / 365, "MONTHLY": 1 / 28, "WEEKLY": 1 / 7, "DAILY": 1.0, "HOURLY": 24.0}
_EXPANDING_PARTS = (
    "BYMONTH",
    "BYWEEKNO",
    "BYYEARDAY",
    "BYMONTHDAY",
    "BYDAY",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
    "BYSETPOS",
)


# --------------------------------------------------------------------------- render


def _zone_of(spec: SeriesSpec) -> tzinfo:
    zone = spec.dtstart.tzinfo
    if zone is None:
        raise ValueError(f"series {spec.uid}: dtstart {spec.dtstart.isoformat()} has no time zone")
    # Only IANA zones can be written as TZID + VTIMEZONE; anything else (a fixed offset) is
    # written in UTC, which names the same instants.
    return zone if isinstance(zone, ZoneInfo) else UTC


def _partstat(partstats: Iterable[tuple[str, str]], email: str) -> str | None:
    wanted = email.lower()
    for who, answer in partstats:
        if who.lower() == wanted:
            return answer.upper()
    return None


def _effective_partstats(
    spec: SeriesSpec, override: InstanceOverride | None = None
) -> tuple[str, str]:
    """The (organizer, attendee) PARTSTATs written: the override's, else the master's, else
    the defaults."""
    if override is not None and not override.partstats:
        override = None  # no answers of its own: the master's (most overrides)
    answers: list[str] = []
    for email, default in (
        (spec.organizer_email, _DEFAULT_ORGANIZER_PARTSTAT),
        (spec.attendee_email, _DEFAULT_ATTENDEE_PARTSTAT),
    ):
        answer = None
        if override is not None:
            answer = _partstat(override.partstats, email)
        if answer is None:
            answer = _partstat(spec.partstats, email)
        answers.append(answer or default)
    return answers[0], answers[1]


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    for key, value in params.items():
        address.params[key.upper()] = value
    return address


def _add_people(event: Event, spec: SeriesSpec, partstats: tuple[str, str]) -> None:
    event.add("organizer", _address(spec.organizer_email, spec.organizer_name))
    event.add(
        "attendee",
        _address(spec.organizer_email, spec.organizer_name, role="CHAIR", partstat=partstats[0]),
    )
    event.add(
        "attendee",
        _address(
            spec.attendee_email, spec.attendee_name, role="REQ-PARTICIPANT", partstat=partstats[1]
        ),
    )


def _span_dates(spec: SeriesSpec) -> tuple[date, date]:
    """The date range the VTIMEZONEs must cover: every instant the object names, with margin."""
    moments = [spec.dtstart, *spec.exdates]
    for override in spec.overrides:
        moments += [override.recurrence_id, override.start, override.end]
    if spec.until is not None:
        moments.append(spec.until)
    first = min(utc(m) for m in moments).date()
    last = max(utc(m) for m in moments).date()
    # An open-ended series keeps going; ten years is longer than any object goes unrewritten,
    # and readers that know the TZID (all of them, for IANA names) ignore the rules anyway.
    return date(first.year - 1, 1, 1), date(max(last.year, first.year + 10) + 1, 1, 1)


def render(spec: SeriesSpec, dtstamp: datetime, *, digest: str | None = None) -> bytes:
    """``spec`` as one VCALENDAR, byte-identical for the same ``spec`` and ``dtstamp``;
    ``digest``: ``fingerprint(spec)`` when the caller has it (it serialises every override)."""
    if spec.duration <= timedelta(0):
        raise ValueError(f"series {spec.uid}: duration {spec.duration} is not positive")
    zone = _zone_of(spec)
    stamp = utc(dtstamp)
    digest = digest or fingerprint(spec)

    def local(moment: datetime) -> datetime:
        return utc(moment).astimezone(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")

    master = Event()
    master.add("uid", spec.uid)
    master.add("dtstamp", stamp)
    start = local(spec.dtstart)
    master.add("dtstart", start)
    # The end is computed on the absolute timeline so a meeting across a DST change keeps its
    # length (aware arithmetic in one ZoneInfo is wall-clock arithmetic).
    master.add("dtend", local(utc(start) + spec.duration))
    master.add("summary", spec.summary)
    master.add("description", spec.description)
    _add_people(master, spec, _effective_partstats(spec))
    exdates = sorted({utc(moment) for moment in spec.exdates})
    if spec.makeup_week is None:
        rule: dict[str, Any] = {"FREQ": "WEEKLY"}
        if spec.until is not None:
            rule["UNTIL"] = utc(spec.until)
        master.add("rrule", rule)
        if exdates:
            # icalendar writes the first date (the property, its TZID); ``_with_dates`` the
            # rest: a year-old series has dozens, each a value object with its own zone lookup.
            master.add("exdate", [exdates[0].astimezone(zone)])
    _add_attachment(master, spec.attachment)
    master.add("sequence", spec.sequence)
    master.add(PAIR_PROPERTY, spec.pair_key)
    if spec.makeup_week is not None:
        master.add(WEEK_PROPERTY, spec.makeup_week)
    master.add(HASH_PROPERTY, digest)
    # The master's lines are made once, for the object and for its overrides' shared lines
    # (serialising its EXDATE list and description twice was a sixth of a weekly pass).
    master_lines = [line for line in master.content_lines() if line]
    if len(exdates) > 1 and spec.makeup_week is None:  # a make-up holds no EXDATE
        master_lines = [
            _with_dates(line, exdates[1:], zone) if _line_name(line) == "EXDATE" else line
            for line in master_lines
        ]

    overrides = _kept_overrides(spec)

    if isinstance(zone, ZoneInfo):
        # Built from the zone's real transitions (``scheduler.vtimezone``), not icalendar's
        # ``Timezone.from_tzinfo``, which writes every DAYLIGHT onset an hour late.
        first, last = _span_dates(spec)
        calendar.add_component(vtimezone(zone.key, first, last))
    head = _to_ical(calendar)
    end = b"END:VCALENDAR\r\n"
    assert head.endswith(end)
    parts = [head[: -len(end)], *(_folded(line) for line in master_lines)]
    if overrides:
        lines = _OverrideLines(spec, master_lines, stamp, local)
        parts += [lines.render(override) for override in overrides]
    parts.append(end)
    return b"".join(parts)


def _with_dates(line: str, moments: Iterable[datetime], zone: tzinfo) -> str:
    """``line``, a date-time list property icalendar wrote, with ``moments`` (in ``zone``)
    added at its end, each as icalendar writes it (``_stamp``, and a "Z" for UTC, which the
    line's own value tells)."""
    suffix = "Z" if line.endswith("Z") else ""
    return ",".join([line, *(_stamp(moment.astimezone(zone)) + suffix for moment in moments)])


def _stamp(moment: datetime) -> str:
    """A date-time value as icalendar's ``vDatetime.to_ical`` writes it, to the second and
    without its "Z": ``YYYYMMDDTHHMMSS`` of ``moment``'s wall clock."""
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}T"
        f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    )


def _kept_overrides(spec: SeriesSpec) -> list[InstanceOverride]:
    """The overrides an object holds, in order: all but those that only carry an agenda link
    older than the latest ``AGENDA_LINKS_KEPT`` such; none for a make-up."""
    if spec.makeup_week is None:
        return _recent_links(spec)
    return []


def _link_only(spec: SeriesSpec, overrides: Iterable[InstanceOverride]) -> list[InstanceOverride]:
    """Those of ``overrides`` that only carry an agenda link (``_only_links``), in order."""
    master = _effective_partstats(spec)
    return [item for item in overrides if _only_links(spec, item, master)]


def _recent_links(spec: SeriesSpec) -> list[InstanceOverride]:
    ordered = sorted(spec.overrides, key=lambda item: utc(item.recurrence_id))
    linked = _link_only(spec, ordered)
    if len(linked) <= AGENDA_LINKS_KEPT:
        return ordered
    dropped = {id(item) for item in linked[: len(linked) - AGENDA_LINKS_KEPT]}
    return [item for item in ordered if id(item) not in dropped]


def with_recent_links(spec: SeriesSpec) -> SeriesSpec:
    """``spec`` without the overrides that only carry an agenda link older than the latest
    ``AGENDA_LINKS_KEPT`` such (see there): what a series is, for every provider."""
    kept = _recent_links(spec)
    if len(kept) == len(spec.overrides):
        return spec
    return replace(spec, overrides=tuple(kept))


def links_line(spec: SeriesSpec) -> datetime | None:
    """The instant (UTC) before which ``spec`` no longer speaks for instances that only carry
    words and an agenda link (``with_recent_links`` let them go): a calendar that keeps each
    instance apart (Google, Microsoft 365) leaves those as they are, not back to the rule;
    ``None`` while it holds every link it had."""
    if spec.makeup_week is not None:
        return None
    linked = _link_only(spec, spec.overrides)
    if len(linked) < AGENDA_LINKS_KEPT:
        return None
    return min(utc(item.recurrence_id) for item in linked)


def _only_links(
    spec: SeriesSpec, override: InstanceOverride, master: tuple[str, str] | None = None
) -> bool:
    """Whether the override only carries an agenda link: the instance at the rule's time,
    not cancelled, with the master's answers (``master``: ``_effective_partstats(spec)``)."""
    return (
        override.attachment is not None
        and not override.cancelled
        and utc(override.start) == utc(override.recurrence_id)
        and utc(override.end) == utc(override.recurrence_id) + spec.duration
        and _effective_partstats(spec, override) == (master or _effective_partstats(spec))
    )


def _to_ical(component: Component) -> bytes:
    """``component.to_ical()``, the same bytes, folded fast: icalendar folds each content line
    a character at a time, which was half of rendering a series with a year of overrides."""
    return b"".join(
        fold_line(line).encode("utf-8") + b"\r\n" for line in component.content_lines() if line
    )


def fold_line(line: str, limit: int = 75) -> str:
    """A content line folded as icalendar folds it (RFC 5545 3.1: parts of fewer than
    ``limit`` octets joined by CRLF and a space; an escape's backslash or caret starts the next
    part rather than ending one), sliced at once when the line is ASCII."""
    if line.isascii():
        width = limit - 1
        if len(line) <= width:
            return line
        parts: list[str] = []
        begin = 0
        while len(line) - begin > width:
            end = begin + width
            if line[end - 1] in "\\^":
                end -= 1
            parts.append(line[begin:end])
            begin = end
        parts.append(line[begin:])
        return "\r\n ".join(parts)
    folded: list[str] = []
    current: list[str] = []
    count = 0
    for char in line:
        size = len(char.encode("utf-8"))
        if current and count + size >= limit:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                folded.append("".join(current))
                current, count = [carried], len(carried.encode("utf-8"))
            else:
                folded.append("".join(current))
                current, count = [], 0
        current.append(char)
        count += size
    if current:
        folded.append("".join(current))
    return "\r\n ".join(folded)


class _OverrideLines:
    """A series' overrides as bytes, each the same as ``_to_ical(_render_override(...))``
    (``tests/unit/test_ical_render.py`` holds the two side by side), without icalendar.

    Written by hand because icalendar builds and sorts a component and a parameter map for
    every property of every override: a series with a year of moved weeks spent most of its
    rendering there, and every weekly pass rewrites every series. What varies between a
    series' overrides (times, description, link, status) is formatted here; the lines whose
    escaping and quoting icalendar decides (SUMMARY, UID, the people, the time parameters)
    are icalendar's own, made once per series (and once per set of answers)."""

    def __init__(
        self, spec: SeriesSpec, master_lines: list[str], stamp: datetime, local: Any
    ) -> None:
        self.spec, self.stamp, self.local = spec, stamp, local
        found: dict[str, str] = {}
        for line in master_lines:
            name = _line_name(line)
            if name in ("SUMMARY", "DTSTAMP", "UID", "SEQUENCE", "DTSTART"):
                found.setdefault(name, line)
        self.summary = _folded(found["SUMMARY"])
        self.dtstamp = _folded(found["DTSTAMP"])
        self.uid = _folded(found["UID"])
        self.sequence = _folded(found["SEQUENCE"])
        # ";TZID=Zone/Name" (or nothing, for UTC) and the value's "Z", as icalendar wrote
        # the master's start.
        start = found["DTSTART"]
        colon = start.rindex(":")
        self.time_params = start[len("DTSTART") : colon]
        self.time_suffix = "Z" if start.endswith("Z") else ""
        self._people: dict[tuple[str, str], tuple[bytes, bytes]] = {}

    def render(self, override: InstanceOverride) -> bytes:
        spec, local = self.spec, self.local
        moments = (local(override.start), local(override.end), local(override.recurrence_id))
        if any(moment.microsecond for moment in moments):
            return _to_ical(_render_override(spec, override, self.stamp, local))
        start, end, original = moments
        attendees, organizer = self._people_lines(_effective_partstats(spec, override))
        parts = [
            b"BEGIN:VEVENT\r\n",
            self.summary,
            self._time("DTSTART", start),
            self._time("DTEND", end),
            self.dtstamp,
            self.uid,
            self._time("RECURRENCE-ID", original),
            self.sequence,
        ]
        if override.attachment is not None:
            parts.append(_folded(f"ATTACH;FMTTYPE=text/html:{override.attachment.url}"))
        parts.append(attendees)
        description = override.description or spec.description
        parts.append(_folded("DESCRIPTION:" + vText(description).to_ical().decode("utf-8")))
        parts.append(organizer)
        if override.cancelled:
            parts.append(b"STATUS:CANCELLED\r\n")
        parts.append(b"END:VEVENT\r\n")
        return b"".join(parts)

    def _time(self, name: str, moment: datetime) -> bytes:
        return _folded(f"{name}{self.time_params}:{_stamp(moment)}{self.time_suffix}")

    def _people_lines(self, partstats: tuple[str, str]) -> tuple[bytes, bytes]:
        """(the ATTENDEE lines, the ORGANIZER line) for these answers, as icalendar writes
        them."""
        found = self._people.get(partstats)
        if found is None:
            event = Event()
            _add_people(event, self.spec, partstats)
            attendees: list[bytes] = []
            organizer = b""
            for line in event.content_lines():
                name = _line_name(line)
                if name == "ATTENDEE":
                    attendees.append(_folded(line))
                elif name == "ORGANIZER":
                    organizer = _folded(line)
            found = self._people[partstats] = (b"".join(attendees), organizer)
        return found


def _line_name(line: str) -> str:
    """A content line's property name (before its first ``;`` or ``:``)."""
    for index, char in enumerate(line):
        if char in ";:":
            return line[:index].upper()
    return line.upper()


def _folded(line: str) -> bytes:
    return fold_line(line).encode("utf-8") + b"\r\n"


def _render_override(
    spec: SeriesSpec,
    override: InstanceOverride,
    stamp: datetime,
    local: Any,
) -> Event:
    event = Event()
    event.add("uid", spec.uid)
    event.add("dtstamp", stamp)
    event.add("recurrence-id", local(override.recurrence_id))
    event.add("dtstart", local(override.start))
    event.add("dtend", local(override.end))
    event.add("summary", spec.summary)
    event.add("description", override.description or spec.description)
    _add_people(event, spec, _effective_partstats(spec, override))
    _add_attachment(event, override.attachment)
    event.add("sequence", spec.sequence)
    if override.cancelled:
        event.add("status", "CANCELLED")
    return event


def _add_attachment(event: Event, attachment: Attachment | None) -> None:
    # A URI value (VALUE=URI is the default for ATTACH); FMTTYPE says what opening it gives: the
    # agenda page the feed server serves, or a Google Doc. Clients show it as a link.
    if attachment is not None:
        event.add("attach", attachment.url, parameters={"FMTTYPE": "text/html"})


def _attachment_key(attachment: Attachment | None) -> list[str] | None:
    return None if attachment is None else [attachment.url, attachment.title]


def _zone_name(moment: datetime) -> str:
    zone = moment.tzinfo
    return str(getattr(zone, "key", None) or zone)


def fingerprint(spec: SeriesSpec) -> str:
    """A hex digest of everything ``render`` writes from ``spec``, except SEQUENCE and DTSTAMP.

    Built from a canonical JSON text (sorted keys, sorted collections, UTC instants), so it is
    the same in every process and on every machine.
    """
    organizer_partstat, attendee_partstat = _effective_partstats(spec)
    overrides: list[dict[str, Any]] = []
    for item in sorted(spec.overrides, key=lambda item: utc(item.recurrence_id)):
        entry: dict[str, Any] = {
            "recurrence_id": utc(item.recurrence_id).isoformat(),
            "start": utc(item.start).isoformat(),
            "end": utc(item.end).isoformat(),
            "description": item.description or spec.description,
            "cancelled": item.cancelled,
            "partstats": list(_effective_partstats(spec, item)),
        }
        # Only when there is one: objects written before attachments existed keep their
        # fingerprint, so an upgrade rewrites nothing.
        if item.attachment is not None:
            entry["attachment"] = _attachment_key(item.attachment)
        overrides.append(entry)
    payload = {
        "version": _RENDER_VERSION,
        "uid": spec.uid,
        "pair": spec.pair_key,
        "summary": spec.summary,
        "description": spec.description,
        "organizer": [spec.organizer_email.lower(), spec.organizer_name, organizer_partstat],
        "attendee": [spec.attendee_email.lower(), spec.attendee_name, attendee_partstat],
        # Wall clock and zone both matter: the rule repeats the wall-clock time in that zone.
        "dtstart": spec.dtstart.replace(tzinfo=None).isoformat(),
        "zone": _zone_name(spec.dtstart),
        "duration": spec.duration.total_seconds(),
        "until": utc(spec.until).isoformat() if spec.until is not None else None,
        "exdates": sorted({utc(moment).isoformat() for moment in spec.exdates}),
        "overrides": overrides,
        "makeup_week": spec.makeup_week,
    }
    if spec.attachment is not None:
        payload["attachment"] = _attachment_key(spec.attachment)
    if spec.makeup_week is not None:
        # render writes neither for a make-up; they must not force a rewrite either.
        payload["exdates"] = []
        payload["overrides"] = []
        payload["until"] = None
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


# --------------------------------------------------------------------------- parse


def _problem(href: str, what: str) -> ValueError:
    where = href or "calendar object"
    return ValueError(f"{where}: cannot read calendar object: {what}")


def _one_line(text: str, limit: int = 200) -> str:
    """``text`` (a library's message, a name from the file) as one line of at most ``limit``
    characters: a problem is one sentence, whatever the file holds."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(exc: BaseException) -> str:
    """What went wrong, in words a person can act on (library messages trimmed to a line)."""
    text = _one_line(str(exc))
    if isinstance(exc, KeyError):
        return f"a required property is missing ({text})"
    if isinstance(exc, TypeError | AttributeError | LookupError):
        # The libraries trip over malformed values with these; their text is a hint only.
        return f"an event is malformed ({text or type(exc).__name__})"
    return text or type(exc).__name__


def screen(data: bytes, href: str = "") -> None:
    """Refuse, before any parsing, an object whose size alone would make reading it slow:
    more than ``MAX_LINES`` content lines or ``MAX_DATES`` RDATE/EXDATE values.

    Raises ``ValueError`` (one sentence naming ``href``). Linear in ``len(data)``.
    """
    lines = data.count(b"\n") + 1
    if lines > MAX_LINES:
        raise _problem(href, f"it has {lines} lines, more than the {MAX_LINES} oneonone reads")
    if b"DATE" not in data.upper():
        return
    values = 0
    listing = False
    for line in data.splitlines():
        if line[:1] in (b" ", b"\t"):
            # A folded continuation of the line before (RFC 5545 3.1).
            if listing:
                values += line.count(b",")
            continue
        head = line[:6].upper()
        listing = head in (b"RDATE;", b"RDATE:", b"EXDATE")
        if listing:
            values += line.count(b",") + 1
    if values > MAX_DATES:
        raise _problem(
            href,
            f"it lists {values} RDATE and EXDATE values, more than the {MAX_DATES} oneonone reads",
        )


def parse_object(data: bytes, href: str = "") -> list[Calendar]:
    """The VCALENDARs in ``data`` (normally one), X-WR-TIMEZONE calendars made standard.

    Raises ``ValueError`` (one sentence naming ``href``) when ``data`` is empty, truncated or
    not iCalendar at all.
    """
    if not data.strip():
        raise _problem(href, "the file is empty")
    screen(data, href)
    try:
        parsed = _from_ical_alone(data)
    except Exception as exc:  # icalendar raises many types on hostile input
        raise _problem(href, f"not valid iCalendar ({_reason(exc)})") from exc
    calendars = parsed if isinstance(parsed, list) else [parsed]
    if not calendars:
        # icalendar silently drops a VCALENDAR that never ends (a truncated file).
        raise _problem(href, "no complete VCALENDAR (the file may be truncated)")
    result: list[Calendar] = []
    for calendar in calendars:
        if calendar.name != "VCALENDAR":
            name = _one_line(calendar.name, 60)  # the file's own text
            raise _problem(href, f"it holds a {name} where a VCALENDAR belongs")
        _refuse_hostile_zones(calendar, href)
        if "X-WR-TIMEZONE" in calendar:
            try:
                calendar = x_wr_timezone.to_standard(calendar)
            except Exception as exc:
                raise _problem(href, f"bad X-WR-TIMEZONE ({_reason(exc)})") from exc
        result.append(calendar)
    return result


# icalendar keeps the zones of custom TZIDs ("Customized Time Zone", "custom_Pacific/Fiji") in
# one process-wide cache, first definition wins: without the reset below, one file's VTIMEZONE
# would decide how every later file naming the same TZID is read (Outlook names every custom
# zone alike), and a hostile one would stall every later read. ``use_zoneinfo`` is the public
# way to empty it; the lock keeps two threads' objects apart.
_ZONE_CACHE_LOCK = threading.Lock()


def _from_ical_alone(data: bytes) -> Calendar | list[Calendar]:
    """``Calendar.from_ical(data, multiple=True)`` with custom TZIDs resolved from ``data``'s
    own VTIMEZONEs only (IANA names are always the system's zones)."""
    with _ZONE_CACHE_LOCK:
        tzp.use_zoneinfo()
        try:
            return Calendar.from_ical(data, multiple=True)
        finally:
            tzp.use_zoneinfo()


def _refuse_hostile_zones(calendar: Calendar, href: str) -> None:
    """Raise ``ValueError`` (naming ``href``) for a VTIMEZONE whose rules could not be a time
    zone's and would be slow to look offsets up in: a frequency below monthly, an INTERVAL
    that is not a positive whole number, or more than ``MAX_ZONE_STEPS`` changes before
    ``_ZONE_HORIZON``. Checked before any time is read in it."""
    for zone in calendar.walk("VTIMEZONE"):
        name = _one_line(_text(zone, "TZID") or "", 60) or "with no TZID"  # the file's text
        for part in zone.subcomponents:
            try:
                first = _dt(part, "DTSTART")
            except (ValueError, AttributeError):
                first = None
            for rule in _rules(part):
                freq = str((_rule_values(rule, "FREQ") or [""])[0]).upper()
                if freq not in ("YEARLY", "MONTHLY"):
                    raise _problem(
                        href,
                        f"its time zone {name} changes offset {freq.lower() or 'with no FREQ'}, "
                        "which no time zone does",
                    )
                try:
                    interval = int((_rule_values(rule, "INTERVAL") or [1])[0])
                except (TypeError, ValueError):
                    interval = 0
                if interval < 1:
                    raise _problem(
                        href, f"its time zone {name} has an INTERVAL that is not a positive number"
                    )
                spread = 1
                for key in _EXPANDING_PARTS:
                    spread *= max(1, len(_rule_values(rule, key)))
                years = max(0, _ZONE_HORIZON - (first.year if first is not None else 1))
                steps = years * (12 if freq == "MONTHLY" else 1) * spread // interval
                if steps > MAX_ZONE_STEPS:
                    raise _problem(
                        href,
                        f"its time zone {name} has a rule of about {steps} offset changes, more "
                        f"than the {MAX_ZONE_STEPS} oneonone reads",
                    )


def _events(calendars: Sequence[Calendar]) -> list[Event]:
    return [
        component
        for calendar in calendars
        for component in calendar.walk("VEVENT")
        if isinstance(component, Event)
    ]


def _text(component: Component, name: str) -> str | None:
    value = component.get(name)
    if value is None:
        return None
    if isinstance(value, list):  # the property appears more than once: the first one wins
        value = value[0]
    return str(value).strip()


def _email(value: object) -> str:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return _shared(text.strip().lower())


#: A text read from an object, shared with every equal one read (``sys.intern``; CPython frees
#: an interned text no one holds). The read memos keep what thousands of objects gave, and
#: their e-mail addresses, answers and descriptions repeat: both copies of a series say the
#: same, and every pair's copy names its manager (issue 17: memory at 10,000 pairs).
_shared = sys.intern


class _Moments:
    """Equal moments read from objects, made once and shared: the read memos keep every
    product object's EXDATEs and instance times, and they repeat (both copies of a series
    skip the same weeks, every series of a slot the same close weeks, a rewrite keeps the
    weeks it had): a year-old 2,000-pair org held 99,900 EXDATE datetimes of 200 values
    (issue 17). A moment is keyed with its zone object and fold, so one shared is identical
    to the one it stands for, not merely equal (aware times compare as instants); the zone by
    its ``id`` (dateutil's zones cannot be hashed; the moment kept holds its zone, so no
    other zone can have that ``id`` meanwhile). Bounded: emptied when full, which costs
    sharing, never correctness."""

    __slots__ = ("_found", "_limit")

    def __init__(self, limit: int) -> None:
        self._found: dict[tuple[datetime, int, int], datetime] = {}
        self._limit = limit

    def __call__(self, moment: datetime) -> datetime:
        key = (moment, id(moment.tzinfo), moment.fold)
        found = self._found.get(key)
        if found is None:
            if len(self._found) >= self._limit:
                self._found.clear()
            found = self._found[key] = moment
        return found


_moment = _Moments(1 << 16)

#: The EXDATEs of an object that has none (every make-up): one empty set for all of them.
_NO_DATES: frozenset[datetime] = frozenset()


def _answers_shared(
    answers: dict[str, str], seen: dict[tuple[tuple[str, str], ...], dict[str, str]]
) -> dict[str, str]:
    """``answers``, or an equal dict (same order) already in ``seen``, the answers of one
    object's master and instances: most of them say the same (issue 17). Callers treat them
    as read-only, as every read result is."""
    return seen.setdefault(tuple(answers.items()), answers)


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _after(start: datetime, length: timedelta) -> datetime:
    """``length`` after ``start`` on the absolute timeline, in ``start``'s zone."""
    return (utc(start) + length).astimezone(start.tzinfo)


def _aware(value: date | datetime, zone: tzinfo, at: time | None = None) -> datetime:
    """``value`` as an aware datetime: floating times read in ``zone``; a DATE at ``at``
    (midnight by default) in ``zone``."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return datetime.combine(value, at or time(0)).replace(tzinfo=zone)


def _dt(component: Component, name: str) -> date | datetime | None:
    prop = component.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):
        prop = prop[0]
    value = prop.dt
    if not isinstance(value, date):
        raise ValueError(f"{name} is not a date or date-time")
    return value


def _rules(component: Component) -> list[Any]:
    return _as_list(component.get("RRULE"))


def _rule_values(rule: Any, key: str) -> list[Any]:
    values = rule.get(key) if hasattr(rule, "get") else None
    return _as_list(values)


def _is_weekly(rules: list[Any]) -> bool:
    """One plain weekly rule: FREQ=WEEKLY, every week, on at most one weekday."""
    if len(rules) != 1:
        return False
    rule = rules[0]
    freq = [str(value).upper() for value in _rule_values(rule, "FREQ")]
    interval = _rule_values(rule, "INTERVAL")
    by_day = _rule_values(rule, "BYDAY")
    return freq == ["WEEKLY"] and all(int(v) == 1 for v in interval) and len(by_day) <= 1


def _attendee_answers(component: Component) -> tuple[dict[str, str], frozenset[str]]:
    answers: dict[str, str] = {}
    for attendee in _as_list(component.get("ATTENDEE")):
        email = _email(attendee)
        if not email:
            continue
        params = getattr(attendee, "params", {})
        answers[email] = _shared(str(params.get("PARTSTAT", "NEEDS-ACTION")).upper())
    return answers, frozenset(answers)


def _duration(component: Component, start: date | datetime) -> timedelta:
    end = _dt(component, "DTEND")
    if end is not None:
        if isinstance(start, datetime) and isinstance(end, datetime):
            zone = start.tzinfo or UTC
            # Through UTC: subtracting two datetimes of one ZoneInfo ignores a DST change.
            return utc(_aware(end, zone)) - utc(_aware(start, zone))
        if isinstance(start, datetime) or isinstance(end, datetime):
            # Some clients mix a DATE start with a DATE-TIME end (or the reverse): read the
            # date as its midnight, the way they mean it.
            timed = start if isinstance(start, datetime) else end
            zone = (timed.tzinfo if isinstance(timed, datetime) else None) or UTC
            return utc(_aware(end, zone)) - utc(_aware(start, zone))
        return end - start
    duration = component.get("DURATION")
    if duration is not None:
        value = duration.dt
        if not isinstance(value, timedelta):
            raise ValueError("DURATION is not a duration")
        return value
    # RFC 5545 3.6.1: no end means a day for a DATE start and no length for a DATE-TIME one.
    return timedelta(0) if isinstance(start, datetime) else timedelta(days=1)


class _Normaliser:
    """Turns the master's dates and date-times into aware UTC keys, the way instances are
    keyed: a DATE where a DATE-TIME series expects one means that day's instance."""

    def __init__(self, master_start: date | datetime, default_zone: tzinfo) -> None:
        if isinstance(master_start, datetime):
            self.zone = master_start.tzinfo or default_zone
            self.at: time | None = master_start.replace(tzinfo=None).time()
        else:
            self.zone = default_zone
            self.at = None

    def __call__(self, value: date | datetime) -> datetime:
        if isinstance(value, datetime):
            return utc(_aware(value, self.zone))
        return utc(_aware(value, self.zone, self.at))


#: Text ``observed_written`` takes as it is: what escaping and reading back give unchanged
#: (no backslash, carriage return or other control character than a line feed).
_PLAIN_TEXT = re.compile(r"[^\\\x00-\x09\x0b-\x1f\x7f]*")


def observed_written(
    spec: SeriesSpec,
    dtstamp: datetime,
    href: str,
    digest: str | None = None,
    previous: ObservedSeries | None = None,
) -> ObservedSeries | None:
    """What ``observe(render(spec, dtstamp), href)`` gives, without rendering or reading the
    bytes back (``tests/unit/test_ical.py`` holds the two side by side); ``None`` for a
    ``spec`` whose reading back it does not know exactly (a zone written as UTC, fractions of
    a second, text with escapes), which must then be read. ``digest``: ``fingerprint(spec)``
    when the caller has it. ``previous``: what the object held before this write; its
    instances that stay exactly the same are shared, not made again (issue 17: a year-old
    series has fifty, and a weekly pass held both sets of every series it rewrote).

    A provider that has just written an object keeps this as what the object holds: the next
    pass finds the object at the version written and need not parse it (every weekly pass
    rewrites every series, and parsing a year of overrides was most of the next pass)."""
    zone = _zone_of(spec)
    if not isinstance(zone, ZoneInfo) or zone.key.upper() == "UTC":
        return None
    texts = [spec.uid, spec.pair_key, spec.description, spec.organizer_email]
    texts += [spec.attendee_email, spec.makeup_week or ""]
    moments = [spec.dtstart, *spec.exdates, *([spec.until] if spec.until else [])]
    overrides = _kept_overrides(spec)
    for override in overrides:
        texts.append(override.description or spec.description)
        moments += [override.recurrence_id, override.start, override.end]
    if any(moment.microsecond for moment in moments) or spec.duration.microseconds:
        return None
    if not all(_PLAIN_TEXT.fullmatch(text) for text in texts):
        return None
    links = [spec.attachment] + [override.attachment for override in overrides]
    if any(link is not None and link.url != link.url.strip() for link in links):
        return None

    def local(moment: datetime) -> datetime:
        return utc(moment).astimezone(zone)

    # The answers the object held before are shared too: an instance kept from ``previous``
    # holds its dict, and a new one saying the same holds that one (a rewrite made its own,
    # and a year of weekly rewrites left a series' instances with one each).
    seen_answers: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    if previous is not None:
        for held in (previous.partstats, *(one.partstats for one in previous.overrides.values())):
            seen_answers.setdefault(tuple(held.items()), held)

    def answers(partstats: tuple[str, str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for email, answer in zip(
            (spec.organizer_email, spec.attendee_email), partstats, strict=True
        ):
            if email.strip():
                found[_shared(email.strip().lower())] = _shared(answer)
        return _answers_shared(found, seen_answers)

    # Only the moments kept are shared: a time made to compute a length would linger in
    # the pool unheld.
    start = _moment(local(spec.dtstart))
    instances: dict[datetime, ObservedInstance] = {}
    before = previous.overrides if previous is not None else {}
    for override in overrides:
        begins = _moment(local(override.start))
        made = ObservedInstance(
            recurrence_id=_moment(utc(override.recurrence_id)),
            start=begins,
            end=_moment(_after(begins, utc(local(override.end)) - utc(begins))),
            cancelled=override.cancelled,
            partstats=answers(_effective_partstats(spec, override)),
            description=_shared((override.description or spec.description).strip()),
            attachments=(override.attachment.url,) if override.attachment is not None else (),
        )
        kept = before.get(made.recurrence_id)
        instances[made.recurrence_id] = made if kept is None or not _same(kept, made) else kept
    master = answers(_effective_partstats(spec))
    weekly = spec.makeup_week is None
    exdates = _written_exdates(spec, previous) if weekly else _NO_DATES
    attendees = frozenset(master)
    if previous is not None and previous.attendees == attendees:
        attendees = previous.attendees
    return ObservedSeries(
        uid=_shared(spec.uid.strip()),
        pair_key=_shared(spec.pair_key.strip().lower()) or None,
        dtstart=start,
        duration=utc(local(utc(start) + spec.duration)) - utc(start),
        weekly=weekly,
        until=utc(spec.until) if weekly and spec.until is not None else None,
        exdates=exdates,
        overrides=instances,
        partstats=master,
        cancelled=False,
        attendees=attendees,
        organizer=_shared(spec.organizer_email.strip().lower()),
        fingerprint=digest or fingerprint(spec),
        sequence=spec.sequence,
        makeup_week=spec.makeup_week.strip() if spec.makeup_week else None,
        href=href,
        recurring=weekly,
        attachments=(spec.attachment.url,) if spec.attachment is not None else (),
    )


def _written_exdates(spec: SeriesSpec, previous: ObservedSeries | None) -> frozenset[datetime]:
    """The EXDATEs ``spec`` writes, as read back: the set ``previous`` held when they are the
    same (a week that skips no new week), and one set for both copies of a series (a pass
    writes one spec to both people's calendars, one after the other)."""
    global _LAST_EXDATES
    last = _LAST_EXDATES
    if last[0] is spec.exdates:  # held here, so never another tuple at a reused address
        return last[1]
    # Made from a set, which sizes the frozenset's table to fit: from a generator it grows in
    # fourfold steps, and 25 EXDATEs took 2,264 bytes instead of 1,240 (a year's rewrites kept
    # every series' set at the larger size).
    made = frozenset({_moment(utc(moment)) for moment in spec.exdates})
    if previous is not None and previous.exdates == made:
        made = previous.exdates
    _LAST_EXDATES = (spec.exdates, made)
    return made


#: The last spec's EXDATEs and the set ``_written_exdates`` gave for them.
_LAST_EXDATES: tuple[tuple[datetime, ...], frozenset[datetime]] = ((), frozenset())


def _same(kept: ObservedInstance, made: ObservedInstance) -> bool:
    """Whether ``kept`` can stand for ``made``: equal, and alike where equality looks away
    (aware times compare as instants, whatever their zone; dicts whatever their order)."""
    return (
        kept == made
        and kept.start.tzinfo is made.start.tzinfo
        and kept.end.tzinfo is made.end.tzinfo
        and list(kept.partstats.items()) == list(made.partstats.items())
    )


def observe(data: bytes, href: str, default_zone: tzinfo = UTC) -> ObservedSeries | None:
    """The series (or single event) in one calendar object, ``None`` when it holds no event.

    Floating times are read in ``default_zone``. Raises ``ValueError`` (one sentence naming
    ``href``) for anything unreadable.
    """
    return observe_parsed(parse_object(data, href), href, default_zone)


def observe_parsed(
    calendars: Sequence[Calendar], href: str, default_zone: tzinfo = UTC
) -> ObservedSeries | None:
    """``observe`` for an object already parsed with ``parse_object``."""
    try:
        return _observe(calendars, href, default_zone)
    except Exception as exc:  # icalendar and dateutil raise many types on hostile input
        raise _problem(href, _reason(exc)) from exc


def is_product_object(calendars: Sequence[Calendar]) -> bool:
    """Whether any event in the object is the product's: tagged, or with a product UID.

    Tells an unreadable object of ours (a problem to report) from someone else's.
    """
    for event in _events(calendars):
        if PAIR_PROPERTY in event or (_text(event, "UID") or "").startswith(PRODUCT_UID_PREFIX):
            return True
    return False


def _pick_master(events: list[Event]) -> Event | None:
    masters = [event for event in events if "RECURRENCE-ID" not in event]
    # One object normally holds one UID; if several are lumped together, the product's own
    # (tagged) one is the one that matters, else the first that has a start at all.
    for master in masters:
        if _text(master, PAIR_PROPERTY):
            return master
    for master in masters:
        if "DTSTART" in master:
            return master
    return None


def _observe(
    calendars: Sequence[Calendar], href: str, default_zone: tzinfo
) -> ObservedSeries | None:
    events = _events(calendars)
    master = _pick_master(events)
    if master is None:
        return None
    uid = _text(master, "UID") or ""
    raw_start = _dt(master, "DTSTART")
    if raw_start is None:
        raise ValueError("the event has no DTSTART")
    key = _Normaliser(raw_start, default_zone)
    start = _moment(_aware(raw_start, key.zone))
    duration = _duration(master, raw_start)

    rules = _rules(master)
    until: datetime | None = None
    for rule in rules:
        for value in _rule_values(rule, "UNTIL"):
            if isinstance(value, datetime):
                candidate = utc(_aware(value, key.zone))
            elif isinstance(value, date):
                # An UNTIL date includes that whole day.
                candidate = utc(_aware(value + timedelta(days=1), key.zone)) - timedelta(seconds=1)
            else:
                raise ValueError("RRULE UNTIL is not a date")
            until = candidate if until is None else max(until, candidate)

    exdates: set[datetime] = set()
    for prop in _as_list(master.get("EXDATE")):
        for item in getattr(prop, "dts", []):
            exdates.add(_moment(key(item.dt)))

    seen_answers: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    overrides: dict[datetime, ObservedInstance] = {}
    for event in events:
        if "RECURRENCE-ID" not in event or (_text(event, "UID") or "") != uid:
            continue
        recurrence = _dt(event, "RECURRENCE-ID")
        assert recurrence is not None
        original = _moment(key(recurrence))
        raw = _dt(event, "DTSTART")
        instance_start = _moment(_aware(raw, key.zone)) if raw is not None else original
        instance_length = _duration(event, raw) if raw is not None else duration
        answers, _ = _attendee_answers(event)
        overrides[original] = ObservedInstance(
            recurrence_id=original,
            start=instance_start,
            end=_moment(_after(instance_start, instance_length)),
            cancelled=(_text(event, "STATUS") or "").upper() == "CANCELLED",
            partstats=_answers_shared(answers, seen_answers),
            description=_shared(_text(event, "DESCRIPTION") or ""),
            attachments=_attachments(event),
        )

    answers, attendees = _attendee_answers(master)
    organizer = master.get("ORGANIZER")
    sequence_text = _text(master, "SEQUENCE") or "0"
    try:
        sequence = int(sequence_text)
    except ValueError:
        sequence = 0
    return ObservedSeries(
        uid=_shared(uid),
        pair_key=_shared((_text(master, PAIR_PROPERTY) or "").lower()) or None,
        dtstart=start,
        duration=duration,
        weekly=_is_weekly(rules),
        until=until,
        exdates=frozenset(exdates) if exdates else _NO_DATES,  # not one empty set per make-up
        overrides=overrides,
        partstats=_answers_shared(answers, seen_answers),
        cancelled=(_text(master, "STATUS") or "").upper() == "CANCELLED",
        attendees=attendees,
        organizer=_email(organizer) if organizer is not None else None,
        fingerprint=_shared(_text(master, HASH_PROPERTY) or "") or None,
        sequence=sequence,
        makeup_week=_text(master, WEEK_PROPERTY) or None,
        href=href,
        recurring=bool(rules) or "RDATE" in master,
        attachments=_attachments(master),
    )


def _attachments(component: Component) -> tuple[str, ...]:
    """The URIs of a component's ``ATTACH`` properties; inline (BINARY) ones are skipped."""
    found: list[str] = []
    for value in _as_list(component.get("ATTACH")):
        params = getattr(value, "params", {})
        if str(params.get("VALUE", "URI")).upper() == "BINARY" or "ENCODING" in params:
            continue
        text = str(value).strip()
        if text:
            found.append(_shared(text))  # both copies of a series link the same documents
    return tuple(found)


# --------------------------------------------------------------------------- busy time


def busy_from_object(
    data: bytes,
    href: str,
    owner_email: str,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> tuple[list[tuple[datetime, datetime]], set[date]]:
    """``owner_email``'s busy intervals and out days from one object, within [start, end).

    Recurring events are expanded (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides). Skipped:
    TRANSP:TRANSPARENT (or Outlook's BUSYSTATUS FREE), STATUS:CANCELLED, and events the owner
    declined. All-day events give out days (every date they cover); timed events give aware
    intervals (floating times read in ``zone``), and an out-of-office timed event also gives
    the dates it covers from midnight to midnight as out days.
    Raises ``ValueError`` (one sentence naming ``href``) for anything unreadable, and for an
    object that expands to more than ``MAX_INSTANCES`` instances in the window.
    """
    return busy_from_parsed(parse_object(data, href), href, owner_email, start, end, zone)


def busy_from_parsed(
    calendars: Sequence[Calendar],
    href: str,
    owner_email: str,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
) -> tuple[list[tuple[datetime, datetime]], set[date]]:
    """``busy_from_object`` for an object already parsed with ``parse_object``."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("busy_from_parsed needs an aware window")
    busy: list[tuple[datetime, datetime]] = []
    out_days: set[date] = set()
    try:
        for calendar in calendars:
            calendar = _usable(calendar)
            _refuse_hostile_rules(calendar, start, end, zone)
            _expand(calendar, owner_email.lower(), start, end, zone, busy, out_days)
    except Exception as exc:  # icalendar and dateutil raise many types on hostile input
        raise _problem(href, _reason(exc)) from exc
    return busy, out_days


#: How far an instance may lie outside the span ``reach_from_parsed`` takes from its values:
#: a floating time or a date is read in a zone at most 14 hours from UTC (the library may read
#: it a day away, ``_expand``), so two days cover every reading.
_REACH_SLACK = timedelta(days=2)


def reach_from_parsed(calendars: Sequence[Calendar]) -> tuple[int, int] | None:
    """The span, in UTC seconds, that every instance of the object's events lies in, or
    ``None`` when it has no end or cannot be told (a rule without UNTIL, RDATEs, an override
    of this and future instances, a value that does not read). A read window outside it holds
    none of the object's busy time, whoever reads it and in whatever zone, so a reader that
    kept it need not parse the object again for that window: a past meeting's file costs one
    parse, not one a week for as long as it stays in the calendar (issue 17). Conservative by
    construction: the instances' own values, widened by ``_REACH_SLACK``."""
    earliest: datetime | None = None
    latest: datetime | None = None
    try:
        for calendar in calendars:
            for event in _usable(calendar).walk("VEVENT"):
                if "RDATE" in event or _ranged(event.get("RECURRENCE-ID")):
                    return None
                first = _dt(event, "DTSTART")
                if first is None:
                    return None
                length = max(_duration(event, first), timedelta(0))
                starts = [first]
                for rule in _rules(event):
                    until = _rule_values(rule, "UNTIL")
                    if not until or not all(isinstance(value, date) for value in until):
                        return None
                    starts.extend(until)
                recurrence = _dt(event, "RECURRENCE-ID")
                if recurrence is not None:
                    starts.append(recurrence)
                low = min(_utc_loose(value) for value in starts)
                high = max(_utc_loose(value) for value in starts) + length
                earliest = low if earliest is None else min(earliest, low)
                latest = high if latest is None else max(latest, high)
    except Exception:  # icalendar raises many types on odd values: no reach, read as before
        return None
    if earliest is None or latest is None:
        return None
    try:
        return (
            int((earliest - _REACH_SLACK).timestamp()),
            int((latest + _REACH_SLACK).timestamp()) + 1,
        )
    except OverflowError:  # a date within two days of year 1 or 9999: no reach
        return None


def _ranged(recurrence: Any) -> bool:
    """A RECURRENCE-ID with a RANGE (THISANDFUTURE): it moves later instances too."""
    values = recurrence if isinstance(recurrence, list) else [recurrence]
    return any("RANGE" in getattr(value, "params", {}) for value in values if value is not None)


def _utc_loose(value: date | datetime) -> datetime:
    """``value`` on the UTC timeline, a floating time or a date read as if in UTC (the caller
    allows for the zone it is really read in)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), UTC)
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


_SINGLE_VALUED = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "STATUS", "TRANSP")


def _usable(calendar: Calendar) -> Calendar:
    """A shallow copy of ``calendar`` the expander can take: events with no start (nothing to
    be busy at) left out, and a property that must appear once but appears more reduced to its
    first value, as most clients read it."""
    clean = Calendar()
    clean.update(calendar)
    for component in calendar.subcomponents:
        if component.name != "VEVENT":
            clean.subcomponents.append(component)
            continue
        if "DTSTART" not in component:
            continue
        repeated = {
            name: value[0]
            for name in _SINGLE_VALUED
            if isinstance(value := component.get(name), list) and value
        }
        if repeated:
            fixed = Event()
            fixed.update(component)
            fixed.subcomponents = component.subcomponents
            fixed.update(repeated)
            component = fixed
        clean.subcomponents.append(component)
    return clean


def _refuse_hostile_rules(
    calendar: Calendar, start: datetime, end: datetime, zone: ZoneInfo
) -> None:
    """Raise ``ValueError`` for an event whose expansion could be long, before any expansion
    happens (the expander cannot be interrupted): a sub-daily frequency no meeting has, an
    INTERVAL that is not a positive whole number (dateutil loops forever on 0), a rule that
    could give more than ``MAX_INSTANCES`` instances in the window, one the expander would
    walk more than ``MAX_RULE_STEPS`` steps from its DTSTART to reach the window, or an
    instance length that is negative or longer than ``MAX_INSTANCE_LENGTH``."""
    window_days = max(1.0, (end - start).total_seconds() / 86400)
    for event in calendar.walk("VEVENT"):
        rules = _rules(event)
        if not rules and "RDATE" not in event:
            continue
        first = _dt(event, "DTSTART")
        if first is not None:
            length = _duration(event, first)
            if length < timedelta(0):
                raise ValueError(
                    f"it repeats and its end ({_day_text(event, 'DTEND')}) is before its start "
                    f"({_day_of(first).isoformat()})"
                )
            if length > MAX_INSTANCE_LENGTH:
                raise ValueError(
                    f"it repeats and each instance lasts {length.days} days, more than a year"
                )
        for rule in rules:
            freq = str((_rule_values(rule, "FREQ") or [""])[0]).upper()
            if freq in _REFUSED_FREQUENCIES:
                raise ValueError(f"it repeats {freq.lower()}, which no meeting does")
            per_day = _PER_DAY.get(freq)
            if per_day is None:
                raise ValueError(f"its RRULE has no known FREQ ({freq or 'none'})")
            try:
                interval = int((_rule_values(rule, "INTERVAL") or [1])[0])
            except (TypeError, ValueError):
                interval = 0
            if interval < 1:
                raise ValueError("its RRULE INTERVAL is not a positive whole number")
            spread = 1
            for part in _EXPANDING_PARTS:
                spread *= max(1, len(_rule_values(rule, part)))
            in_window = (window_days * per_day / interval + 2) * spread
            if in_window > MAX_INSTANCES:
                raise ValueError(
                    f"its rule could repeat about {int(in_window)} times in {int(window_days)} "
                    f"days, more than the {MAX_INSTANCES} oneonone reads"
                )
            if first is not None:
                days = (end.astimezone(zone).date() - _day_of(first)).days
                steps = days * per_day / interval * spread
                if steps > MAX_RULE_STEPS:
                    raise ValueError(
                        f"its rule starts on {_day_of(first).isoformat()} and repeats "
                        f"{freq.lower()}: over {MAX_RULE_STEPS} repetitions to reach the "
                        "dates read"
                    )


def _day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _day_text(event: Component, name: str) -> str:
    try:
        value = _dt(event, name)
    except ValueError:
        return "unreadable"
    return _day_of(value).isoformat() if value is not None else "none"


def _skipped(event: Component, owner: str) -> bool:
    if (_text(event, "TRANSP") or "").upper() == "TRANSPARENT":
        return True
    if (_text(event, "X-MICROSOFT-CDO-BUSYSTATUS") or "").upper() == "FREE":
        return True
    if (_text(event, "STATUS") or "").upper() == "CANCELLED":
        return True
    answers, _ = _attendee_answers(event)
    return answers.get(owner) == "DECLINED"


def _expand(
    calendar: Calendar,
    owner: str,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    busy: list[tuple[datetime, datetime]],
    out_days: set[date],
) -> None:
    first_day = start.astimezone(zone).date()
    last_day = (end - timedelta(microseconds=1)).astimezone(zone).date()
    # The library reads floating and all-day instances in a zone of its own choosing, up to a
    # day away from ours: ask for a day more on each side and keep exactly the window below.
    # ``between`` rather than the lazy ``after``: ``after`` re-expands from DTSTART page by
    # page and takes minutes on a long-running hourly rule.
    margin = timedelta(days=1)
    query = recurring_ical_events.of(calendar, skip_bad_series=False)
    instances = _bounded_between(query, start - margin, end + margin)
    for event in instances:
        raw_start = _dt(event, "DTSTART")
        if raw_start is None:
            continue
        length = _duration(event, raw_start)
        instance_start = _aware(raw_start, zone)
        if _skipped(event, owner):
            continue
        if not isinstance(raw_start, datetime):
            day = raw_start
            days = max(length.days, 1)
            for offset in range(days):
                covered = day + timedelta(days=offset)
                if first_day <= covered <= last_day:
                    out_days.add(covered)
            continue
        instance_end = _after(instance_start, length)
        begins, ends = utc(instance_start), utc(instance_end)
        if ends <= begins or ends <= start or begins >= end:
            continue
        busy.append((instance_start, instance_end))
        if (_text(event, "X-MICROSOFT-CDO-BUSYSTATUS") or "").upper() == "OOF":
            out_days.update(_whole_days(instance_start, instance_end, zone, first_day, last_day))


def _bounded_between(query: Any, start: datetime, end: datetime) -> list[Component]:
    """``query.between(start, end)``, with the limits checked while expanding, not after:
    more than ``MAX_INSTANCES`` instances, or more than ``OBJECT_SECONDS`` of this thread's
    CPU time, and the object is refused (``ValueError``) there and then.

    Walks the library's series one occurrence at a time (its ``between`` builds the whole
    list first); falls back to ``between`` for a library version without that shape.
    """
    series_list = getattr(query, "series", None)
    if series_list is None:  # pragma: no cover - another recurring-ical-events layout
        found = query.between(start, end)
        if len(found) > MAX_INSTANCES:
            raise ValueError(f"it has more than {MAX_INSTANCES} instances in the dates read")
        return list(found)
    budget = _time.thread_time() + OBJECT_SECONDS
    instances: list[Component] = []
    for series in series_list:
        for occurrence in series.between(start, end):
            if len(instances) >= MAX_INSTANCES:
                raise ValueError(
                    f"it has more than {MAX_INSTANCES} instances between "
                    f"{start:%Y-%m-%d} and {end:%Y-%m-%d}"
                )
            if _time.thread_time() > budget:
                raise ValueError(
                    f"expanding it took more than {OBJECT_SECONDS:g} seconds, more than a "
                    "calendar object should"
                )
            instances.append(occurrence.as_component(False))
    return instances


def _whole_days(
    start: datetime, end: datetime, zone: ZoneInfo, first: date, last: date
) -> Iterable[date]:
    """The dates in ``zone`` that [start, end) covers from midnight to midnight."""
    day = start.astimezone(zone).date()
    while day <= min(end.astimezone(zone).date(), last):
        midnight = datetime.combine(day, time(0), zone)
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), zone)
        if utc(start) <= utc(midnight) and utc(next_midnight) <= utc(end) and day >= first:
            yield day
        day += timedelta(days=1)
