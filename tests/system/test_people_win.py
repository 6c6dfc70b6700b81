"""Property: whatever people do to single weeks, in either copy, a pass never undoes it, records
it, and a second pass changes nothing. In-process, on real vdir folders."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from scheduler.clientedits import cancel_instance, decline_instance, exdate_instance, move_instance
from scheduler.domain.series import utc
from tests.system.world import VdirWorld

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 5, 8, 0, tzinfo=NY)  # Tuesday of W01; W04 is January's close week
MARCO, ANA = "marco@acme.example", "ana@acme.example"

edit = st.tuples(
    st.sampled_from(["move", "exdate", "cancel", "decline"]),
    st.sampled_from(["marco", "ana"]),
    st.integers(min_value=0, max_value=3),  # move: hours later, on the same day
)


def _instances(path: Path, week_start: datetime) -> list[object]:
    calendar = Calendar.from_ical(path.read_bytes())
    return list(
        recurring_ical_events.of(calendar).between(week_start, week_start + timedelta(days=7))
    )


@pytest.mark.slow
@settings(max_examples=25)
@given(edits=st.dictionaries(st.sampled_from([2, 3, 5, 6]), edit, min_size=1, max_size=4))
def test_people_win_and_a_second_pass_changes_nothing(
    edits: dict[int, tuple[str, str, int]],
) -> None:
    with TemporaryDirectory() as folder:
        world = VdirWorld(Path(folder) / "org")
        try:
            world.sync(NOW)
            for week, (kind, owner, hours) in edits.items():
                path = world.series(owner, "marco", "ana")
                rid = datetime(2027, 1, 5, 10, 0, tzinfo=NY) + timedelta(weeks=week - 1)
                if kind == "move":
                    move_instance(path, rid, rid + timedelta(hours=hours + 1))
                elif kind == "exdate":
                    exdate_instance(path, rid)
                elif kind == "cancel":
                    cancel_instance(path, rid)
                else:
                    decline_instance(path, rid, world.email(owner))
            world.sync(NOW + timedelta(minutes=5))
            again = world.sync(NOW + timedelta(minutes=10))
            assert again.written == 0 and again.changes == []
            plan = {
                o.week: o for o in world.plan(NOW + timedelta(minutes=15)).planned if o.rep == ANA
            }
            for week, (kind, owner, hours) in edits.items():
                name = f"2027-W{week:02d}"
                rid = datetime(2027, 1, 5, 10, 0, tzinfo=NY) + timedelta(weeks=week - 1)
                monday = datetime(2027, 1, 4, tzinfo=NY) + timedelta(weeks=week - 1)
                assert plan[name].status.value == "people_changed", (name, kind)
                for copy in ("marco", "ana"):
                    found = _instances(world.series(copy, "marco", "ana"), monday)
                    starts = [utc(e.decoded("dtstart")) for e in found]  # type: ignore[attr-defined]
                    if kind == "move":
                        assert starts == [utc(rid + timedelta(hours=hours + 1))], (copy, name)
                    elif kind in ("exdate", "cancel"):
                        assert starts == [], (copy, name)
                    else:
                        assert starts == [utc(rid)], (copy, name)
                if kind == "decline":
                    text = world.series(owner, "marco", "ana").read_text()
                    assert "PARTSTAT=DECLINED" in text
            # One series file per person of the pair, never a duplicate.
            for copy in ("marco", "ana"):
                series = [
                    p for p in world.folder(copy).glob("oneonone-*.ics") if "makeup" not in p.name
                ]
                assert len(series) == (4 if copy == "marco" else 1)  # Marco is also a rep
        finally:
            world.close()
