"""A copy's baseline (``reconcile.Baseline``) lists only the weeks off the series' rule
(issue 17): every week reads back as the product wrote it, whether listed or not, across a
DST change, and a baseline made from the weeks a series shows equals one made from all."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.domain import iso_week
from scheduler.domain.records import OccurrenceRecord, SeriesRecord
from scheduler.reconcile import Baseline, at_rule, expected_instance, rule_instance

NY = ZoneInfo("America/New_York")
PAIR = "marco@acme.example/ana@acme.example"
FIRST = datetime(2027, 2, 23, 10, tzinfo=NY)  # a Tuesday; DST begins on 14 March


def _anchor() -> SeriesRecord:
    return SeriesRecord(
        pair_key=PAIR,
        uid="uid-1",
        organizer="marco@acme.example",
        dtstart=FIRST,
        weekday=1,
        at_time=time(10, 0),
        timezone="America/New_York",
        duration=timedelta(minutes=30),
        until=None,
        sequence=0,
        fingerprint="f1",
        dtstamp=FIRST,
        created_at=FIRST,
        updated_at=FIRST,
    )


def _weeks() -> dict[str, OccurrenceRecord]:
    found: dict[str, OccurrenceRecord] = {}
    for n in range(8):
        # Each week at 10:00 New York time, before and after the change of offset.
        start = datetime.combine((FIRST + timedelta(weeks=n)).date(), time(10), NY)
        week = iso_week(start.date())
        found[week] = OccurrenceRecord(
            PAIR, week, start, start, start + timedelta(minutes=30), "planned", "held", ""
        )
    weeks = list(found)
    moved = found[weeks[1]]
    found[weeks[1]] = replace(
        moved,
        people_changed=True,
        change="moved",
        actual_start=moved.planned_start + timedelta(days=1),
        actual_end=moved.planned_end + timedelta(days=1),
    )
    found[weeks[2]] = replace(found[weeks[2]], plan_status="close_week")
    found[weeks[3]] = replace(found[weeks[3]], people_changed=True, change="cancelled")
    found[weeks[4]] = replace(found[weeks[4]], people_changed=True, change="declined")
    longer = found[weeks[5]]
    found[weeks[5]] = replace(longer, planned_end=longer.planned_end + timedelta(minutes=15))
    # Stored in UTC (a ledger row read back): the same instant is still the rule's.
    plain = found[weeks[6]]
    found[weeks[6]] = replace(
        plain,
        planned_start=plain.planned_start.astimezone(UTC),
        planned_end=plain.planned_end.astimezone(UTC),
    )
    return found


def test_a_baseline_lists_only_the_weeks_off_the_rule() -> None:
    anchor, weeks = _anchor(), _weeks()
    baseline = Baseline.of(anchor, weeks)
    names = list(weeks)
    assert sorted(baseline.weeks) == [names[1], names[2], names[3], names[5]]
    for week, record in weeks.items():
        start, end, cancelled = baseline.instance(week)
        expected = expected_instance(record)
        assert (start.astimezone(UTC), end.astimezone(UTC), cancelled) == (
            expected[0].astimezone(UTC),
            expected[1].astimezone(UTC),
            expected[2],
        ), week
    # Through the ledger's text and back.
    again = Baseline.from_json(baseline.to_json())
    assert again.to_json() == baseline.to_json()
    assert all(again.instance(week)[2] == baseline.instance(week)[2] for week in weeks)


def test_the_weeks_at_the_rule_add_nothing_to_a_baseline() -> None:
    anchor, weeks = _anchor(), _weeks()
    shown = {week: record for week, record in weeks.items() if not at_rule(anchor, week, record)}
    assert Baseline.of(anchor, shown).to_json() == Baseline.of(anchor, weeks).to_json()
    # A week at another rule's time is off this one.
    later = replace(anchor, at_time=time(11, 0))
    assert not any(at_rule(later, week, record) for week, record in weeks.items())
    assert rule_instance(later, next(iter(weeks))) == FIRST + timedelta(hours=1)
