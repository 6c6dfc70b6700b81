"""Google Calendar event resources to and from the product's values. Pure: no I/O, no clock.

Reading: a master event and its exceptions (as ``events.list`` with ``singleEvents=false``
returns them) are turned into one iCalendar object, so the very code that reads vdir and
CalDAV calendars (``scheduler.ical.observe_parsed`` and ``busy_from_parsed``) reads Google's
too, and a move, cancel or decline means the same on every provider. Google's ``recurrence``
lines are RFC 5545 lines already; the rest maps one to one:

- ``originalStartTime`` -> ``RECURRENCE-ID``; an exception with ``status: cancelled`` -> an
  override with ``STATUS:CANCELLED`` (a deleted instance)
- ``attendees[].responseStatus`` -> ``PARTSTAT``; ``transparency`` -> ``TRANSP``;
  ``eventType: outOfOffice`` -> ``X-MICROSOFT-CDO-BUSYSTATUS:OOF`` (read as a day out)
- ``extendedProperties.private.oneonone_*`` -> the ``X-ONEONONE-*`` tags, the product's own
  UID, fingerprint and sequence (Google keeps its own ``sequence``; ours is stored beside it so
  Google bumping its own never looks like a change).

Writing: a ``SeriesSpec`` becomes a master body (RRULE, EXDATE in the organizer's zone, the
tags) and one instance body per override. Event ids are client-supplied and derived from the
product's UID (base32hex of a hash), so a retried insert after a crash finds the first one
(409) instead of making a second series.

Exports: ``event_id_for``, ``instance_id``, ``to_ical``, ``master_body``, ``instance_body``,
``is_owned``, ``stamp_of``, ``PRIVATE_*`` keys.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler import ical
from scheduler.domain.series import Attachment, InstanceOverride, SeriesSpec, utc

__all__ = [
    "PRIVATE_HASH",
    "PRIVATE_PAIR",
    "PRIVATE_SEQUENCE",
    "PRIVATE_UID",
    "PRIVATE_WEEK",
    "event_id_for",
    "instance_body",
    "instance_id",
    "is_owned",
    "master_body",
    "stamp_of",
    "to_ical",
]

PRIVATE_PAIR = "oneonone_pair"  # the spec's tag: "<manager email>/<rep email>"
PRIVATE_WEEK = "oneonone_week"  # the spec's tag on make-ups: the ISO week
PRIVATE_UID = "oneonone_uid"
PRIVATE_HASH = "oneonone_hash"
PRIVATE_SEQUENCE = "oneonone_seq"

# https://developers.google.com/workspace/calendar/api/v3/reference/events/insert: "characters
# allowed in the ID are those used in base32hex encoding, i.e. lowercase letters a-v and digits
# 0-9 ... the length of the ID must be between 5 and 1024 characters".
_GOOGLE_ID = re.compile(r"[a-v0-9]{5,1024}")

_TO_PARTSTAT = {
    "needsAction": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
}
_FROM_PARTSTAT = {value: key for key, value in _TO_PARTSTAT.items()}


def event_id_for(uid: str) -> str:
    """The Google event id of the object with ``uid``: the uid itself when it already is a
    Google id (an adopted event someone created), else base32hex of its SHA-256 (26 chars)."""
    if _GOOGLE_ID.fullmatch(uid):
        return uid
    digest = hashlib.sha256(uid.encode("utf-8")).digest()[:16]
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


def instance_id(event_id: str, original_start: datetime) -> str:
    """The id Google gives the instance of ``event_id`` originally at ``original_start``:
    ``<id>_<UTC basic format>`` (as ``events.instances`` returns them)."""
    return f"{event_id}_{utc(original_start):%Y%m%dT%H%M%SZ}"


def is_owned(resource: Mapping[str, Any]) -> bool:
    return PRIVATE_PAIR in _private(resource)


def stamp_of(resource: Mapping[str, Any]) -> tuple[str | None, int]:
    """The product's fingerprint and sequence on an event, as ``to_ical`` reads them."""
    private = _private(resource)
    sequence = private.get(PRIVATE_SEQUENCE)
    return private.get(PRIVATE_HASH), int(sequence) if sequence and sequence.isdigit() else 0


def _private(resource: Mapping[str, Any]) -> dict[str, str]:
    props = resource.get("extendedProperties") or {}
    private = props.get("private") or {}
    return private if isinstance(private, dict) else {}


# --------------------------------------------------------------------------- reading


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
    """A value that cannot break out of its content line."""
    return re.sub(r"[\r\n]", " ", text)


