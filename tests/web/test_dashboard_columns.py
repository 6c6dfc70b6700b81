"""The dashboard's columns on a ledger a pass wrote: the last 12 weeks and the pass's horizon,
which both count the current week, so no column is always empty."""

from __future__ import annotations

from scheduler.dashboard import ALL
from scheduler.dashboard_io import HISTORY_WEEKS, load_dashboard
from scheduler.planner import weeks_from
from tests.web.conftest import Quarter


def test_the_columns_are_the_last_12_weeks_and_the_horizon_each_with_a_record(
    quarter: Quarter,
) -> None:
    _, dashboard = load_dashboard(quarter.org, quarter.ledger, ALL, quarter.now)
    horizon = weeks_from(quarter.now, quarter.org.zone, quarter.org.schedule.horizon_weeks)
    assert dashboard.weeks[HISTORY_WEEKS - 1] == dashboard.current_week == horizon[0]
    assert dashboard.weeks[HISTORY_WEEKS - 1 :] == tuple(horizon)
    # A column past the horizon was "no record" for every pair, always: it read as lost data.
    last = [row.cells[-1].status for group in dashboard.groups for row in group.rows]
    assert last and "none" not in last
