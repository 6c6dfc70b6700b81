"""Close weeks are known ahead: no calendar or feed shows a 1:1 in a future close week.

The rule is open-ended and the ledger holds the horizon's weeks only; EXDATEs for every
close week (policy ``skip``) of the next 12 months are written on each series, so a rep who
looks two months ahead sees no 1:1 that will be removed later. Checked on every person's feed
and on the organizer's vdir copy, each expanded for 52 weeks with recurring-ical-events.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import recurring_ical_events
from icalendar import Calendar

from scheduler.feeds import build_feed
from scheduler.orgfile import Org, load_org
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.feeds.conftest import START, copy_example


def close_instances(org: Org, data: bytes) -> tuple[int, list[str]]:
    """How many instances the object has in the 52 weeks from ``START`` and those in a
    close window (their org-zone dates)."""
    instances = recurring_ical_events.of(Calendar.from_ical(data)).between(
        START, START + timedelta(weeks=52)
    )
    wrong = []
    for event in instances:
        start = event["DTSTART"].dt
        day = start.astimezone(org.zone).date()
        if org.calendar.close_reason(day) is not None:
            wrong.append(f"{event['UID']} {start.isoformat()}")
    return len(instances), wrong


def test_feeds_and_calendars_expanded_for_52_weeks_have_no_instance_in_a_close_window(
    tmp_path: Path,
) -> None:
    config = copy_example(tmp_path)
    org = load_org(config)
    assert org.calendar.close_window.policy == "skip"
    ledger = Ledger(org.database_url)
    assert not run_pass(org, ledger, START, apply=True).safety
    checked = 0
    for email in org.people:
        count, wrong = close_instances(org, build_feed(org, ledger, email).body)
        assert wrong == [], email
        checked += count
    # About 40 weeks a year are outside the close window; six pairs, counted once per side.
    assert checked > 6 * 2 * 35
    for path in sorted((tmp_path / "data" / "calendars").glob("*/oneonone-*.ics")):
        count, wrong = close_instances(org, path.read_bytes())
        assert count > 35 and wrong == [], path


def test_a_second_pass_changes_nothing(tmp_path: Path) -> None:
    config = copy_example(tmp_path)
    org = load_org(config)
    ledger = Ledger(org.database_url)
    run_pass(org, ledger, START, apply=True)
    files = sorted((tmp_path / "data" / "calendars").glob("*/*.ics"))
    before = {path: path.read_bytes() for path in files}
    run_pass(org, ledger, START + timedelta(hours=1), apply=True)
    assert {path: path.read_bytes() for path in files} == before
