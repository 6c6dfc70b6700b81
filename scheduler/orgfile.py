"""The org file: read, validate and turn ``oneonone.toml`` into the org the product runs.

``load_org(path, env=...)`` parses the TOML file with pydantic models (unknown keys are
errors everywhere), checks what no single key can show (duplicate people, managers who are not
people, loops in the management chain, pairs whose working hours never meet, the holiday
country and the close window), and returns a frozen ``Org``: the people, the pairs with their
regular slots, each person's calendar, the schedule, escalation and e-mail settings, and the
org's ``OrgCalendar``. Every problem found is collected and raised at once as ``UserError``,
one plain sentence per problem naming the file, the key (``person[3] (ana@acme.example).time``;
people are counted from 1 in file order) and the fix.

Relative paths in the file resolve against the file's own folder.

The file's schema is one tree of pydantic models, ``OrgFile``: a model per table, each key typed
and checked by its validator. The environment is a second source for the same tree: any key of
any table except ``[[person]]`` is overridden by ``ONEONONE_<TABLE>__<KEY>`` (``__`` between
nested tables: ``ONEONONE_NOTIFY__EMAIL__HOST``), merged over the file's value before the table is
validated, so a value from the environment passes the same checks and a bad one is reported
naming the variable (``ONEONONE_SCHEDULE__HORIZON_WEEKS: 'abc' is not a whole number``). The
variable's text is taken as text when the key takes text, else as a TOML value (``8``,
``true``, ``["mon", "tue"]``); paths from the environment are relative to the current folder,
like ``--config``, since the deployment that sets them need not know where the org file is.
``ONEONONE_DATABASE_URL`` replaces the ledger's URL (see ``scheduler.settings``).

Regular slots: a rep's own ``weekday``/``time``/``duration_minutes``, else their manager's,
else ``[defaults]``. Reps who set no time of their own are placed back to back in file order
(10:00, 10:30, ...), skipping any slot of the same manager already taken on that day; one that
would run past the manager's working hours wraps to the same base time on the manager's next
workday.

``[server]`` says where the daemon's HTTP server listens (``bind``) and the address people
reach it at (``public_url``, default ``http://<bind>``); feed and agenda links are built on it.

``[google]`` says how oneonone signs in to Google for people with ``provider = "google"``: a
service account key with domain-wide delegation (``service_account_file``), or the token file a
single organizer's ``oneonone auth google`` writes (``token_file``, default
``<data_dir>/google-token.json``, made from ``oauth_client_file``); ``api_endpoint`` points the
API at an emulator or a proxy. Whether the files are
there and fit is checked by ``problems_in_calendars`` (``oneonone check``), not on loading, so
that ``oneonone auth google`` can load the file before a token exists.

Exports: load_org, problems_in_calendars, shared_working_time, hours_source, Org, CalendarConfig,
Schedule, Escalation, EmailSettings, ServerSettings, GoogleSettings, OrgFile, EXAMPLE_PATH. The
settings values are defined in ``scheduler.domain.settings`` (pure, no pydantic) and re-exported
here.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
import urllib.parse
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from scheduler.domain import Interval, Pair, Person, Slot, WorkingHours, wall_clock
from scheduler.domain.settings import (
    DEFAULT_TEMPLATE,
    AgendaSettings,
    CalendarConfig,
    EmailSettings,
    Escalation,
    GoogleSettings,
    Microsoft365Settings,
    Org,
    Schedule,
    ServerSettings,
)
from scheduler.errors import UserError
from scheduler.notify import address_of
from scheduler.rules import WEEKDAY_NAMES, CloseWindowConfig, OrgCalendar, parse_blackout
from scheduler.settings import EnvVariable, Settings, load_settings, section_variables
from scheduler.store.files import private_folder

__all__ = [
    "EXAMPLE_PATH",
    "CalendarConfig",
    "EmailSettings",
    "Escalation",
    "GoogleSettings",
    "Microsoft365Settings",
    "Org",
    "OrgFile",
    "Schedule",
    "ServerSettings",
    "hours_source",
    "load_org",
    "problems_in_calendars",
    "shared_working_time",
]

#: The commented example org file that ``oneonone init`` writes.
EXAMPLE_PATH = Path(__file__).parent / "examples" / "oneonone.toml"

_WEEKDAY_HINT = "use mon, tue, wed, thu, fri, sat or sun"
_CLOCK_HINT = 'use HH:MM on a 24-hour clock, such as "10:00" or "14:30"'
_HOURS_HINT = 'use HH:MM-HH:MM, such as "09:00-17:00"'
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_URL_RE = re.compile(r"^(https?|webcal)://\S+$", re.IGNORECASE)


# --------------------------------------------------------------------------- value parsers
# Each raises ValueError with the sentence's tail: what is wrong and how to write it instead.


def _parse_weekday(value: object) -> int:
    if isinstance(value, str):
        text = value.strip().lower()
        for number, name in enumerate(WEEKDAY_NAMES):
            # "tue", "Tue" and "tuesday" all mean Tuesday; "t" does not.
            if text == name or (len(text) > 3 and _FULL_WEEKDAYS[number] == text):
                return number
    raise ValueError(f"{value!r} is not a weekday; {_WEEKDAY_HINT}")


_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _parse_clock(value: object) -> dt.time:
    # TOML has local-time literals (10:00:00); accept them as well as the documented "10:00".
    if isinstance(value, dt.time):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError(
                f"{value.isoformat()} is not a time of day in whole minutes; {_CLOCK_HINT}"
            )
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return dt.time(int(match[1]), int(match[2]))
    raise ValueError(f"{value!r} is not a time of day; {_CLOCK_HINT}")


def _parse_hours(value: object) -> tuple[dt.time, dt.time]:
    if isinstance(value, str) and value.count("-") == 1:
        first, second = value.split("-")
        try:
            start, end = _parse_clock(first), _parse_clock(second)
        except ValueError:
            pass
        else:
            if end <= start:
                raise ValueError(
                    f"{value!r} ends before it starts (hours that cross midnight are not "
                    f"supported); {_HOURS_HINT}"
                )
            return start, end
    raise ValueError(f"{value!r} is not a span of working hours; {_HOURS_HINT}")


def _parse_workdays(value: object) -> frozenset[int]:
    if not isinstance(value, list):
        raise ValueError(f'{value!r} is not a list of weekdays; use e.g. ["mon", "tue", "wed"]')
    days = frozenset(_parse_weekday(item) for item in value)
    if not days:
        raise ValueError('names no day; use e.g. ["mon", "tue", "wed", "thu", "fri"]')
    return days


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _zones_by_lower() -> dict[str, str]:
    return {name.lower(): name for name in _zones()}


def _check_zone(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(
            f'{value!r} is not a time zone; use an IANA name such as "America/New_York"'
        )
    if value in _zones():
        return value
    lowered = _zones_by_lower()
    # Suggest the nearest real name: a case slip, a space for "_", or a typo.
    guess = lowered.get(value.strip().lower().replace(" ", "_"))
    if guess is None:
        close = difflib.get_close_matches(value.lower().replace(" ", "_"), list(lowered), n=1)
        guess = lowered[close[0]] if close else None
    suggestion = f'"{guess}"' if guess else '"America/New_York" or "Europe/London"'
    raise ValueError(f"{value!r} is not a time zone; use an IANA name such as {suggestion}")


def _check_email(value: object) -> str:
    if not isinstance(value, str) or not _EMAIL_RE.match(value.strip()):
        raise ValueError(f'{value!r} is not an e-mail address; use e.g. "ana@acme.example"')
    # E-mail addresses are compared without regard to case everywhere in the product.
    return value.strip().lower()


def _check_sender(value: object) -> str:
    """The ``from`` of notices: "name@domain" or "Name <name@domain>", nothing that could
    carry a header or a second address."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an e-mail address")
    try:
        address_of(value)
    except ValueError:
        raise ValueError(
            f'{value!r} is not a sender address; use e.g. "oneonone@acme.example" or '
            '"Sales 1:1s <oneonone@acme.example>"'
        ) from None
    return value.strip()


