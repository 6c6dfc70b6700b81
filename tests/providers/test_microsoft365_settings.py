"""Zone and working hours from Microsoft 365 ``mailboxSettings`` when the org file gives none:
what the file sets always wins; the planner then places the 1:1 inside the mailbox's hours
(a Graph emulator on 127.0.0.1 plays the mailboxes)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain import CalendarSettings, Person, WorkingHours
from scheduler.orgfile import load_org
from scheduler.providers.microsoft365 import events as mev
from scheduler.providers.microsoft365 import forget_sessions
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.graph_emulator import GraphEmulator

VAR = "TEST_M365_SETTINGS_SECRET"
NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=NY)  # a Monday
FOUR_DAYS = ("monday", "tuesday", "wednesday", "thursday")


def test_a_mailbox_settings_answer_reads_windows_zones_days_and_the_hours_own_zone() -> None:
    found = mev.settings_of(
        {
            "timeZone": "Pacific Standard Time",
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday"],
                "startTime": "08:30:00.0000000",
                "endTime": "16:00:00.0000000",
                "timeZone": {"name": "Eastern Standard Time"},
            },
        }
    )
    assert found.timezone == "America/Los_Angeles"
    assert found.working_hours == WorkingHours(
        time(8, 30), time(16), frozenset({0, 1, 2, 3}), "America/New_York"
    )
    # The hours in the mailbox's own zone carry none; nonsense is no answer.
    same = mev.settings_of(
        {
            "timeZone": "Pacific Standard Time",
            "workingHours": {
                "daysOfWeek": ["friday"],
                "startTime": "09:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": "Pacific Standard Time"},
            },
        }
    )
    assert same.working_hours is not None and same.working_hours.timezone is None
    broken = mev.settings_of(
        {"timeZone": "Nowhere Standard Time", "workingHours": {"startTime": "17:00:00"}}
    )
    assert broken == CalendarSettings(None, None)


def test_what_the_org_file_sets_wins_over_the_mailbox() -> None:
    mailbox = CalendarSettings(
        "America/Los_Angeles", WorkingHours(time(8), time(16), frozenset({0, 1, 2, 3}))
    )
    defaults = Person("a@x.example", "", "America/New_York", given=frozenset())
    taken = defaults.with_calendar_settings(mailbox)
    assert taken.timezone == "America/Los_Angeles"
    assert taken.working_hours == WorkingHours(time(8), time(16), frozenset({0, 1, 2, 3}))
    assert taken.from_calendar == {"timezone", "working_hours", "workdays"}
    own_zone = Person("a@x.example", "", "America/New_York", given=frozenset({"timezone"}))
    kept = own_zone.with_calendar_settings(mailbox)
    assert kept.timezone == "America/New_York"
    # The mailbox's hours stay in the mailbox's zone, not read as New York's.
    assert kept.working_hours.timezone == "America/Los_Angeles"
    assert kept.hours_zone == LA
    everything = Person("a@x.example", "", "America/New_York")
    assert everything.with_calendar_settings(mailbox) is everything


def _org(tmp_path: Path, emu: GraphEmulator) -> Path:
    (tmp_path / "ca.pem").write_bytes(emu.ca_file.read_bytes())
    path = tmp_path / "oneonone.toml"
    path.write_text(
        f"""
[org]
name = "Settings"
timezone = "America/New_York"
country = "US"

[defaults]
weekday = "fri"
time = "10:00"
working_hours = "09:00-17:00"

[microsoft365]
tenant_id = "{emu.tenant}"
client_id = "{emu.client_id}"
client_secret_env = "{VAR}"
authority = "{emu.authority}"
graph_endpoint = "{emu.graph_url}"
ca_file = "ca.pem"

[[person]]
email = "mia@example.com"
timezone = "America/New_York"
working_hours = "09:00-17:00"
workdays = ["mon", "tue", "wed", "thu", "fri"]
calendar = {{ provider = "microsoft365" }}

[[person]]
email = "pat@example.com"
manager = "mia@example.com"
calendar = {{ provider = "microsoft365" }}

