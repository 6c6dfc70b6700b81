"""Event times and recurrence expansion, as Calendar v3 reads them.

- ``start``/``end`` are ``{"dateTime", "timeZone"}`` or ``{"date"}``; "A time zone offset is
  required unless a time zone is explicitly specified in timeZone", and for recurring events
  ``timeZone`` "is required and specifies the time zone in which the recurrence is expanded"
  (Event resource, https://developers.google.com/workspace/calendar/api/v3/reference/events).
- ``recurrence`` holds RFC 5545 RRULE, EXRULE, RDATE and EXDATE lines; "DTSTART and DTEND lines
  are not allowed in this field; event start and end times are specified in the start and end
  fields" (same page).  Rules are expanded in wall-clock time of ``start.timeZone`` (so a
  10:00 Berlin series stays at 10:00 across daylight saving time), EXDATE/RDATE values may
  carry their own TZID, be UTC (``Z``) or be dates (``VALUE=DATE``).
- Instance ids are ``<eventId>_<original start in UTC, basic format>``, e.g.
  ``abc_20240108T090000Z``, or ``abc_20240108`` for all-day series (Recurring events guide,
  https://developers.google.com/workspace/calendar/api/guides/recurringevents, and the ids
  Google returns from events.instances).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rruleset, rrulestr

from .errors import ApiError, bad_request, invalid, required

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"Invalid time zone definition: {name}", "timeZone") from None


def parse_datetime(text: str, *, default_zone: str | None = None) -> datetime:
    """An RFC 3339 timestamp; without an offset only when ``default_zone`` says where."""
    match = _RFC3339.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    frac, offset = match.group(7), match.group(8)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    naive = datetime(year, month, day, hour, minute, second, micro)
    if offset is None:
        if default_zone is None:
            raise ValueError(text)
        return naive.replace(tzinfo=zone(default_zone))
    if offset in ("Z", "z"):
        return naive.replace(tzinfo=UTC)
    sign = 1 if offset[0] == "+" else -1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    return (naive - sign * delta).replace(tzinfo=UTC)


def parse_query_time(text: str, name: str) -> datetime:
    """timeMin/timeMax/updatedMin: "Must be an RFC3339 timestamp with mandatory time zone
    offset" (events.list parameters)."""
    try:
        return parse_datetime(text).astimezone(UTC)
    except ValueError:
        raise bad_request("Bad Request", location=name) from None


def rfc3339(moment: datetime, tz: ZoneInfo | None = None) -> str:
    """``2024-01-08T10:00:00+01:00``, or ``...Z`` in UTC, as Calendar writes dateTimes."""
    local = moment.astimezone(tz or UTC)
    if local.utcoffset() == timedelta(0) and (tz is None or tz.key == "UTC"):
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = local.isoformat(timespec="seconds")
    return text


