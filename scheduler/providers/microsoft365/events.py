"""Graph event resources to and from the product's values. Pure: no I/O, no clock.

Reading: a series master (``GET .../events/{id}`` with its extended properties ``$expand``ed)
and its occurrences and exceptions in the delta window become one iCalendar object, so the
code that reads vdir, CalDAV and Google calendars (``scheduler.ical``) reads Microsoft 365's too:

- ``patternedRecurrence`` -> ``RRULE`` in the series' own zone (``originalStartTimeZone``, a
  Windows or IANA name; Windows names through ``zones``);
- Graph has no EXDATE: a deleted occurrence is simply absent, so every original start the
  pattern gives inside the delta window without an instance there becomes an ``EXDATE``;
- an ``exception`` -> a ``RECURRENCE-ID`` override (``originalStart``), ``isCancelled`` ->
  ``STATUS:CANCELLED``; ``attendees[].status.response`` -> ``PARTSTAT``; ``showAs: oof`` ->
  ``X-MICROSOFT-CDO-BUSYSTATUS:OOF`` (a day out), ``showAs: free`` -> ``TRANSP:TRANSPARENT``;
- the body (asked for as text) -> ``DESCRIPTION``, its last line ``Agenda: <url>`` -> ``ATTACH``
  (the spec: the agenda page is "linked in the event body");
- the single-value extended properties ``String {00020329-0000-0000-C000-000000000046} Name
  oneonone_*`` -> the ``X-ONEONONE-*`` tags, the product's UID, fingerprint and sequence.

Writing: a ``SeriesSpec`` becomes a master body (``patternedRecurrence`` weekly on the
weekday of ``dtstart``, ``range`` ``noEnd`` or ``endDate``) and one body per instance to patch.

Exports: ``PROPERTY_SET``, ``EXPAND``, ``prop_id``, ``props_of``, ``is_owned``, ``uid_of``,
``to_ical``, ``expected_originals``, ``master_body``, ``instance_body``, ``regular_body``,
``parse_instant``, ``transaction_id``, ``settings_of`` (a ``mailboxSettings`` answer -> the
person's zone and working hours).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from scheduler import ical
from scheduler.domain import CalendarSettings, WorkingHours
from scheduler.domain.series import InstanceOverride, SeriesSpec, utc
from scheduler.providers.microsoft365.zones import iana_name, iana_zone, windows_name

__all__ = [
    "EXPAND",
    "PROPERTY_SET",
    "expected_originals",
    "instance_body",
    "is_owned",
    "master_body",
    "parse_instant",
    "prop_id",
    "props_of",
    "regular_body",
    "settings_of",
    "to_ical",
    "transaction_id",
    "uid_of",
]

#: PS_PUBLIC_STRINGS, the spec's property set for the tags
PROPERTY_SET = "{00020329-0000-0000-C000-000000000046}"
PAIR = "oneonone_pair"
WEEK = "oneonone_week"
UID = "oneonone_uid"
HASH = "oneonone_hash"
SEQUENCE = "oneonone_seq"
UNTIL = "oneonone_until"
NAMES = (PAIR, WEEK, UID, HASH, SEQUENCE, UNTIL)
AGENDA_PREFIX = "Agenda: "

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_PARTSTAT = {
    "none": "NEEDS-ACTION",
    "notresponded": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "organizer": "ACCEPTED",
    "declined": "DECLINED",
    "tentativelyaccepted": "TENTATIVE",
}


def prop_id(name: str) -> str:
    return f"String {PROPERTY_SET} Name {name}"


#: ``$expand`` that brings the product's extended properties with an event
EXPAND = (
    "singleValueExtendedProperties($filter="
    + " or ".join(f"id eq '{prop_id(name)}'" for name in NAMES)
    + ")"
)


def props_of(resource: Mapping[str, Any]) -> dict[str, str]:
    """The product's extended properties of an event, by short name."""
    found: dict[str, str] = {}
    for prop in resource.get("singleValueExtendedProperties") or []:
        key = str(prop.get("id", ""))
        for name in NAMES:
            if key.lower() == prop_id(name).lower():
                found[name] = str(prop.get("value", ""))
    return found