def _when(value: Mapping[str, Any], name: str, fallback_zone: str | None) -> str:
    """``DTSTART;TZID=...:...`` (or VALUE=DATE / UTC) for a Google start/end/originalStartTime."""
    if "date" in value and "dateTime" not in value:
        day = date.fromisoformat(str(value["date"]))
        return f"{name};VALUE=DATE:{day:%Y%m%d}"
    moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    zone_name = value.get("timeZone") or fallback_zone
    if zone_name:
        try:
            zone = ZoneInfo(str(zone_name))
        except (ValueError, KeyError):
            zone = None
        if zone is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            local = moment.astimezone(zone)
            return f"{name};TZID={_safe(str(zone_name))}:{local:%Y%m%dT%H%M%S}"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{name}:{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _vevent(resource: Mapping[str, Any], uid: str, zone: str | None, master: bool) -> list[str]:
    lines = ["BEGIN:VEVENT", f"UID:{_escape(uid)}"]
    private = _private(resource)
    status = str(resource.get("status") or "confirmed")
    if "originalStartTime" in resource:
        lines.append(_when(resource["originalStartTime"], "RECURRENCE-ID", zone))
    if "start" in resource:
        lines.append(_when(resource["start"], "DTSTART", zone))
        if "end" in resource:
            lines.append(_when(resource["end"], "DTEND", zone))
    elif "originalStartTime" in resource:
        # A cancelled exception carries only its id and original start.
        lines.append(_when(resource["originalStartTime"], "DTSTART", zone))
    if master:
        for line in resource.get("recurrence") or []:
            if isinstance(line, str) and line.split(":", 1)[0].split(";", 1)[0].upper() in {
                "RRULE",
                "EXDATE",
                "RDATE",
                "EXRULE",
            }:
                lines.append(_safe(line))
    if resource.get("summary"):
        lines.append(f"SUMMARY:{_escape(str(resource['summary']))}")
    if resource.get("description"):
        lines.append(f"DESCRIPTION:{_escape(str(resource['description']))}")
    lines.append(f"STATUS:{'CANCELLED' if status == 'cancelled' else status.upper()}")
    if resource.get("transparency") == "transparent":
        lines.append("TRANSP:TRANSPARENT")
    if resource.get("eventType") == "outOfOffice":
        lines.append("X-MICROSOFT-CDO-BUSYSTATUS:OOF")
    for attachment in resource.get("attachments") or []:
        url = str(attachment.get("fileUrl") or "")
        if url and not any(ch.isspace() for ch in url):
            lines.append(f"ATTACH:{url}")
    organizer = (resource.get("organizer") or {}).get("email")
    if organizer:
        lines.append(f"ORGANIZER:mailto:{_safe(str(organizer).lower())}")
    for attendee in resource.get("attendees") or []:
        email = str(attendee.get("email") or "").lower()
        if not email:
            continue
        answer = _TO_PARTSTAT.get(str(attendee.get("responseStatus")), "NEEDS-ACTION")
        lines.append(f"ATTENDEE;PARTSTAT={answer}:mailto:{_safe(email)}")
    if master:
        sequence = private.get(PRIVATE_SEQUENCE) if PRIVATE_PAIR in private else None
        lines.append(f"SEQUENCE:{int(sequence) if sequence and sequence.isdigit() else 0}")
        if PRIVATE_PAIR in private:
            lines.append(f"{ical.PAIR_PROPERTY}:{_escape(private[PRIVATE_PAIR])}")
        if PRIVATE_WEEK in private:
            lines.append(f"{ical.WEEK_PROPERTY}:{_escape(private[PRIVATE_WEEK])}")
        if PRIVATE_HASH in private:
            lines.append(f"{ical.HASH_PROPERTY}:{_escape(private[PRIVATE_HASH])}")
    lines.append("END:VEVENT")
    return lines


def uid_of(resource: Mapping[str, Any]) -> str:
    """The product's UID of an event: the one it stored, else Google's event id."""
    return _private(resource).get(PRIVATE_UID) or str(resource.get("id") or "")


def to_ical(master: Mapping[str, Any], exceptions: Iterable[Mapping[str, Any]]) -> bytes:
    """``master`` and its ``exceptions`` as one VCALENDAR (see the module docstring)."""
    uid = uid_of(master)
    zone = (master.get("start") or {}).get("timeZone")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{ical.PRODID}"]
    lines += _vevent(master, uid, zone, master=True)
    for exception in exceptions:
        lines += _vevent(exception, uid, zone, master=False)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


# --------------------------------------------------------------------------- writing


def _zone_key(moment: datetime) -> str:
    return str(getattr(moment.tzinfo, "key", None) or "UTC")


def _time(moment: datetime, zone_name: str) -> dict[str, str]:
    zone = ZoneInfo(zone_name)
    return {"dateTime": moment.astimezone(zone).isoformat(), "timeZone": zone_name}


def _attendees(
    spec: SeriesSpec, partstats: Mapping[str, str], current: Mapping[str, Any] | None
) -> list[dict[str, Any]]:
    """The organizer and the rep. The rep's answer is theirs: kept from the current copy,
    never set by the product; the organizer's is the spec's (the organizer is who we act as)."""
    answers = {
        str(a.get("email", "")).lower(): a.get("responseStatus", "needsAction")
        for a in (current or {}).get("attendees") or []
    }
    organizer = spec.organizer_email.lower()
    attendee = spec.attendee_email.lower()
    organizer_answer = _FROM_PARTSTAT.get(partstats.get(organizer, "ACCEPTED"), "accepted")
    return [
        {
            "email": organizer,
            "displayName": spec.organizer_name,
            "organizer": True,
            "responseStatus": organizer_answer,
        },
        {
            "email": attendee,
            "displayName": spec.attendee_name,
            "responseStatus": answers.get(attendee, "needsAction"),
        },
    ]


def master_body(
    spec: SeriesSpec, fingerprint: str, current: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The master event (or the single make-up event) for ``spec``, with the product's tags."""
    zone_name = _zone_key(spec.dtstart)
    start = spec.dtstart
    end = utc(start) + spec.duration
    private = {
        PRIVATE_PAIR: spec.pair_key,
        PRIVATE_UID: spec.uid,
        PRIVATE_HASH: fingerprint,
        PRIVATE_SEQUENCE: str(spec.sequence),
    }
    body: dict[str, Any] = {
        "id": event_id_for(spec.uid),
        "summary": spec.summary,
        "description": spec.description,
        "start": _time(start, zone_name),
        "end": _time(end, zone_name),
        "attendees": _attendees(spec, dict(spec.partstats), current),
        "extendedProperties": {"private": private},
        "guestsCanModify": False,
        "status": "confirmed",
        "reminders": {"useDefault": True},
    }
    if spec.attachment is not None:
        body["attachments"] = [_attachment(spec.attachment)]
    if spec.makeup_week is not None:
        private[PRIVATE_WEEK] = spec.makeup_week
    else:
        rule = "RRULE:FREQ=WEEKLY"
        if spec.until is not None:
            rule += f";UNTIL={utc(spec.until):%Y%m%dT%H%M%SZ}"
        body["recurrence"] = [rule]
        exdates = sorted({utc(moment) for moment in spec.exdates})
        if exdates:
            zone = ZoneInfo(zone_name)
            values = ",".join(f"{moment.astimezone(zone):%Y%m%dT%H%M%S}" for moment in exdates)
            body["recurrence"].append(f"EXDATE;TZID={zone_name}:{values}")
    return body


def instance_body(spec: SeriesSpec, override: InstanceOverride) -> dict[str, Any]:
    """A patch for one instance: its time, description and agenda (cancelled instances are
    deleted, not patched)."""
    # No attendees: a patch leaves them as they are, and each person's answer to this week
    # is theirs (the master's answers are not this instance's).
    zone_name = _zone_key(spec.dtstart)
    body: dict[str, Any] = {
        "start": _time(override.start, zone_name),
        "end": _time(override.end, zone_name),
        "description": override.description or spec.description,
    }
    if override.attachment is not None:
        body["attachments"] = [_attachment(override.attachment)]
    return body


def _attachment(attachment: Attachment) -> dict[str, str]:
    """An ``attachments`` entry (https://developers.google.com/workspace/calendar/api/v3/
    reference/events: ``fileUrl`` "URL link to the attachment"; for Drive files the
    ``alternateLink`` form, which the agenda's ``webViewLink`` is)."""
    entry = {"fileUrl": attachment.url, "title": attachment.title or "Agenda"}
    if "docs.google.com/document/" in attachment.url:
        entry["mimeType"] = "application/vnd.google-apps.document"
    return entry


def regular_instance_body(spec: SeriesSpec, original: datetime) -> dict[str, Any]:
    """A patch that puts an instance back at its original time with the series' words."""
    zone_name = _zone_key(spec.dtstart)
    return {
        "start": _time(original, zone_name),
        "end": _time(utc(original) + spec.duration, zone_name),
        "description": spec.description,
    }


def within(resource: Mapping[str, Any], since: datetime) -> bool:
    """Whether a single event ends after ``since`` (or has no readable end)."""
    end = resource.get("end") or {}
    try:
        if "dateTime" in end:
            return datetime.fromisoformat(str(end["dateTime"]).replace("Z", "+00:00")) > since
        if "date" in end:
            day = date.fromisoformat(str(end["date"]))
            return datetime.combine(day, datetime.min.time(), UTC) + timedelta(days=1) > since
    except ValueError:
        return True
    return True