def _check_env_name(value: object) -> str:
    if not isinstance(value, str) or (value and not _ENV_NAME_RE.match(value)):
        raise ValueError(
            f"{value!r} is not the name of an environment variable; write the variable's NAME "
            '(letters, digits and _, e.g. "ONEONONE_SMTP_PASSWORD"), never the secret itself'
        )
    return value


def _check_caldav_url(value: object) -> str:
    """A CalDAV calendar's address: http or https, and no password in it (the password is
    read only from the variable ``password_env`` names; one in the address would show in
    every message naming the address). The refusal never repeats such an address."""
    if isinstance(value, str):
        try:
            password = urllib.parse.urlsplit(value.strip()).password
        except ValueError:
            password = None
        if password is not None:
            raise ValueError(
                "the address holds a password (user:password@); take it out: the password "
                "is read only from the environment variable password_env names"
            )
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value.strip(), re.I):
        raise ValueError(
            f"{value!r} is not an http or https address; use the calendar's address, e.g. "
            '"https://cloud.example.com/remote.php/dav/calendars/ana/personal/"'
        )
    return value.strip()


def _check_ics_source(value: object) -> str:
    """An ``ics`` calendar's source: a web address, a ``file://`` URL or a file path."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f'{value!r} is not a web address or a file path; use e.g. "https://example.com/cal.ics"'
            ' or "calendars/ana.ics"'
        )
    text = value.strip()
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    if scheme and scheme[1].lower() not in ("http", "https", "webcal", "file"):
        raise ValueError(
            f"{text!r} is not an address oneonone can read (only http, https, webcal and file); "
            'use e.g. "https://example.com/cal.ics"'
        )
    if scheme and scheme[1].lower() != "file" and not _URL_RE.match(text):
        raise ValueError(f'{text!r} is not a web address; use e.g. "https://example.com/cal.ics"')
    return text


def _check_bind(value: object) -> str:
    """``host:port`` to listen on: an IPv4 address or host name, or ``[IPv6]``, and a port."""
    match = (
        re.match(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$", value)
        if isinstance(value, str)
        else None
    )
    if match is None or not 1 <= int(match[2]) <= 65535:
        raise ValueError(
            f'{value!r} is not an address to listen on; use "HOST:PORT", e.g. "127.0.0.1:8321" '
            '(or "0.0.0.0:8321" to listen on every interface)'
        )
    return str(value)


def _check_public_url(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not text; use e.g. "https://oneonone.acme.example"')
    text = value.strip().rstrip("/")
    if text and not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", text, re.IGNORECASE):
        raise ValueError(
            f"{value!r} is not the address people reach the server at; use e.g. "
            '"https://oneonone.acme.example" (no query), or "" for http://<bind>'
        )
    return text


def _check_api_endpoint(value: object) -> str:
    """An API address for an emulator or a proxy: http or https, no query; empty for Google's."""
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not text; use e.g. "http://127.0.0.1:8085"')
    text = value.strip()
    if text and not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", text, re.IGNORECASE):
        raise ValueError(
            f"{value!r} is not an http or https address without a query; use e.g. "
            '"http://127.0.0.1:8085" for an emulator, or leave it out for Google\'s own'
        )
    return text