def is_owned(resource: Mapping[str, Any]) -> bool:
    return PAIR in props_of(resource)


def uid_of(resource: Mapping[str, Any]) -> str:
    """The product's UID of an event: the one it stored, else its iCalendar UID (``iCalUId``,
    kept by Outlook from an imported .ics), else Graph's id."""
    return props_of(resource).get(UID) or str(resource.get("iCalUId") or resource.get("id") or "")


def transaction_id(spec: SeriesSpec, fingerprint: str, stamp: datetime) -> str:
    """The ``transactionId`` of a create: the same for every retry of one write (so Graph
    answers the event the first try made), another for a later pass's re-creation."""
    text = f"{spec.uid}|{fingerprint}|{utc(stamp).isoformat()}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --------------------------------------------------------------------------- reading


def parse_instant(value: Mapping[str, Any] | str) -> datetime:
    """A ``dateTimeTimeZone`` (or an ISO text with offset) as an aware datetime."""
    if isinstance(value, str):
        text, zone_name = value, "UTC"
    else:
        text, zone_name = str(value.get("dateTime", "")), str(value.get("timeZone") or "UTC")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=iana_zone(zone_name) or UTC)
    return moment


def _series_zone(master: Mapping[str, Any]) -> ZoneInfo:
    recurrence = master.get("recurrence") or {}
    names = (
        (recurrence.get("range") or {}).get("recurrenceTimeZone"),
        master.get("originalStartTimeZone"),
        (master.get("start") or {}).get("timeZone"),
    )
    for name in names:
        zone = iana_zone(str(name)) if name else None
        if zone is not None:
            return zone
    return ZoneInfo("UTC")


def _rrule(master: Mapping[str, Any], zone: tzinfo, first: datetime) -> str | None:
    recurrence = master.get("recurrence") or {}
    pattern = recurrence.get("pattern") or {}
    rng = recurrence.get("range") or {}
    kind = str(pattern.get("type", ""))
    interval = int(pattern.get("interval") or 1)
    days = [
        _BYDAY[_DAYS.index(str(d).lower())]
        for d in pattern.get("daysOfWeek") or []
        if str(d).lower() in _DAYS
    ]
    if kind == "weekly":
        rule = f"FREQ=WEEKLY;INTERVAL={interval}"
        if days:
            rule += ";BYDAY=" + ",".join(days)
    elif kind == "daily":
        rule = f"FREQ=DAILY;INTERVAL={interval}"
    elif kind == "absoluteMonthly":
        rule = f"FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={int(pattern.get('dayOfMonth') or 1)}"
    elif kind == "relativeMonthly":
        rule = f"FREQ=MONTHLY;INTERVAL={interval}" + (";BYDAY=" + ",".join(days) if days else "")
    elif kind in ("absoluteYearly", "relativeYearly"):
        rule = f"FREQ=YEARLY;INTERVAL={interval}"
    else:
        return None
    if rng.get("type") == "endDate" and rng.get("endDate"):
        last = date.fromisoformat(str(rng["endDate"]))
        local = first.astimezone(zone)
        until = datetime.combine(last, local.time(), zone)
        stored = props_of(master).get(UNTIL)
        if stored:
            exact = datetime.fromisoformat(stored)
            # The product's own end (RRULE UNTIL = "now" when a pair left the org file) read
            # back exactly, while it still fits the endDate people may have changed.
            if exact.astimezone(zone).date() in (last, last + timedelta(days=1)):
                until = exact
        rule += f";UNTIL={utc(until):%Y%m%dT%H%M%SZ}"
    elif rng.get("type") == "numbered" and rng.get("numberOfOccurrences"):
        rule += f";COUNT={int(rng['numberOfOccurrences'])}"
    return rule


