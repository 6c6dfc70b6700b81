"""Weeks are the org's: a Tokyo pair in a New York org, through whole passes on vdir.

Kenji's regular Monday 10:00 in Tokyo is Sunday evening in New York, where the org works Sunday
to Thursday: it lies in the org week before its own ISO week. Every calendar expanded with an
RFC 5545 library has exactly one 1:1 per org-zone ISO week, the ledger's weeks are those org
weeks, a person's move of one week is recorded against the org week it belongs to, and a
second pass writes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar

from scheduler.clientedits import move_instance
from scheduler.domain import iso_week
from scheduler.orgfile import load_org
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.system.helpers import calendar_files, series_file

NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
KENJI, YUI = "kenji@acme.example", "yui@acme.example"
#: Thursday 3 June 2027, 08:00 in New York.
START = datetime(2027, 6, 3, 8, 0, tzinfo=NY)

ORG = """
[org]
name = "Acme Tokyo"
timezone = "America/New_York"
workdays = ["sun", "mon", "tue", "wed", "thu"]
data_dir = "data"

[close_window]
rule = "last_week"
policy = "shift"

[[person]]
email = "vera@acme.example"
name = "Vera Vance"
working_hours = "06:00-22:00"
calendar = { provider = "vdir", path = "data/calendars/vera" }

[[person]]
email = "kenji@acme.example"
name = "Kenji Sato"
timezone = "Asia/Tokyo"
working_hours = "09:00-18:00"
workdays = ["mon", "tue", "wed", "thu", "fri"]
manager = "vera@acme.example"
calendar = { provider = "vdir", path = "data/calendars/kenji" }
weekday = "mon"
time = "10:00"

[[person]]
email = "yui@acme.example"
name = "Yui Tanaka"
timezone = "Asia/Tokyo"
working_hours = "09:00-18:00"
workdays = ["mon", "tue", "wed", "thu", "fri"]
manager = "kenji@acme.example"
calendar = { provider = "vdir", path = "data/calendars/yui" }
"""


def org_weeks(data: bytes, first: datetime, weeks: int) -> list[str]:
    """The org-zone ISO week of each instance of ``data`` from ``first`` on, in order."""
    instances = recurring_ical_events.of(Calendar.from_ical(data)).between(
        first, first + timedelta(weeks=weeks)
    )
    starts = sorted(event["DTSTART"].dt for event in instances)
    return [iso_week(start.astimezone(NY).date()) for start in starts]


def test_a_pair_whose_slot_is_in_another_org_week_has_one_1to1_per_org_week(
    tmp_path: Path,
) -> None:
    config = tmp_path / "oneonone.toml"
    config.write_text(ORG)
    org = load_org(config)
    ledger = Ledger(org.database_url)
    assert not run_pass(org, ledger, START, apply=True).safety
    calendars = tmp_path / "data" / "calendars"
    kenji_copy = series_file(calendars / "kenji", KENJI, YUI)
    yui_copy = series_file(calendars / "yui", KENJI, YUI)

    # Yui moves the 1:1 of org week 2027-W24 (Kenji's Monday 21 June, Sunday 20 June in New
    # York) to Tuesday 22 June 11:00 Tokyo, which is Monday 21 June in New York: org week W25.
    # That week then holds two 1:1s, by a person's choice, and W24 none; every other week one.
    rid = datetime(2027, 6, 21, 10, 0, tzinfo=TOKYO)
    move_instance(yui_copy, rid, datetime(2027, 6, 22, 11, 0, tzinfo=TOKYO))
    later = START + timedelta(days=1)
    assert not run_pass(org, ledger, later, apply=True).safety

    weeks = ledger.occurrences()[f"{KENJI}/{YUI}"]
    assert weeks["2027-W24"].people_changed
    assert weeks["2027-W24"].regular_start == rid
    for week, record in weeks.items():
        if week != "2027-W24":
            assert not record.people_changed, week
            assert iso_week(record.planned_start.astimezone(NY).date()) == week
    # The month-end close weeks (W22, W26) have none; the horizon is W22 to W27.
    held = [w for w, record in weeks.items() if record.status not in ("close_week", "time_off")]
    assert sorted(weeks) == [iso_week(START.date() + timedelta(weeks=i)) for i in range(6)]
    assert len(held) == 4
    for copy in (kenji_copy, yui_copy):
        found = org_weeks(copy.read_bytes(), START, 6)
        assert found == sorted([w for w in held if w != "2027-W24"] + ["2027-W25"]), copy

    files = calendar_files(tmp_path / "data" / "calendars")
    assert not run_pass(org, ledger, later + timedelta(hours=1), apply=True).safety
    assert calendar_files(tmp_path / "data" / "calendars") == files