def _check_title(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not text; use e.g. "1:1 {{manager}} / {{rep}}"')
    try:
        value.format(manager="M", rep="R")
    except (KeyError, IndexError, ValueError):
        raise ValueError(
            f"{value!r} is not a title template; use only {{manager}} and {{rep}} as "
            "placeholders (write {{ and }} for literal braces)"
        ) from None
    return value


def _parse_blackout(value: object) -> tuple[tuple[dt.date, dt.date], ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(
            f'{value!r} is not a list of dates; use e.g. ["2026-12-24..2026-12-31", "2026-07-03"]'
        )
    try:
        return parse_blackout(value)
    except ValueError as exc:
        # The rules name the key themselves; the sentence names it already.
        raise ValueError(str(exc).removeprefix("close_window.blackout ")) from None


def _check_text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text; put it in double quotes")
    return value


def _check_nonblank(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{value!r} is empty; write it in double quotes")
    return value.strip()


# --------------------------------------------------------------------------- file models


class _RelativePath:
    """Marks a key that holds a path: relative to the org file's folder when the file sets it,
    to the current folder when the environment does."""


_PATH = _RelativePath()

Weekday = Annotated[int, BeforeValidator(_parse_weekday)]
Clock = Annotated[dt.time, BeforeValidator(_parse_clock)]
Hours = Annotated[tuple[dt.time, dt.time], BeforeValidator(_parse_hours)]
Workdays = Annotated[frozenset[int], BeforeValidator(_parse_workdays)]
ZoneName = Annotated[str, BeforeValidator(_check_zone)]
Email = Annotated[str, BeforeValidator(_check_email)]
EnvName = Annotated[str, BeforeValidator(_check_env_name)]
CaldavUrl = Annotated[str, BeforeValidator(_check_caldav_url)]
Text = Annotated[str, BeforeValidator(_check_text)]
Sender = Annotated[str, BeforeValidator(_check_sender)]
Nonblank = Annotated[str, BeforeValidator(_check_nonblank)]
FolderPath = Annotated[str, BeforeValidator(_check_nonblank), _PATH]
FilePath = Annotated[str, BeforeValidator(_check_text), _PATH]
Title = Annotated[str, BeforeValidator(_check_title)]
IcsSource = Annotated[str, BeforeValidator(_check_ics_source)]
Bind = Annotated[str, BeforeValidator(_check_bind)]
PublicUrl = Annotated[str, BeforeValidator(_check_public_url)]
ApiEndpoint = Annotated[str, BeforeValidator(_check_api_endpoint)]
Blackout = Annotated[tuple[tuple[dt.date, dt.date], ...], BeforeValidator(_parse_blackout)]
Minutes = Annotated[int, Field(strict=True, ge=5, le=8 * 60)]
Count = Annotated[int, Field(strict=True, ge=1)]
Hours0 = Annotated[int, Field(strict=True, ge=0)]
Flag = Annotated[bool, Field(strict=True)]


class _Section(BaseModel):
    # Unknown keys are errors so that a misspelt key is reported, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class OrgSection(_Section):
    name: Nonblank
    timezone: ZoneName
    country: Text | None = None
    subdivision: Text | None = None
    workdays: Workdays = frozenset(range(5))
    week_start: Weekday = 0
    data_dir: FolderPath = "data"


class DefaultsSection(_Section):
    weekday: Weekday = 1
    time: Clock = dt.time(10, 0)
    duration_minutes: Minutes = 30
    working_hours: Hours = (dt.time(9, 0), dt.time(17, 0))
    title: Title = "1:1 {manager} / {rep}"


class ScheduleSection(_Section):
    horizon_weeks: Annotated[int, Field(strict=True, ge=1, le=52)] = 6
    freeze_hours: Hours0 = 48
    makeup: Flag = True
    makeup_notice_hours: Hours0 = 2
    poll_minutes: Count = 5
    agenda_lead_hours: Hours0 = 72


class CloseWindowSection(_Section):
    rule: Literal["last_week", "last_business_days", "fiscal"] = "last_week"
    days: Annotated[int, Field(strict=True, ge=1, le=20)] = 3
    pattern: Literal["4-4-5", "4-5-4", "5-4-4"] = "4-4-5"
    # A TOML date literal or a "YYYY-MM-DD" string.
    year_start: dt.date | None = None
    quarter_end_only: Flag = False
    blackout: Blackout = ()
    policy: Literal["skip", "shift"] = "skip"


class EscalationSection(_Section):
    escalate_after: Count = 2
    window_misses: Count = 3
    window_weeks: Annotated[int, Field(strict=True, ge=1, le=52)] = 6


class EmailSection(_Section):
    host: Text = ""
    port: Annotated[int, Field(strict=True, ge=1, le=65535)] = 587
    starttls: Flag = True
    username: Text = ""
    password_env: EnvName = "ONEONONE_SMTP_PASSWORD"
    sender: Sender = Field(default="oneonone@localhost", alias="from")


class SlackSection(_Section):
    webhook_url_env: EnvName = ""


class NotifySection(_Section):
    email: EmailSection = Field(default_factory=EmailSection)
    slack: SlackSection = Field(default_factory=SlackSection)


class ServerSection(_Section):
    bind: Bind = "127.0.0.1:8321"
    public_url: PublicUrl = ""


class GoogleSection(_Section):
    # Paths relative to the org file's folder; empty: not set (token_file: <data_dir>/...).
    service_account_file: FilePath = ""
    oauth_client_file: FilePath = ""
    token_file: FilePath = ""
    api_endpoint: ApiEndpoint = ""


class Microsoft365Section(_Section):
    tenant_id: Text = ""
    client_id: Text = ""
    # The NAME of the environment variable holding the client secret, never the secret.
    client_secret_env: EnvName = ""
    # Paths relative to the org file's folder; empty: not set.
    certificate_file: FilePath = ""
    authority: ApiEndpoint = ""
    graph_endpoint: ApiEndpoint = ""
    ca_file: FilePath = ""


class VdirCalendar(_Section):
    provider: Literal["vdir"]
    path: Nonblank


class IcsCalendar(_Section):
    provider: Literal["ics"]
    url: IcsSource


class GoogleCalendar(_Section):
    provider: Literal["google"]


class Microsoft365Calendar(_Section):
    provider: Literal["microsoft365"]


class CaldavCalendar(_Section):
    provider: Literal["caldav"]
    url: CaldavUrl
    username: Nonblank
    password_env: EnvName
    # A CA bundle (PEM) to trust for the server's certificate, relative to the org file.
    ca_file: FilePath = ""


_CALENDAR_MODELS: dict[str, type[_Section]] = {
    "vdir": VdirCalendar,
    "ics": IcsCalendar,
    "google": GoogleCalendar,
    "caldav": CaldavCalendar,
    "microsoft365": Microsoft365Calendar,
}

CalendarSection = Annotated[
    VdirCalendar | IcsCalendar | GoogleCalendar | CaldavCalendar | Microsoft365Calendar,
    Field(discriminator="provider"),
]


class PersonSection(_Section):
    email: Email
    name: Text = ""
    timezone: ZoneName | None = None
    working_hours: Hours | None = None
    workdays: Workdays | None = None
    calendar: CalendarSection
    manager: Email | None = None
    weekday: Weekday | None = None
    time: Clock | None = None
    duration_minutes: Minutes | None = None
    # As a rep: the agenda template of their 1:1 (relative to the org file); empty: [agenda]'s.
    agenda_template: Text = ""


class AgendaSection(_Section):
    # Paths relative to the org file's folder; empty: the packaged default template, no CSVs.
    template: FilePath = ""
    pipeline_csv: FilePath = ""
    metrics_csv: FilePath = ""


class OrgFile(_Section):
    """The whole file: its tables, and the people.

    The loader validates each table on its own rather than the file at once, so that one broken
    table does not hide the problems of the others (and people can still be checked); the
    environment overrides keys of the tables, never people.
    """

    org: OrgSection
    defaults: DefaultsSection = Field(default_factory=DefaultsSection)
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    close_window: CloseWindowSection = Field(default_factory=CloseWindowSection)
    escalation: EscalationSection = Field(default_factory=EscalationSection)
    notify: NotifySection = Field(default_factory=NotifySection)
    server: ServerSection = Field(default_factory=ServerSection)
    agenda: AgendaSection = Field(default_factory=AgendaSection)
    google: GoogleSection = Field(default_factory=GoogleSection)
    microsoft365: Microsoft365Section = Field(default_factory=Microsoft365Section)
    person: list[PersonSection]


_SECTIONS: dict[str, type[_Section]] = {
    name: info.annotation
    for name, info in OrgFile.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, _Section)
}
_TOP_KEYS = tuple(OrgFile.model_fields)

# Fields whose value is a table chosen by a tag key: the tag appears in pydantic's error
# locations ("calendar", "vdir", "path") and is not a key the user wrote.
_TAGGED: dict[str, dict[str, type[_Section]]] = {"calendar": _CALENDAR_MODELS}

# What to write when a required key is missing.
_MISSING_HINTS = {
    "name": 'add name = "..."',
    "timezone": 'add timezone = "America/New_York" (an IANA time zone name)',
    "email": 'add email = "name@example.com"',
    "calendar": 'add calendar = { provider = "vdir", path = "data/calendars/<name>" }',
    "path": 'add path = "data/calendars/<name>" (relative to the org file\'s folder)',
    "url": 'add url = "https://..."',
    "username": 'add username = "..."',
    "password_env": 'add password_env = "NAME_OF_AN_ENVIRONMENT_VARIABLE"',
}


# --------------------------------------------------------------------------- errors


def _sentence(file: Path | str, key: str, text: str) -> str:
    text = text.rstrip()
    end = "" if text.endswith((".", "?", "!")) else "."
    return f"{file}: {key}: {text}{end}" if key else f"{file}: {text}{end}"


def _allowed(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _field_model(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    for name, info in model.model_fields.items():
        if (info.alias or name) == key:
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                return annotation
    return None


def _unknown_key(key: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return f"unknown key {key!r}; remove it"
    allowed = _allowed(model)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {key!r}; {hint}allowed keys here: {', '.join(allowed)}"


def _describe(
    error: Mapping[str, Any],
    model: type[BaseModel] | None,
    last: str,
    key: str,
    *,
    from_env: bool = False,
) -> str:
    """One pydantic error as the tail of a plain sentence (what is wrong, what to write).

    ``from_env``: the value came from an environment variable, where TOML's quoting advice
    does not apply.
    """
    kind = str(error["type"])
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if from_env:
        if kind.startswith("int") or kind == "is_instance_of":
            return f"{value!r} is not a whole number; set it to digits only"
        if kind.startswith("bool"):
            return f"{value!r} is not true or false; set it to true or false"
        if kind.startswith(("list", "tuple", "set", "frozen_set")):
            return f'{value!r} is not a list; set it to a TOML list, e.g. ["a", "b"]'
    if kind == "extra_forbidden":
        return _unknown_key(last, model)
    if kind == "missing":
        return f"required key missing; {_MISSING_HINTS.get(last, f'add {last} = ...')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "literal_error":
        return f"{value!r} is not allowed; use one of {ctx.get('expected', '')}"
    if kind == "union_tag_invalid":
        return (
            f"unknown provider {ctx.get('tag', value)!r}; "
            'use provider = "vdir", "ics", "google", "caldav" or "microsoft365"'
        )
    if kind == "union_tag_not_found":
        return (
            'says no provider; add provider = "vdir", "ics", "google", "caldav" or "microsoft365"'
        )
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        if last == "calendar":
            return (
                f"{value!r} is not a table; write e.g. "
                'calendar = { provider = "vdir", path = "data/calendars/<name>" }'
            )
        return f"{value!r} is not a table; write it as [{key}] with its keys under it"
    if kind.startswith("int") or kind == "is_instance_of":
        written = value.strip() if isinstance(value, str) and value.strip().isdigit() else "30"
        return f"{value!r} is not a whole number; write a number without quotes, e.g. {written}"
    if kind.startswith("bool"):
        return f"{value!r} is not true or false; write true or false without quotes"
    if kind.startswith("date"):
        return f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-01-04"
    if kind.startswith(("list", "tuple", "set", "frozen_set")):
        return f'{value!r} is not a list; write it in brackets, e.g. ["a", "b"]'
    if kind.startswith("string"):
        return f"{value!r} is not text; put it in double quotes"
    if kind == "greater_than_equal":
        return f"{value!r} is too small; use {ctx.get('ge')} or more"
    if kind == "less_than_equal":
        return f"{value!r} is too large; use {ctx.get('le')} or less"
    return f"{value!r} is not a valid value here"


def _translate(
    error: Mapping[str, Any],
    model: type[BaseModel],
    prefix: str,
    env_keys: Collection[str] = (),
) -> tuple[str, str]:
    """(key path, text) of one pydantic error, with the key path written the way the file is.

    ``env_keys``: the key paths whose values came from the environment.
    """
    loc = list(error["loc"])
    parts: list[str] = [prefix] if prefix else []
    current: type[BaseModel] | None = model
    parent: type[BaseModel] | None = model
    last = prefix
    index = 0
    while index < len(loc):
        item = loc[index]
        if isinstance(item, int):
            # List positions are counted from 1, like the people.
            if parts:
                parts[-1] += f"[{item + 1}]"
            current = None
            index += 1
            continue
        key = str(item)
        parent, last = current, key
        parts.append(key)
        tags = _TAGGED.get(key)
        if tags is not None and index + 1 < len(loc) and str(loc[index + 1]) in tags:
            current = tags[str(loc[index + 1])]
            index += 1  # the tag is pydantic's, not a key of the file
        elif current is not None:
            current = _field_model(current, key)
        index += 1
    path = ".".join(parts)
    model_here = parent if error["type"] == "extra_forbidden" else current
    return path, _describe(error, model_here, last, path, from_env=path in env_keys)


# --------------------------------------------------------------------------- working time


def _working_intervals(person: Person, monday: dt.date) -> list[Interval]:
    hours = person.working_hours
    zone = person.hours_zone
    spans = []
    # One day either side: in a zone far away, a day's hours can fall into the neighbouring
    # day of the other person's week.
    for offset in range(-1, 8):
        day = monday + dt.timedelta(days=offset)
        if day.weekday() in hours.days:
            spans.append(
                Interval(wall_clock(day, hours.start, zone), wall_clock(day, hours.end, zone))
            )
    return spans


def shared_working_time(a: Person, b: Person, monday: dt.date) -> list[Interval]:
    """The times in the week of ``monday`` (read in ``a``'s zone) when ``a`` and ``b`` both work."""
    week_start = wall_clock(monday, dt.time(0), a.zone)
    week_end = wall_clock(monday + dt.timedelta(days=7), dt.time(0), a.zone)
    shared = []
    for first in _working_intervals(a, monday):
        for second in _working_intervals(b, monday):
            start = max(first.start, second.start, week_start)
            end = min(first.end, second.end, week_end)
            if start < end:
                shared.append(Interval(start, end))
    return sorted(shared)


# A winter and a summer week: zones change their offsets apart from each other (Europe and
# North America switch on different dates, the south the other way round), so a pair can meet
# in one season and not the other.
_SAMPLE_WEEKS = (("January", dt.date(2026, 1, 5)), ("July", dt.date(2026, 7, 6)))


# --------------------------------------------------------------------------- slots


@dataclass
class _Booked:
    weekday: int
    start: int  # minutes from midnight, organizer's zone
    end: int


def _minutes(at: dt.time) -> int:
    return at.hour * 60 + at.minute


def _stagger(
    booked: list[_Booked], weekday: int, base: dt.time, duration: int, manager: Person
) -> Slot:
    """The first free slot from ``base`` on ``weekday``, back to back with what is booked.

    A slot pushed past the end of the manager's working hours wraps to ``base`` on the
    manager's next workday. With no room anywhere, the base slot (the planner resolves clashes).
    """
    hours_end = _minutes(manager.working_hours.end)
    workdays = sorted(manager.working_hours.days) or [weekday]
    day, start = weekday, _minutes(base)
    for _ in range(7 * 24 * 4 + 8):
        clash = next(
            (
                b
                for b in booked
                if b.weekday == day and b.start < start + duration and start < b.end
            ),
            None,
        )
        if clash is not None:
            start = clash.end
            continue
        if start != _minutes(base) and start + duration > hours_end:
            later = [d for d in workdays if d > day]
            day = later[0] if later else workdays[0]
            start = _minutes(base)
            if day == weekday:
                break  # every workday is full
            continue
        booked.append(_Booked(day, start, start + duration))
        return Slot(day, dt.time(start // 60, start % 60))
    booked.append(_Booked(weekday, _minutes(base), _minutes(base) + duration))
    return Slot(weekday, base)


# --------------------------------------------------------------------------- the environment


def _key_field(path: Sequence[str]) -> tuple[type[BaseModel], str, FieldInfo] | None:
    """The model and field of the key at ``path`` (spelt as in the file, e.g. ``("notify",
    "email", "from")``); None unless it is a key of a table (not a table, not a person's)."""
    model: type[BaseModel] = OrgFile
    for part in path[:-1]:
        inner = _field_model(model, part)
        if inner is None:
            return None
        model = inner
    if model is OrgFile or not path or _field_model(model, path[-1]) is not None:
        return None
    for name, info in model.model_fields.items():
        if (info.alias or name) == path[-1]:
            return model, name, info
    return None


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """A validator for one field of ``model`` alone: its type, constraints and validators."""
    info = model.model_fields[name]
    form: Any = info.annotation
    if info.metadata:
        form = Annotated[(form, *info.metadata)]
    return TypeAdapter(form)


def _toml_value(text: str) -> object | None:
    """What ``text`` means as a TOML value (``8``, ``true``, ``["mon"]``); None for text."""
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return None
    return None if isinstance(value, str) else value


def _from_environment(model: type[BaseModel], name: str, info: FieldInfo, text: str) -> object:
    """The value a variable's ``text`` stands for in field ``name`` of ``model``.

    Every variable is text, while the file's values are typed and checked strictly (a quoted
    ``"8"`` in the file is a mistake worth naming). So: the text itself when the key takes it,
    else the TOML value it spells (``8``, ``true``, ``["mon", "tue"]``), else what pydantic's
    lax mode makes of it (``yes`` for true). When nothing fits, the text (or its TOML value),
    for the error to quote. A path is made absolute against the current folder.
    """
    if _PATH in info.metadata and text.strip():
        text = str(Path.cwd() / Path(text.strip()).expanduser())
    adapter = _adapter(model, name)
    parsed = _toml_value(text)
    for candidate in (text, parsed):
        if candidate is None:
            continue
        try:
            adapter.validate_python(candidate)
        except ValidationError:
            continue
        return candidate
    try:
        coerced = adapter.validate_python(text, strict=False)
        adapter.validate_python(coerced)
    except ValidationError:
        return text if parsed is None else parsed
    return coerced


def _with_environment(
    raw: dict[str, Any], variables: Sequence[EnvVariable]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``raw`` with each variable that names a key of a table over the file's value, and where
    each such key came from (key path as in the file -> variable name).

    Other variables are left alone: ``ONEONONE_*`` also holds secrets the file names
    (``password_env``), the settings of ``scheduler.settings``, and people are the file's only.
    """
    merged = dict(raw)
    origins: dict[str, str] = {}
    for variable in variables:
        found = _key_field(variable.path)
        if found is None:
            continue
        table = merged
        for part in variable.path[:-1]:
            inner = table.get(part, {})
            if not isinstance(inner, dict):
                break  # the file's value is not a table: that is reported as the file's problem
            table[part] = dict(inner)
            table = table[part]
        else:
            table[variable.path[-1]] = _from_environment(*found, variable.text)
            origins[".".join(variable.path)] = variable.name
    return merged, origins


# --------------------------------------------------------------------------- loading


def _person_label(index: int, raw: object) -> str:
    email = raw.get("email") if isinstance(raw, dict) else None
    if isinstance(email, str) and email.strip():
        return f"person[{index}] ({email.strip().lower()})"
    return f"person[{index}]"


def _toml_problem(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    match = re.search(r"\(at line (\d+), column (\d+)\)$", message)
    what = re.sub(r"\s*\(at [^)]*\)$", "", message)
    where = f"line {match[1]}, column {match[2]}" if match else "the end of the file"
    return (
        f"{path}: TOML syntax error at {where}: {what}; fix the file there "
        '(text needs double quotes, keys are written key = "value", tables [name]).'
    )


class _Loader:
    """One pass over one org file, collecting every problem before giving up."""

    def __init__(
        self,
        path: Path,
        raw: dict[str, Any],
        settings: Settings | None,
        origins: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.raw = raw
        self.settings = settings
        #: key path -> the environment variable its value came from
        self.origins = dict(origins or {})
        self.problems: list[str] = []
        self.base_dir = path.resolve().parent
        # Every email in the file, broken entries included (set by _persons).
        self._known: set[str] = set()

    def problem(self, key: str, text: str) -> None:
        variable = self.origins.get(key)
        if variable is not None:
            # Said of the variable, which is what the deployment must fix.
            self.problems.append(_sentence(variable, "", text))
        else:
            self.problems.append(_sentence(self.path, key, text))

    def validate(self, model: type[_Section], value: object, key: str) -> Any:
        """``model`` validated from ``value``, or None after recording its problems."""
        if not isinstance(value, dict):
            what = "[[person]]" if key.startswith("person") else f"[{key}]"
            self.problem(key, f"{value!r} is not a table; write it as {what} with keys under it")
            return None
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            for error in exc.errors():
                self.problem(*_translate(error, model, key, self.origins))
            return None

    def section(self, name: str) -> Any:
        model = _SECTIONS[name]
        if name not in self.raw:
            if name == "org":
                self.problem(
                    "org",
                    'the [org] table is missing; add [org] with name = "..." and '
                    'timezone = "America/New_York"',
                )
                return None
            return model()
        return self.validate(model, self.raw[name], name)

    def load(self) -> Org:
        for key in self.raw:
            if key not in _TOP_KEYS:
                close = difflib.get_close_matches(key, _TOP_KEYS, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.problem(key, f"unknown table {key!r}; {hint}allowed: {', '.join(_TOP_KEYS)}")

        org: OrgSection | None = self.section("org")
        defaults: DefaultsSection = self.section("defaults") or DefaultsSection()
        schedule: ScheduleSection | None = self.section("schedule")
        close_window: CloseWindowSection | None = self.section("close_window")
        escalation: EscalationSection | None = self.section("escalation")
        notify: NotifySection | None = self.section("notify")
        server: ServerSection | None = self.section("server")
        agenda: AgendaSection = self.section("agenda") or AgendaSection()
        google: GoogleSection = self.section("google") or GoogleSection()
        microsoft365: Microsoft365Section = self.section("microsoft365") or Microsoft365Section()
        org_zone = org.timezone if org else self._raw_org_zone()
        org_workdays = org.workdays if org else frozenset(range(5))

        calendar = self._org_calendar(org, close_window)
        entries = self._people()
        people, labels, sections = self._persons(entries, defaults, org_zone, org_workdays)
        calendars = {email: self._calendar(section.calendar) for email, section in sections.items()}
        self._check_managers(people, labels)
        pairs = self._pairs(people, labels, sections, defaults, org_zone)
        self._check_overlaps(pairs, labels)

        if escalation is not None and escalation.window_misses > escalation.window_weeks:
            self.problem(
                "escalation.window_misses",
                f"{escalation.window_misses} misses can never happen in window_weeks = "
                f"{escalation.window_weeks}; use at most {escalation.window_weeks}",
            )

        if self.problems or org is None or calendar is None:
            raise UserError(self.problems)
        assert schedule is not None and escalation is not None and notify is not None
        assert server is not None

        data_dir = self.base_dir / Path(org.data_dir).expanduser()
        database_url = f"sqlite:///{data_dir / 'state.db'}"
        email = notify.email
        if self.settings is not None and self.settings.database_url:
            database_url = self.settings.database_url
        google_settings = GoogleSettings(
            service_account_file=self._path(google.service_account_file),
            oauth_client_file=self._path(google.oauth_client_file),
            token_file=self._path(google.token_file) or data_dir / "google-token.json",
            api_endpoint=google.api_endpoint or None,
        )
        m365_settings = Microsoft365Settings(
            tenant_id=microsoft365.tenant_id.strip(),
            client_id=microsoft365.client_id.strip(),
            client_secret_env=microsoft365.client_secret_env,
            certificate_file=self._path(microsoft365.certificate_file),
            authority=microsoft365.authority.rstrip("/"),
            graph_endpoint=microsoft365.graph_endpoint.rstrip("/"),
            ca_file=self._path(microsoft365.ca_file),
        )
        calendars = {
            email: replace(config, cache_dir=data_dir / "cache" / config.provider)
            if config.provider in ("ics", "caldav")
            else replace(config, google=google_settings)
            if config.provider == "google"
            else replace(config, microsoft365=m365_settings)
            if config.provider == "microsoft365"
            else config
            for email, config in calendars.items()
        }
        host, _, port = server.bind.rpartition(":")
        return Org(
            path=self.path,
            base_dir=self.base_dir,
            name=org.name,
            timezone=org.timezone,
            calendar=calendar,
            people=people,
            pairs=pairs,
            calendars=calendars,
            schedule=Schedule(**schedule.model_dump()),
            escalation=Escalation(**escalation.model_dump()),
            email=EmailSettings(
                host=email.host,
                port=email.port,
                starttls=email.starttls,
                username=email.username,
                password_env=email.password_env,
                sender=email.sender,
            ),
            slack_webhook_env=notify.slack.webhook_url_env,
            data_dir=data_dir,
            database_url=database_url,
            title_template=defaults.title,
            server=ServerSettings(
                host=host.strip("[]"),
                port=int(port),
                public_url=server.public_url or f"http://{server.bind}",
            ),
            agenda=AgendaSettings(
                template=self._path(agenda.template) or DEFAULT_TEMPLATE,
                pipeline_csv=self._path(agenda.pipeline_csv),
                metrics_csv=self._path(agenda.metrics_csv),
                pair_templates={
                    pair.key: path
                    for pair in pairs
                    if (path := self._path(sections[pair.rep.email].agenda_template)) is not None
                },
            ),
            google=google_settings,
            microsoft365=m365_settings,
        )

    def _path(self, text: str) -> Path | None:
        """A path from the org file, relative to its folder; None for an empty value."""
        return self.base_dir / Path(text).expanduser() if text.strip() else None

    def _raw_org_zone(self) -> str | None:
        # With a broken [org] table, its time zone may still be good enough to check people.
        raw = self.raw.get("org")
        zone = raw.get("timezone") if isinstance(raw, dict) else None
        return zone if isinstance(zone, str) and zone in _zones() else None

    def _org_calendar(
        self, org: OrgSection | None, close: CloseWindowSection | None
    ) -> OrgCalendar | None:
        config: CloseWindowConfig | None = None
        if close is not None:
            try:
                config = CloseWindowConfig(
                    rule=close.rule,
                    days=close.days,
                    pattern=close.pattern,
                    year_start=close.year_start,
                    quarter_end_only=close.quarter_end_only,
                    blackout=close.blackout,
                    policy=close.policy,
                )
            except ValueError as exc:
                self.problem("", _fix_close_message(str(exc)))
        if org is None:
            return None
        try:
            return OrgCalendar(
                workdays=org.workdays,
                country=org.country,
                subdivision=org.subdivision,
                week_start=org.week_start,
                close_window=config or CloseWindowConfig(),
            )
        except ValueError as exc:
            message = str(exc)
            key = "org.subdivision" if "subdivision" in message else "org.country"
            if "workdays" in message:
                key = "org.workdays"
            elif "week_start" in message:
                key = "org.week_start"
            self.problem(key, message)
            return None

    def _people(self) -> list[tuple[int, object]]:
        raw = self.raw.get("person")
        if raw is None:
            self.problem(
                "person",
                "the file names no people; add at least one [[person]] table with email and "
                "calendar",
            )
            return []
        if not isinstance(raw, list):
            self.problem("person", "is not a list of tables; write each person as [[person]]")
            return []
        return list(enumerate(raw, start=1))

    def _persons(
        self,
        entries: Sequence[tuple[int, object]],
        defaults: DefaultsSection,
        org_zone: str | None,
        org_workdays: frozenset[int],
    ) -> tuple[dict[str, Person], dict[str, str], dict[str, PersonSection]]:
        people: dict[str, Person] = {}
        labels: dict[str, str] = {}
        sections: dict[str, PersonSection] = {}
        first_seen: dict[str, str] = {}
        for index, raw in entries:
            label = _person_label(index, raw)
            section: PersonSection | None = self.validate(PersonSection, raw, label)
            if section is None:
                # Still known by email, so that references to this person are not also errors.
                email = raw.get("email") if isinstance(raw, dict) else None
                if isinstance(email, str):
                    first_seen.setdefault(email.strip().lower(), label)
                continue
            if section.email in first_seen:
                self.problem(
                    f"{label}.email",
                    f"{section.email} is already {first_seen[section.email]}; "
                    "each person appears once, so remove or merge one of them",
                )
                continue
            first_seen[section.email] = label
            zone = section.timezone or org_zone
            if zone is None:
                continue  # the org's time zone is broken, and that has been said
            start, end = section.working_hours or defaults.working_hours
            # What the entry sets itself: the rest, the org's defaults, a person's calendar
            # settings replace (Microsoft 365's mailboxSettings, read by the pass).
            given = {
                key
                for key, value in (
                    ("timezone", section.timezone),
                    ("working_hours", section.working_hours),
                    ("workdays", section.workdays),
                )
                if value is not None
            }
            people[section.email] = Person(
                email=section.email,
                name=section.name.strip(),
                timezone=zone,
                working_hours=WorkingHours(start, end, section.workdays or org_workdays),
                manager=section.manager,
                given=frozenset(given),
            )
            labels[section.email] = label
            sections[section.email] = section
        # People whose entries were broken still count as people for the manager check.
        self._known = set(first_seen)
        return people, labels, sections

    def _calendar(
        self,
        section: VdirCalendar
        | IcsCalendar
        | GoogleCalendar
        | CaldavCalendar
        | Microsoft365Calendar,
    ) -> CalendarConfig:
        if isinstance(section, VdirCalendar):
            return CalendarConfig("vdir", path=self.base_dir / Path(section.path).expanduser())
        if isinstance(section, IcsCalendar):
            if re.match(r"^(https?|webcal)://", section.url, re.IGNORECASE):
                return CalendarConfig("ics", url=section.url)
            # A file: a file:// URL or a path, relative to the org file's folder.
            local = section.url
            if local.lower().startswith("file://"):
                local = urllib.parse.unquote(urllib.parse.urlsplit(local).path)
            return CalendarConfig("ics", path=self.base_dir / Path(local).expanduser())
        if isinstance(section, CaldavCalendar):
            return CalendarConfig(
                "caldav",
                url=section.url,
                username=section.username,
                password_env=section.password_env,
                ca_file=self.base_dir / Path(section.ca_file).expanduser()
                if section.ca_file
                else None,
            )
        if isinstance(section, Microsoft365Calendar):
            return CalendarConfig("microsoft365")
        return CalendarConfig("google")

    def _check_managers(self, people: dict[str, Person], labels: dict[str, str]) -> None:
        for email, person in people.items():
            if person.manager is not None and person.manager not in self._known:
                self.problem(
                    f"{labels[email]}.manager",
                    f"{person.manager} is not a person in this file; fix the spelling or add a "
                    "[[person]] with that email",
                )
        reported: set[frozenset[str]] = set()
        for email in people:
            chain: list[str] = []
            current: str | None = email
            while current is not None and current in people and current not in chain:
                chain.append(current)
                current = people[current].manager
            if current is None or current not in chain:
                continue
            loop = chain[chain.index(current) :]
            if frozenset(loop) in reported:
                continue
            reported.add(frozenset(loop))
            first = min(loop, key=list(people).index)
            ordered = loop[loop.index(first) :] + loop[: loop.index(first)]
            names = " → ".join(_who(people[item]) for item in [*ordered, first])
            self.problem(
                f"{labels[first]}.manager",
                f"the management chain goes round in a loop ({names}); someone in it must "
                "report to a person outside the loop, or to no one",
            )

    def _pairs(
        self,
        people: dict[str, Person],
        labels: dict[str, str],
        sections: dict[str, PersonSection],
        defaults: DefaultsSection,
        org_zone: str | None,
    ) -> list[Pair]:
        booked: dict[str, list[_Booked]] = {}
        slots: dict[str, tuple[Slot, int]] = {}
        reps = [
            email
            for email, person in people.items()
            if person.manager in people and person.manager != email
        ]

        def setting(rep: str, get: Callable[[PersonSection], Any], fallback: Any) -> Any:
            own = get(sections[rep])
            if own is not None:
                return own
            boss = get(sections[people[rep].manager or ""])
            return boss if boss is not None else fallback

        # Reps with a time of their own first: they are where they asked to be, and the
        # staggered ones go around them.
        for rep in reps:
            if sections[rep].time is None:
                continue
            weekday = setting(rep, lambda s: s.weekday, defaults.weekday)
            duration = setting(rep, lambda s: s.duration_minutes, defaults.duration_minutes)
            at = sections[rep].time
            assert at is not None
            manager = people[rep].manager or ""
            booked.setdefault(manager, []).append(
                _Booked(weekday, _minutes(at), _minutes(at) + duration)
            )
            slots[rep] = (Slot(weekday, at), duration)
        for rep in reps:
            if rep in slots:
                continue
            manager = people[rep].manager or ""
            weekday = setting(rep, lambda s: s.weekday, defaults.weekday)
            duration = setting(rep, lambda s: s.duration_minutes, defaults.duration_minutes)
            base = setting(rep, lambda s: s.time, defaults.time)
            slot = _stagger(
                booked.setdefault(manager, []), weekday, base, duration, people[manager]
            )
            slots[rep] = (slot, duration)

        pairs = []
        for rep in reps:
            boss = people[people[rep].manager or ""]
            slot, duration = slots[rep]
            pairs.append(
                Pair(
                    manager=boss,
                    rep=people[rep],
                    slot=slot,
                    duration=dt.timedelta(minutes=duration),
                    skip_level=boss.manager,
                    org_timezone=org_zone,
                )
            )
        return pairs

    def _check_overlaps(self, pairs: list[Pair], labels: dict[str, str]) -> None:
        for pair in pairs:
            need = pair.duration
            minutes = int(need.total_seconds() // 60)
            for season, monday in _SAMPLE_WEEKS:
                shared = shared_working_time(pair.manager, pair.rep, monday)
                longest = max((i.end - i.start for i in shared), default=dt.timedelta(0))
                if longest >= need:
                    continue
                how = (
                    "never work at the same time"
                    if not shared
                    else f"share at most {int(longest.total_seconds() // 60)} minutes at a stretch"
                )
                self.problem(
                    f"{labels[pair.rep.email]}.working_hours",
                    f"{_hours_of(pair.rep)} and their manager {_hours_of(pair.manager)} {how} "
                    f"in a {season} week, too little for a {minutes}-minute 1:1; change "
                    "working_hours, workdays or timezone of one of them",
                )
                break


def _who(person: Person) -> str:
    return f"{person.name} ({person.email})" if person.name else person.email


def _hours_of(person: Person) -> str:
    hours = person.working_hours
    days = ",".join(WEEKDAY_NAMES[day] for day in sorted(hours.days))
    zone = hours.timezone or person.timezone
    return f"{_who(person)}, {hours.start:%H:%M}-{hours.end:%H:%M} {zone} on {days},"


def hours_source(person: Person, where: str) -> str | None:
    """A sentence saying which of ``person``'s zone and working hours came from their
    calendar (``where``: "Microsoft 365 mailbox settings"); ``None`` when none did."""
    if not person.from_calendar:
        return None
    hours = person.working_hours
    days = ",".join(WEEKDAY_NAMES[day] for day in sorted(hours.days))
    taken = " and ".join(
        name
        for key, name in (
            ("timezone", "time zone"),
            ("working_hours", "working hours"),
            ("workdays", "workdays"),
        )
        if key in person.from_calendar
    )
    zone = hours.timezone or person.timezone
    return (
        f"{person.email}: {taken} from their {where} (the org file gives none): "
        f"zone {person.timezone}, working {hours.start:%H:%M}-{hours.end:%H:%M} {zone} on {days}"
    )


def _fix_close_message(message: str) -> str:
    # The rules' messages already start with the key ("close_window.days must ...").
    return message if message.startswith("close_window") else f"close_window: {message}"


def load_org(path: Path, *, env: Mapping[str, str] | None = None) -> Org:
    """Read and validate the org file at ``path``; raise ``UserError`` listing every problem.

    ``env`` is the environment for overrides (default ``os.environ``): ``ONEONONE_<TABLE>__<KEY>``
    over any key of the file's tables, ``ONEONONE_DATABASE_URL`` (see the module docstring).
    """
    path = Path(path)
    if not path.exists():
        raise UserError(
            f"no org file at {path}: run `oneonone init --config {path}` to write an example"
        )
    if path.is_dir():
        raise UserError(f"{path} is a folder, not an org file: pass the .toml file with --config")
    try:
        # utf-8-sig: an editor's byte order mark at the start is not part of the TOML.
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(_toml_problem(path, exc)) from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None

    settings: Settings | None = None
    settings_problems: list[str] = []
    try:
        settings = load_settings(env)
    except UserError as exc:
        settings_problems = exc.problems
    raw, origins = _with_environment(raw, section_variables(env))
    loader = _Loader(path, raw, settings, origins)
    try:
        org = loader.load()
    except UserError as exc:
        raise UserError([*exc.problems, *settings_problems]) from None
    if settings_problems:
        raise UserError(settings_problems)
    return org


def problems_in_calendars(org: Org) -> list[str]:
    """Sentences for vdir calendar folders that cannot be created or written, CalDAV passwords
    not in the environment and CA files not there, and for Google credentials that are
    missing, broken or do not cover everyone on Google (empty: all fine).

    Creates missing folders, the way the first pass would. Reads the Google key and token
    files but asks Google nothing (the providers' own checks do).
    """
    problems = []
    for index, (email, config) in enumerate(org.calendars.items(), start=1):
        if config.provider != "vdir" or config.path is None:
            continue
        key = f"person[{index}] ({email}).calendar.path"
        folder = config.path
        try:
            if folder.exists() and not folder.is_dir():
                raise FileExistsError(folder)
            private_folder(folder)
        except FileExistsError:
            problems.append(
                _sentence(
                    org.path, key, f"{folder} exists and is not a folder; point path at a folder"
                )
            )
            continue
        except OSError as exc:
            problems.append(
                _sentence(
                    org.path,
                    key,
                    f"the folder {folder} cannot be created ({exc.strerror}); create it or "
                    "point path somewhere writable",
                )
            )
            continue
        if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            problems.append(
                _sentence(
                    org.path,
                    key,
                    f"the folder {folder} is not writable by this user; fix its permissions or "
                    "point path somewhere writable",
                )
            )
    return problems + _caldav_problems(org) + _google_problems(org) + _microsoft365_problems(org)


def _microsoft365_problems(org: Org) -> list[str]:
    """Whether ``[microsoft365]`` says how to sign in for the people on Microsoft 365: the
    tenant, the app, its secret's variable set (or a certificate file there), the CA file
    there (the provider's own check then signs in)."""
    on_m365 = [
        (index, email)
        for index, (email, config) in enumerate(org.calendars.items(), start=1)
        if config.provider == "microsoft365"
    ]
    if not on_m365:
        return []
    settings = org.microsoft365
    index, first = on_m365[0]
    who = f"person[{index}] ({first})" + (
        f" and {len(on_m365) - 1} more" if len(on_m365) > 1 else ""
    )
    problems = []
    for key, value, hint in (
        ("tenant_id", settings.tenant_id, "the Directory (tenant) ID of the app registration"),
        ("client_id", settings.client_id, "the Application (client) ID of the app registration"),
    ):
        if not value:
            problems.append(
                _sentence(
                    org.path,
                    f"microsoft365.{key}",
                    f'{who} use provider = "microsoft365", but [microsoft365] {key} is not '
                    f"set; set it to {hint} (Microsoft Entra admin center › App registrations)",
                )
            )
    if settings.certificate_file is not None:
        if not settings.certificate_file.is_file():
            problems.append(
                _sentence(
                    org.path,
                    "microsoft365.certificate_file",
                    f"{settings.certificate_file} is not a file; point certificate_file at the "
                    "PEM holding the app's private key and certificate",
                )
            )
    elif not settings.client_secret_env:
        problems.append(
            _sentence(
                org.path,
                "microsoft365.client_secret_env",
                f'{who} use provider = "microsoft365", but neither client_secret_env nor '
                "certificate_file is set; set client_secret_env to the NAME of an environment "
                "variable that holds the app's client secret",
            )
        )
    elif not os.environ.get(settings.client_secret_env):
        problems.append(
            _sentence(
                org.path,
                "microsoft365.client_secret_env",
                f"the environment variable {settings.client_secret_env} holding the Microsoft "
                "365 app's client secret is not set; set it before running oneonone",
            )
        )
    if settings.ca_file is not None and not settings.ca_file.is_file():
        problems.append(
            _sentence(
                org.path,
                "microsoft365.ca_file",
                f"{settings.ca_file} is not a file; point ca_file at the PEM bundle of the CA "
                "that signed the server's certificate",
            )
        )
    return problems


def _caldav_problems(org: Org) -> list[str]:
    """Whether each CalDAV calendar's password variable is set and its ``ca_file`` is there
    (the provider's own check then signs in to the server)."""
    problems = []
    for index, (email, config) in enumerate(org.calendars.items(), start=1):
        if config.provider != "caldav":
            continue
        key = f"person[{index}] ({email}).calendar"
        if config.password_env and not os.environ.get(config.password_env):
            problems.append(
                _sentence(
                    org.path,
                    f"{key}.password_env",
                    f"the environment variable {config.password_env} holding {email}'s CalDAV "
                    "password is not set; set it before running oneonone",
                )
            )
        if config.ca_file is not None and not config.ca_file.is_file():
            problems.append(
                _sentence(
                    org.path,
                    f"{key}.ca_file",
                    f"{config.ca_file} is not a file; point ca_file at the PEM bundle of the "
                    "CA that signed the server's certificate",
                )
            )
    return problems


def _google_problems(org: Org) -> list[str]:
    """Whether the ``[google]`` files are there and fit the people on Google Calendar."""
    settings = org.google
    on_google = [
        (index, email)
        for index, (email, config) in enumerate(org.calendars.items(), start=1)
        if config.provider == "google"
    ]
    if not on_google and settings.service_account_file is None:
        return []
    from scheduler.errors import CalendarError
    from scheduler.providers.google.auth import (
        load_service_account_key,
        read_token_file,
        token_owner,
    )

    problems = []
    if settings.oauth_client_file is not None and not settings.oauth_client_file.is_file():
        problems.append(
            _sentence(
                org.path,
                "google.oauth_client_file",
                f"{settings.oauth_client_file} does not exist; download the OAuth client (type "
                "Desktop app) from Google Cloud console › APIs & Services › Credentials there, "
                "or fix the path",
            )
        )
    if settings.service_account_file is not None:
        try:
            load_service_account_key(settings.service_account_file)
        except CalendarError as error:
            problems.append(_sentence(org.path, "google.service_account_file", str(error)))
        return problems
    if not on_google:
        return problems
    index, first = on_google[0]
    try:
        token = read_token_file(settings.token_file)
    except CalendarError as error:
        problems.append(_sentence(org.path, "google.token_file", str(error)))
        return problems
    if token is None:
        others = f" and {len(on_google) - 1} more use" if len(on_google) > 1 else " uses"
        problems.append(
            _sentence(
                org.path,
                "google.service_account_file",
                f'person[{index}] ({first}){others} provider = "google", but no Google '
                "credentials are set up: set service_account_file to the JSON key of a service "
                "account with domain-wide delegation (every person's calendar), or run "
                "`oneonone auth google --email ORGANIZER` to sign in a single organizer (it "
                f"writes {settings.token_file})",
            )
        )
        return problems
    owner = token_owner(token)
    beyond = [email for _, email in on_google if email != owner]
    if beyond:
        named = ", ".join(beyond[:3]) + (f" and {len(beyond) - 3} more" if len(beyond) > 3 else "")
        problems.append(
            _sentence(
                org.path,
                "google.service_account_file",
                f"the Google sign-in in {settings.token_file} is for {owner} only, so the "
                f"Google calendars of {named} cannot be reached; set service_account_file to "
                "the JSON key of a service account with domain-wide delegation",
            )
        )
    return problems