def expected_originals(master: Mapping[str, Any], start: datetime, end: datetime) -> list[datetime]:
    """The original starts (UTC) the series' pattern gives in [start, end)."""
    zone = _series_zone(master)
    first = parse_instant(master["start"]).astimezone(zone)
    rule = _rrule(master, zone, first)
    if rule is None:
        return []
    found = rrulestr(rule, dtstart=first.replace(tzinfo=None))
    return [
        utc(moment.replace(tzinfo=zone))
        for moment in found.between(
            start.astimezone(zone).replace(tzinfo=None) - timedelta(seconds=1),
            end.astimezone(zone).replace(tzinfo=None),
            inc=False,
        )
    ]


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _safe(text: str) -> str:
    return re.sub(r"[\r\n]", " ", text)


def split_body(resource: Mapping[str, Any]) -> tuple[str, list[str]]:
    """(description, agenda links) of an event's body (asked for as text)."""
    body = resource.get("body") or {}
    content = str(body.get("content") or "").replace("\r\n", "\n")
    if str(body.get("contentType", "text")).lower() == "html":
        content = re.sub(r"<[^>]+>", "", content)
    links: list[str] = []
    lines = content.split("\n")
    while lines and lines[-1].startswith(AGENDA_PREFIX):
        url = lines.pop()[len(AGENDA_PREFIX) :].strip()
        if url and not any(ch.isspace() for ch in url):
            links.insert(0, url)
    while links and lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines), links


def _when(value: Mapping[str, Any], name: str, zone: ZoneInfo, all_day: bool) -> str:
    moment = parse_instant(value)
    if all_day:
        return f"{name};VALUE=DATE:{moment.astimezone(zone):%Y%m%d}"
    return f"{name};TZID={zone.key}:{moment.astimezone(zone):%Y%m%dT%H%M%S}"


def _people(resource: Mapping[str, Any]) -> list[str]:
    lines = []
    organizer = str(
        ((resource.get("organizer") or {}).get("emailAddress") or {}).get("address", "")
    ).lower()
    if organizer:
        lines.append(f"ORGANIZER:mailto:{_safe(organizer)}")
    for attendee in resource.get("attendees") or []:
        email = str((attendee.get("emailAddress") or {}).get("address", "")).lower()
        if not email or email == organizer:
            continue
        answer = str((attendee.get("status") or {}).get("response", "none")).lower()
        lines.append(
            f"ATTENDEE;PARTSTAT={_PARTSTAT.get(answer, 'NEEDS-ACTION')}:mailto:{_safe(email)}"
        )
    return lines


def _vevent(
    resource: Mapping[str, Any],
    uid: str,
    zone: ZoneInfo,
    *,
    rule: str | None = None,
    exdates: Iterable[datetime] = (),
    original: datetime | None = None,
    props: Mapping[str, str] | None = None,
) -> list[str]:
    all_day = bool(resource.get("isAllDay"))
    lines = ["BEGIN:VEVENT", f"UID:{_escape(uid)}"]
    if original is not None:
        lines.append(f"RECURRENCE-ID;TZID={zone.key}:{original.astimezone(zone):%Y%m%dT%H%M%S}")
    lines.append(_when(resource["start"], "DTSTART", zone, all_day))
    lines.append(_when(resource["end"], "DTEND", zone, all_day))
    if rule:
        lines.append(f"RRULE:{rule}")
        stamps = sorted({utc(moment) for moment in exdates})
        if stamps:
            values = ",".join(f"{m.astimezone(zone):%Y%m%dT%H%M%S}" for m in stamps)
            lines.append(f"EXDATE;TZID={zone.key}:{values}")
    if resource.get("subject"):
        lines.append(f"SUMMARY:{_escape(str(resource['subject']))}")
    description, links = split_body(resource)
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    for link in links:
        lines.append(f"ATTACH:{link}")
    lines.append("STATUS:" + ("CANCELLED" if resource.get("isCancelled") else "CONFIRMED"))
    show = str(resource.get("showAs") or "busy").lower()
    if show == "free":
        lines.append("TRANSP:TRANSPARENT")
    if show == "oof":
        lines.append("X-MICROSOFT-CDO-BUSYSTATUS:OOF")
    lines += _people(resource)
    if props is not None:
        sequence = props.get(SEQUENCE, "0")
        lines.append(f"SEQUENCE:{int(sequence) if sequence.isdigit() else 0}")
        for name, prop in ((PAIR, ical.PAIR_PROPERTY), (WEEK, ical.WEEK_PROPERTY)):
            if name in props:
                lines.append(f"{prop}:{_escape(props[name])}")
        if HASH in props:
            lines.append(f"{ical.HASH_PROPERTY}:{_escape(props[HASH])}")
    lines.append("END:VEVENT")
    return lines


