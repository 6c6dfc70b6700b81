"""``report`` prints times in the organizer's zone and names it; ``report --json`` gives a
made-up week the make-up's time as ``start`` and the product's slot as ``planned_start``.

Before: moved weeks were printed in UTC (``Thu 04 Feb 21:00`` for a 16:00 New York 1:1, no zone
shown), and a ``made_up`` week's ``start`` was the cancelled slot.
"""

from __future__ import annotations

from datetime import datetime

from scheduler.report import build_report, format_report
from tests.feeds.conftest import ANA, DANA, MARCO, RAJ, History


def pair_of(report: dict, manager: str, rep: str) -> dict:  # type: ignore[type-arg]
    return next(p for p in report["pairs"] if (p["manager"], p["rep"]) == (manager, rep))


def test_a_made_up_week_starts_at_its_make_up_and_keeps_the_planned_slot(
    history: History,
) -> None:
    report = build_report(history.org, history.ledger, history.now, 20)
    made_up = [
        (pair, week)
        for pair in report["pairs"]
        for week in pair["weeks"]
        if week["status"] == "made_up"
    ]
    assert made_up, "the history has a made-up week"
    booked = history.ledger.makeups()
    for pair, week in made_up:
        key = f"{pair['manager']}/{pair['rep']}"
        makeup = booked[key][week["week"]]
        record = history.ledger.occurrences()[key][week["week"]]
        assert datetime.fromisoformat(week["start"]) == makeup.start
        assert datetime.fromisoformat(week["planned_start"]) == record.planned_start
        assert week["start"] != week["planned_start"]
    assert any((p["manager"], p["rep"]) == (DANA, RAJ) for p, _ in made_up)


def test_times_are_in_the_organizers_zone_with_the_offset_and_the_zone_named(
    history: History,
) -> None:
    report = build_report(history.org, history.ledger, history.now, 20)
    pair = pair_of(report, MARCO, ANA)
    assert pair["timezone"] == "America/New_York"
    for week in pair["weeks"]:
        for field in ("start", "planned_start"):
            offset = datetime.fromisoformat(week[field]).utcoffset()
            assert offset is not None and offset.total_seconds() in (-5 * 3600, -4 * 3600)
    moved = [w for w in pair["weeks"] if w["status"] == "moved"]
    assert moved, "Marco moved one of Ana's weeks"
    text = format_report(report)
    assert "times in America/New_York" in text
    local = datetime.fromisoformat(moved[0]["start"])
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith(f"{MARCO} / {ANA}"))
    line = next(line for line in lines[header:] if line.strip().startswith(moved[0]["week"]))
    assert f"{local:%a %d %b %H:%M}" in line
    assert ("EST" in line or "EDT" in line) and "UTC-0" in line
