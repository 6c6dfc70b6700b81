"""Property: over random busy calendars and dates, a second pass changes no file, and every
pair has exactly one ledger entry per planned week. In-process, on real vdir folders."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.orgfile import load_org
from scheduler.planner import weeks_from
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.system.helpers import REPO, calendar_files, write_busy

NY = ZoneInfo("America/New_York")
PEOPLE = ["vera", "marco", "dana", "ana", "liam", "sam", "raj", "lucia", "tom"]

busy_event = st.tuples(
    st.sampled_from(PEOPLE),
    st.integers(min_value=0, max_value=6 * 7 - 1),  # day offset from now
    st.integers(min_value=7 * 4, max_value=19 * 4),  # quarter hour of the day
    st.sampled_from([30, 60, 120, 480]),
)


@settings(max_examples=15)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 1)),
    events=st.lists(busy_event, max_size=40),
)
def test_a_second_pass_changes_nothing_and_each_week_has_one_entry(
    start: datetime, events: list[tuple[str, int, int, int]]
) -> None:
    with TemporaryDirectory() as folder:
        config = Path(folder) / "oneonone.toml"
        shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", config)
        now = start.replace(tzinfo=NY, second=0, microsecond=0)
        calendars = Path(folder) / "data" / "calendars"
        for index, (name, day, quarter, minutes) in enumerate(events):
            begin = (now + timedelta(days=day)).replace(hour=quarter // 4, minute=quarter % 4 * 15)
            write_busy(calendars / name, f"busy-{index}", begin, minutes)
        org = load_org(config)
        ledger = Ledger(org.database_url)
        try:
            first = run_pass(org, ledger, now, apply=True)
            assert not first.safety
            files = calendar_files(calendars)
            second = run_pass(org, ledger, now, apply=True)
            assert second.written == 0 and second.changes == []
            assert calendar_files(calendars) == files
            later = run_pass(org, ledger, now + timedelta(minutes=5), apply=True)
            assert later.changes == [] or all(c.action == "update_series" for c in later.changes)
            weeks = set(weeks_from(now, org.zone, org.schedule.horizon_weeks))
            recorded = ledger.occurrences()
            for pair in org.pairs:
                entries = [item for item in second.planned if item.pair_key == pair.key]
                assert len({item.week for item in entries}) == len(entries)
                assert {item.week for item in entries} <= weeks
                assert {item.week for item in entries} <= set(recorded.get(pair.key, {}))
        finally:
            ledger.close()