def to_ical(
    master: Mapping[str, Any],
    instances: Iterable[Mapping[str, Any]],
    window: tuple[datetime, datetime] | None,
) -> bytes:
    """A series master (or a single event) and its instances in the delta ``window`` as one
    VCALENDAR (see the module docstring)."""
    uid = uid_of(master)
    props = props_of(master)
    owned = PAIR in props
    zone = _series_zone(master)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{ical.PRODID}"]
    if master.get("type") == "seriesMaster" and master.get("recurrence"):
        first = parse_instant(master["start"]).astimezone(zone)
        rule = _rrule(master, zone, first)
        seen = {
            utc(parse_instant(str(i["originalStart"]))) for i in instances if i.get("originalStart")
        }
        exdates: list[datetime] = []
        if window is not None and rule is not None:
            exdates = [m for m in expected_originals(master, *window) if m not in seen]
        lines += _vevent(
            master, uid, zone, rule=rule, exdates=exdates, props=props if owned else {}
        )
        for instance in instances:
            if instance.get("type") != "exception" or not instance.get("originalStart"):
                continue
            original = utc(parse_instant(str(instance["originalStart"])))
            lines += _vevent(instance, uid, zone, original=original)
    else:
        lines += _vevent(master, uid, zone, props=props if owned else {})
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


# --------------------------------------------------------------------------- writing


def _zone_key(moment: datetime) -> str:
    return str(getattr(moment.tzinfo, "key", None) or "UTC")


def _time(moment: datetime, zone_name: str) -> dict[str, str]:
    local = moment.astimezone(ZoneInfo(zone_name))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": windows_name(zone_name)}


def _content(description: str, attachment_url: str | None) -> dict[str, str]:
    text = description
    if attachment_url:
        text = (
            f"{text}\n\n{AGENDA_PREFIX}{attachment_url}"
            if text
            else (f"{AGENDA_PREFIX}{attachment_url}")
        )
    return {"contentType": "text", "content": text}


def _props(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"id": prop_id(name), "value": value} for name, value in sorted(values.items())]


def _end_date(spec: SeriesSpec) -> date | None:
    """The ``range.endDate`` of ``spec.until``: the day of the last start at or before it."""
    if spec.until is None:
        return None
    zone = ZoneInfo(_zone_key(spec.dtstart))
    local = spec.until.astimezone(zone)
    day = local.date()
    if datetime.combine(day, spec.dtstart.time(), zone) > spec.until:
        day -= timedelta(days=1)
    return day