[[person]]
email = "noor@example.com"
manager = "mia@example.com"
timezone = "America/New_York"
working_hours = "09:00-17:00"
workdays = ["mon", "tue", "wed", "thu", "fri"]
calendar = {{ provider = "microsoft365" }}
"""
    )
    return path


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator().start()
    emulator.add_user("mia@example.com", time_zone="America/New_York")
    # Pat works from California, Monday to Thursday, 09:00-17:00 there (12:00-20:00 in NY).
    emulator.add_user(
        "pat@example.com",
        time_zone="America/Los_Angeles",
        working_hours=(time(9), time(17)),
        working_days=FOUR_DAYS,
    )
    # Noor's mailbox says California too, but the org file says New York: the file wins.
    emulator.add_user("noor@example.com", time_zone="America/Los_Angeles")
    saved = os.environ.get(VAR)
    os.environ[VAR] = emulator.client_secret
    forget_sessions()
    try:
        yield emulator
    finally:
        forget_sessions()
        emulator.stop()
        if saved is None:
            os.environ.pop(VAR, None)
        else:
            os.environ[VAR] = saved


def test_a_rep_without_zone_or_hours_gets_the_mailboxes_and_the_1_1_lands_inside_them(
    tmp_path: Path, emu: GraphEmulator
) -> None:
    org = load_org(_org(tmp_path, emu), env={})
    assert org.people["pat@example.com"].timezone == "America/New_York"  # the org default
    ledger = Ledger(org.database_url)
    try:
        result = run_pass(org, ledger, NOW, apply=True, env={})
        assert not result.problems, result.problems
        pat = [p for p in result.planned if p.rep == "pat@example.com" and not p.skipped]
        noor = [p for p in result.planned if p.rep == "noor@example.com" and not p.skipped]
        assert pat and noor
        for planned in pat:
            local = planned.start.astimezone(LA)
            # Inside Pat's Monday-to-Thursday 09:00-17:00 in Los Angeles, and Mia's hours.
            assert local.weekday() in (0, 1, 2, 3), planned
            assert time(9) <= local.time() and (planned.end.astimezone(LA)).time() <= time(17)
            assert time(9) <= planned.start.astimezone(NY).time() <= time(16, 30)
            # Friday 10:00 is out: the nearest day is Thursday, at 12:00 in New York.
            assert planned.start.astimezone(NY).time() == time(12), planned
        # Noor's entry sets everything: her regular Friday slot (10:30, after Pat's), and no
        # mailbox settings read for her.
        assert all(
            p.start == p.regular_start and p.start.astimezone(NY).weekday() == 4 for p in noor
        )
        asked = [user for user, _, kind in emu.requests_log if kind == "mailboxSettings"]
        assert asked == ["pat@example.com"]
        # Read once, then kept (a day): the next pass asks nothing and writes nothing.
        emu.reset_counts()
        again = run_pass(org, ledger, NOW + timedelta(minutes=5), apply=True, env={})
        assert not again.problems and again.written == 0
        assert "mailboxSettings" not in {kind for _, _, kind in emu.requests_log}
        # A new process reads them from the ledger's state, not from Graph.
        forget_sessions()
        emu.reset_counts()
        third = run_pass(org, ledger, NOW + timedelta(minutes=10), apply=True, env={})
        assert not third.problems and third.written == 0
        assert "mailboxSettings" not in {kind for _, _, kind in emu.requests_log}
    finally:
        ledger.close()


def test_unreadable_mailbox_settings_leave_that_calendar_unread_not_planned_by_defaults(
    tmp_path: Path, emu: GraphEmulator
) -> None:
    org = load_org(_org(tmp_path, emu), env={})
    emu.deny("pat@example.com")
    ledger = Ledger(org.database_url)
    try:
        result = run_pass(org, ledger, NOW, apply=True, env={})
    finally:
        ledger.close()
    said = [p for p in result.problems if "pat@example.com" in p and "mailbox settings" in p]
    assert said, result.problems
    assert not any(item.is_series for item in emu.items("mia@example.com") if _pat(item))


def _pat(item: object) -> bool:
    data = getattr(item, "data", {})
    return any(
        a["emailAddress"]["address"] == "pat@example.com" for a in data.get("attendees") or []
    )


def test_check_says_where_a_persons_hours_come_from(
    tmp_path: Path, emu: GraphEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from scheduler.cli import main

    path = _org(tmp_path, emu)
    assert main(["check", "--config", str(path), "--now", NOW.isoformat()]) == 0, (
        capsys.readouterr().err
    )
    said = capsys.readouterr().out
    assert (
        "pat@example.com: time zone and working hours and workdays from their Microsoft 365 "
        "mailbox settings" in said
    )
    assert "America/Los_Angeles" in said and "mon,tue,wed,thu" in said
    assert "noor@example.com" not in said