def rfc3339_ms(moment: datetime) -> str:
    """``2024-01-08T10:00:00.000Z``: how ``updated``/``created`` are written."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class When:
    """One event time: an instant (with the zone it was given in) or a date."""

    instant: datetime | None = None
    day: date | None = None
    tz: str | None = None

    @property
    def all_day(self) -> bool:
        return self.day is not None

    def start_in(self, tz: ZoneInfo) -> datetime:
        """The instant; for a date, its midnight in ``tz`` (the calendar's zone)."""
        if self.day is not None:
            return datetime.combine(self.day, datetime.min.time(), tz).astimezone(UTC)
        assert self.instant is not None
        return self.instant

    def to_json(self, calendar_zone: ZoneInfo) -> dict[str, str]:
        if self.day is not None:
            return {"date": self.day.isoformat()}
        assert self.instant is not None
        if self.tz:
            return {"dateTime": rfc3339(self.instant, zone(self.tz)), "timeZone": self.tz}
        return {"dateTime": rfc3339(self.instant, calendar_zone)}

    def key(self) -> str:
        """The instance id suffix of an occurrence that starts here."""
        if self.day is not None:
            return self.day.strftime("%Y%m%d")
        assert self.instant is not None
        return self.instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    def shifted(self, delta: timedelta) -> When:
        if self.day is not None:
            return When(day=self.day + delta)
        assert self.instant is not None
        return When(instant=self.instant + delta, tz=self.tz)

    def same_moment(self, other: When) -> bool:
        return self.day == other.day and self.instant == other.instant


def parse_when(value: Any, field: str) -> When:
    """Read an Event's ``start``/``end``/``originalStartTime`` object."""
    if not isinstance(value, dict):
        raise required(f"Missing {field} time.", location=field)
    if value.get("date"):
        if value.get("dateTime"):
            raise bad_request(
                f"Invalid {field} time: give date or dateTime, not both.", location=field
            )
        try:
            return When(day=date.fromisoformat(str(value["date"])))
        except ValueError:
            raise bad_request(f"Invalid {field} time.", location=f"{field}.date") from None
    if not value.get("dateTime"):
        raise required(f"Missing {field} time.", location=field)
    tz = value.get("timeZone") or None
    if tz is not None:
        zone(tz)
    try:
        instant = parse_datetime(str(value["dateTime"]), default_zone=tz)
    except ValueError:
        if tz is None and _RFC3339.match(str(value["dateTime"])):
            raise bad_request(
                f"Missing time zone definition for {field} time.", location=field
            ) from None
        raise bad_request(f"Invalid {field} time.", location=f"{field}.dateTime") from None
    return When(instant=instant.astimezone(UTC), tz=tz)


def duration(start: When, end: When) -> timedelta:
    if start.day is not None and end.day is not None:
        return end.day - start.day
    if start.instant is not None and end.instant is not None:
        return end.instant - start.instant
    raise bad_request(
        "The start and end times must both be dates or both be dateTimes.", location="end"
    )


# --------------------------------------------------------------------------- expansion

_PROP = re.compile(r"^(RRULE|EXRULE|RDATE|EXDATE)((?:;[^:]*)?):(.*)$", re.IGNORECASE)


def _local_values(params: str, values: str, tz: ZoneInfo | None, all_day: bool) -> list[datetime]:
    """EXDATE/RDATE values as naive wall-clock datetimes of the series' zone."""
    param_map = {}
    for part in params.split(";"):
        if "=" in part:
            key, _, val = part.partition("=")
            param_map[key.upper()] = val
    value_zone = zone(param_map["TZID"]) if "TZID" in param_map else tz
    out = []
    for raw in values.split(","):
        raw = raw.strip()
        if not raw:
            continue
        if "/" in raw:  # RDATE period: start/end or start/duration; the start is what counts
            raw = raw.split("/", 1)[0]
        if len(raw) == 8:
            day = datetime.strptime(raw, "%Y%m%d")
            out.append(day)
            continue
        utc = raw.endswith(("Z", "z"))
        moment = datetime.strptime(raw.rstrip("Zz"), "%Y%m%dT%H%M%S")
        if all_day:
            out.append(datetime.combine(moment.date(), datetime.min.time()))
            continue
        aware = moment.replace(tzinfo=UTC if utc else value_zone or UTC)
        out.append(aware.astimezone(tz or UTC).replace(tzinfo=None))
    return out


def _rule(value: str, dtstart: datetime, tz: ZoneInfo | None, all_day: bool) -> rrule:
    parts = []
    for part in value.split(";"):
        key, _, val = part.partition("=")
        if key.upper() == "UNTIL":
            # dateutil wants UNTIL naive like DTSTART: express it in the series' wall clock.
            if len(val) == 8:
                val = val + "T235959"
            elif val.upper().endswith("Z"):
                moment = datetime.strptime(val[:-1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
                local = moment.astimezone(tz or UTC).replace(tzinfo=None)
                if all_day:
                    local = local.replace(hour=23, minute=59, second=59)
                val = local.strftime("%Y%m%dT%H%M%S")
        parts.append(f"{key}={val}")
    parsed = rrulestr(";".join(parts), dtstart=dtstart)
    assert isinstance(parsed, rrule)
    return parsed


def rule_set(start: When, recurrence: list[str]) -> rruleset:
    """The series' occurrences as naive wall-clock datetimes; 400 on a line it cannot read."""
    all_day = start.all_day
    tz = None if all_day else zone(start.tz) if start.tz else None
    if not all_day and tz is None:
        raise bad_request("Missing time zone definition for start time.", location="start")
    if start.day is not None:
        dtstart = datetime.combine(start.day, datetime.min.time())
    else:
        assert start.instant is not None
        dtstart = start.instant.astimezone(tz).replace(tzinfo=None)
    rules = rruleset()
    has_rule = False
    for line in recurrence:
        match = _PROP.match(str(line).strip())
        if not match:
            raise invalid("Invalid recurrence rule.", location="recurrence")
        name, params, value = match.group(1).upper(), match.group(2), match.group(3)
        try:
            if name == "RRULE":
                rules.rrule(_rule(value, dtstart, tz, all_day))
                has_rule = True
            elif name == "EXRULE":
                rules.exrule(_rule(value, dtstart, tz, all_day))
            elif name == "RDATE":
                for moment in _local_values(params, value, tz, all_day):
                    rules.rdate(moment)
                has_rule = True
            else:
                for moment in _local_values(params, value, tz, all_day):
                    rules.exdate(moment)
        except ApiError:
            raise
        except (ValueError, TypeError, KeyError):
            raise invalid("Invalid recurrence rule.", location="recurrence") from None
    if not has_rule:
        raise invalid("Invalid recurrence rule.", location="recurrence")
    return rules


def occurrences(
    start: When,
    recurrence: list[str],
    *,
    after: datetime | None = None,
    before: datetime | None = None,
    span: timedelta = timedelta(0),
    limit: int = 1000,
    calendar_zone: ZoneInfo | None = None,
) -> Iterator[When]:
    """Original starts of a series, in order.

    With ``after``, occurrences whose end (start + ``span``) is not after it are skipped; with
    ``before``, iteration stops at the first start not before it.  All-day occurrences are
    placed at midnight of ``calendar_zone`` for those comparisons.  At most ``limit`` are
    produced, which bounds never-ending series when no ``before`` is given.
    """
    rules = rule_set(start, recurrence)
    tz = None if start.all_day else zone(start.tz or "UTC")
    place = calendar_zone or ZoneInfo("UTC")
    produced = 0
    for naive in rules:
        if start.all_day:
            when = When(day=naive.date())
        else:
            when = When(instant=naive.replace(tzinfo=tz).astimezone(UTC), tz=start.tz)
        moment = when.start_in(place)
        if before is not None and moment >= before:
            return
        if after is not None and moment + span <= after:
            continue
        yield when
        produced += 1
        if produced >= limit:
            return


def key_moment(key: str) -> When | None:
    """The original start an instance id suffix names (``20240108T090000Z`` or ``20240108``)."""
    try:
        if re.fullmatch(r"\d{8}", key):
            return When(day=datetime.strptime(key, "%Y%m%d").date())
        if re.fullmatch(r"\d{8}T\d{6}Z", key):
            return When(instant=datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
    except ValueError:
        return None
    return None


def is_occurrence(start: When, recurrence: list[str], key: str) -> When | None:
    """The occurrence whose instance id suffix is ``key``, if the series has one."""
    target = key_moment(key)
    if target is None or target.all_day != start.all_day:
        return None
    if target.day is not None:
        low = datetime.combine(target.day, datetime.min.time(), UTC) - timedelta(days=2)
    else:
        assert target.instant is not None
        low = target.instant - timedelta(days=1)
    for when in occurrences(start, recurrence, after=low, before=low + timedelta(days=4)):
        if when.key() == key:
            return when
    return None