def master_body(spec: SeriesSpec, stamp: str) -> dict[str, Any]:
    """The series master (or the single make-up event) for ``spec``, with the product's tags."""
    zone_name = _zone_key(spec.dtstart)
    values = {PAIR: spec.pair_key, UID: spec.uid, HASH: stamp, SEQUENCE: str(spec.sequence)}
    if spec.makeup_week is not None:
        values[WEEK] = spec.makeup_week
    if spec.until is not None:
        values[UNTIL] = utc(spec.until).isoformat()
    body: dict[str, Any] = {
        "subject": spec.summary,
        "body": _content(spec.description, spec.attachment.url if spec.attachment else None),
        "start": _time(spec.dtstart, zone_name),
        "end": _time(utc(spec.dtstart) + spec.duration, zone_name),
        "attendees": [
            {
                "type": "required",
                "emailAddress": {
                    "address": spec.attendee_email.lower(),
                    "name": spec.attendee_name,
                },
            }
        ],
        "showAs": "busy",
        "responseRequested": True,
        "allowNewTimeProposals": False,
        "singleValueExtendedProperties": _props(values),
    }
    if spec.makeup_week is None:
        first = spec.dtstart.astimezone(ZoneInfo(zone_name))
        end_date = _end_date(spec)
        body["recurrence"] = {
            "pattern": {
                "type": "weekly",
                "interval": 1,
                "daysOfWeek": [_DAYS[first.weekday()]],
                "firstDayOfWeek": "monday",
            },
            "range": {
                "type": "endDate" if end_date is not None else "noEnd",
                "startDate": first.date().isoformat(),
                **({"endDate": end_date.isoformat()} if end_date is not None else {}),
                "recurrenceTimeZone": windows_name(zone_name),
            },
        }
    return body


def stamp_body(stamp: str) -> dict[str, Any]:
    """A patch that sets only the fingerprint (the last request of a write)."""
    return {"singleValueExtendedProperties": _props({HASH: stamp})}


def instance_body(spec: SeriesSpec, override: InstanceOverride) -> dict[str, Any]:
    zone_name = _zone_key(spec.dtstart)
    url = override.attachment.url if override.attachment is not None else None
    return {
        "start": _time(override.start, zone_name),
        "end": _time(override.end, zone_name),
        "body": _content(override.description or spec.description, url),
    }


def regular_body(spec: SeriesSpec, original: datetime) -> dict[str, Any]:
    """A patch that puts an occurrence back at its original time with the series' words."""
    zone_name = _zone_key(spec.dtstart)
    return {
        "start": _time(original, zone_name),
        "end": _time(utc(original) + spec.duration, zone_name),
        "body": _content(spec.description, None),
    }


_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _clock(text: object) -> time | None:
    """Graph's ``timeOfDay`` ("08:00:00.0000000") as a time; ``None`` for anything else."""
    found = re.fullmatch(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?", str(text or ""))
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return time(int(found[1]), int(found[2]))


def settings_of(answer: Mapping[str, Any]) -> CalendarSettings:
    """A ``mailboxSettings`` answer as the person's zone and working hours
    (https://learn.microsoft.com/graph/api/resources/mailboxsettings,
    https://learn.microsoft.com/graph/api/resources/workinghours): Windows zone names
    through CLDR's table; working hours with their own zone (``None`` when it is the
    mailbox's, or a custom zone no IANA name stands for: then the mailbox's). What is
    missing or makes no sense (an end not after the start, no day) is ``None``."""
    zone = iana_name(str(answer.get("timeZone") or ""))
    raw = answer.get("workingHours")
    hours: WorkingHours | None = None
    if isinstance(raw, Mapping):
        start, end = _clock(raw.get("startTime")), _clock(raw.get("endTime"))
        days = frozenset(
            _DAYS.index(str(day).lower())
            for day in raw.get("daysOfWeek") or []
            if str(day).lower() in _DAYS
        )
        named = raw.get("timeZone")
        own = iana_name(str(named.get("name") or "")) if isinstance(named, Mapping) else None
        if start is not None and end is not None and start < end and days:
            hours = WorkingHours(start, end, days, None if own == zone else own)
    return CalendarSettings(zone, hours)
