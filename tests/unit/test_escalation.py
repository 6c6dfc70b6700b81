"""The pure escalation decisions and the statuses they read, on hand-made weeks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.domain import week_after
from scheduler.errors import UserError
from scheduler.escalation import decide_digest, decide_pair, streak_start
from scheduler.orgfile import Escalation, load_org
from scheduler.reconcile import status_of
from scheduler.store.ledger import MakeupRecord, OccurrenceRecord
from tests.system.helpers import REPO

NY = ZoneInfo("America/New_York")
RULES = Escalation(escalate_after=2, window_misses=3, window_weeks=6)
KEY = "marco@acme.example/ana@acme.example"
MARCO, ANA, VERA = "marco@acme.example", "ana@acme.example", "vera@acme.example"


def _weeks(statuses: list[str], first: str = "2027-W01") -> dict[str, OccurrenceRecord]:
    result = {}
    for index, status in enumerate(statuses):
        week = week_after(first, index)
        start = datetime(2027, 1, 5, 10, tzinfo=NY) + timedelta(weeks=index)
        result[week] = OccurrenceRecord(
            KEY, week, start, start, start + timedelta(minutes=30), "planned", status, ""
        )
    return result


def _statuses(statuses: list[str], first: str = "2027-W01") -> dict[str, str]:
    return {week: record.status for week, record in _weeks(statuses, first).items()}


def _escalations(statuses: list[str]) -> list[str]:
    current = week_after("2027-W01", len(statuses) - 1)
    decided = decide_pair(KEY, MARCO, ANA, VERA, _statuses(statuses), RULES, current)
    return [d.week for d in decided if d.kind == "escalation"]


def test_two_misses_in_a_row_escalate_keyed_by_the_streaks_first_week() -> None:
    assert _escalations(["held", "declined"]) == []
    assert _escalations(["held", "declined", "cancelled"]) == ["2027-W02"]
    assert _escalations(["held", "declined", "cancelled", "missed"]) == ["2027-W02"]


def test_close_and_time_off_weeks_neither_count_nor_break_a_streak() -> None:
    assert _escalations(["held", "declined", "close_week"]) == []
    assert _escalations(["held", "declined", "close_week", "time_off", "declined"]) == ["2027-W02"]


def test_a_fresh_streak_after_a_held_1_1_escalates_again() -> None:
    weeks = ["declined", "declined", "held", "held", "held", "held", "held", "cancelled"]
    assert _escalations(weeks) == []
    assert _escalations([*weeks, "declined"]) == ["2027-W08"]


def test_the_window_rule_counts_misses_among_non_close_weeks() -> None:
    # Three misses among the last six counted weeks, none of them two in a row.
    assert _escalations(["declined", "held", "declined", "close_week", "held", "missed"]) == [
        "2027-W06"
    ]
    assert _escalations(["declined", "held", "declined", "held", "held", "held", "missed"]) == []


def test_no_skip_level_means_nudges_only() -> None:
    decided = decide_pair(
        KEY, MARCO, ANA, None, _statuses(["declined", "declined"]), RULES, "2027-W02"
    )
    assert {d.kind for d in decided} == {"nudge"}
    assert all(set(d.to) == {MARCO, ANA} for d in decided)


def test_old_misses_are_not_news() -> None:
    decided = decide_pair(KEY, MARCO, ANA, VERA, _statuses(["declined"]), RULES, "2027-W20")
    assert decided == []


def test_a_digest_goes_to_managers_with_a_skip_level_about_last_week() -> None:
    pairs = {KEY: _statuses(["held", "held"])}
    digest = decide_digest(MARCO, VERA, pairs, "2027-W03")
    assert digest is not None and digest.week == "2027-W02" and digest.to == (MARCO,)
    assert decide_digest(MARCO, None, pairs, "2027-W03") is None
    assert decide_digest(MARCO, VERA, {}, "2027-W03") is None


@given(
    st.lists(
        st.sampled_from(
            [
                "held",
                "moved",
                "made_up",
                "declined",
                "cancelled",
                "missed",
                "close_week",
                "time_off",
            ]
        ),
        max_size=20,
    )
)
def test_an_escalation_always_starts_on_a_miss_preceded_by_a_kept_week_or_nothing(
    statuses: list[str],
) -> None:
    for week in _escalations(statuses or ["held"]):
        index = int(week.split("W")[1]) - 1
        assert statuses[index] in ("declined", "cancelled", "missed")
        counted = [s for s in statuses[:index] if s not in ("close_week", "time_off")]
        assert not counted or counted[-1] in ("held", "moved", "made_up")
    settled = [(week_after("2027-W01", i), s) for i, s in enumerate(statuses)]
    start = streak_start(settled)
    if start is not None:
        assert dict(settled)[start] in ("declined", "cancelled", "missed")


def test_a_make_up_that_took_place_makes_the_week_made_up() -> None:
    record = _weeks(["upcoming"])["2027-W01"]
    cancelled = replace(record, change="cancelled", people_changed=True)
    later = record.planned_start + timedelta(days=2)
    makeup = MakeupRecord(
        KEY,
        "2027-W01",
        "u",
        later,
        later + timedelta(minutes=30),
        "booked",
        "",
        False,
        "",
        later,
        later,
    )
    assert status_of(cancelled, later - timedelta(hours=1), makeup) == "upcoming"
    assert status_of(cancelled, later + timedelta(hours=1), makeup) == "made_up"
    declined = replace(makeup, state="declined")
    assert status_of(cancelled, later + timedelta(hours=1), declined) == "cancelled"
    assert status_of(cancelled, later + timedelta(hours=1)) == "cancelled"


def test_a_sender_that_could_carry_a_header_is_refused(tmp_path: Path) -> None:
    text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
    config = tmp_path / "oneonone.toml"
    config.write_text(
        text.replace('from = "oneonone@acme.example"', 'from = "x@acme.example\\r\\nBcc: a@b.c"')
    )
    with pytest.raises(UserError) as raised:
        load_org(config, env={})
    assert any("notify.email.from" in problem for problem in raised.value.problems)


def test_a_digest_lists_the_pairs_with_weeks_in_it_not_every_pair_the_ledger_had() -> None:
    """A rep who left a year ago is no longer one of the manager's pairs (spec: "each of
    their pairs"); a pass that reads that old pair whole or not at all writes the same words."""
    from scheduler.notices import draft

    org = load_org(REPO / "scheduler" / "examples" / "oneonone.toml", env={})
    digest = decide_digest(MARCO, VERA, {KEY: _statuses(["held"] * 30)}, "2027-W31")
    assert digest is not None
    gone = "marco@acme.example/liam@acme.example"
    statuses = {KEY: _statuses(["held"] * 30), gone: _statuses(["declined"] * 5)}
    words = draft(digest, org, {}, {}, datetime(2027, 8, 2, tzinfo=NY), statuses)
    assert "Ana" in words.text and "Liam" not in words.text
    alone = draft(digest, org, {}, {}, datetime(2027, 8, 2, tzinfo=NY), {KEY: statuses[KEY]})
    assert (words.text, words.html) == (alone.text, alone.html)
