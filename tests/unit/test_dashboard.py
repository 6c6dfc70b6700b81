"""The dashboard's data (pure): whose pairs a dashboard shows, the heatmap's cells, roll-ups,
streaks and trend; close and time-off weeks shown and not counted."""

from __future__ import annotations

import io
from typing import Any

import pytest

from scheduler.dashboard import ALL, build_dashboard, csv_rows, heatmap_svg, in_scope, scope_json
from scheduler.report import print_summary, summary_rows

VP, M1, M2 = "vp@x.example", "m1@x.example", "m2@x.example"
WEEKS = [f"2027-W{n:02d}" for n in range(1, 15)]


def pair(manager: str, rep: str, statuses: list[str], skip: str | None = None) -> dict[str, Any]:
    from scheduler.adherence import adherence, missed_streak

    weeks = [
        {
            "week": week,
            "status": status,
            "start": f"2027-01-{(i % 27) + 1:02d}T10:00:00-05:00",
            "planned_start": f"2027-01-{(i % 27) + 1:02d}T10:00:00-05:00",
            "agenda": None,
        }
        for i, (week, status) in enumerate(zip(WEEKS, statuses, strict=False))
        if status
    ]
    settled = [s for s in statuses if s]
    return {
        "manager": manager,
        "rep": rep,
        "skip_level": skip,
        "active": True,
        "missed_streak": missed_streak(settled[:12]),
        "adherence_4w": adherence(settled[8:12]),
        "adherence_12w": adherence(settled[:12]),
        "timezone": "America/New_York",
        "weeks": weeks,
        "open_items": [],
    }


def report() -> dict[str, Any]:
    held = ["held"] * 12 + ["upcoming", "upcoming"]
    return {
        "pairs": [
            pair(VP, M1, held),
            pair(VP, M2, held),
            pair(
                M1,
                "a@x.example",
                ["held"] * 8
                + ["close_week", "held", "missed", "declined"]
                + ["upcoming", "upcoming"],
                VP,
            ),
            pair(
                M1,
                "b@x.example",
                ["held"] * 10 + ["time_off", "time_off"] + ["upcoming", "upcoming"],
                VP,
            ),
            pair(M2, "c@x.example", [""] * 6 + ["held"] * 6 + ["upcoming", "upcoming"], VP),
        ],
        "notices": [
            {
                "kind": "digest",
                "manager": M1,
                "rep": None,
                "week": "2027-W12",
                "to": VP,
                "sent_at": None,
            },
            {
                "kind": "nudge",
                "manager": M2,
                "rep": "c@x.example",
                "week": "2027-W12",
                "to": M2,
                "sent_at": None,
            },
        ],
    }


def keys(pairs: list[Any]) -> set[str]:
    return {f"{p['manager']}/{p['rep']}" for p in pairs}


def test_a_skip_level_sees_everyone_below_a_manager_their_pairs() -> None:
    pairs = report()["pairs"]
    assert len(in_scope(VP, pairs)) == 5
    assert len(in_scope(ALL, pairs)) == 5
    assert keys(in_scope(M1, pairs)) == {f"{M1}/a@x.example", f"{M1}/b@x.example"}
    assert keys(in_scope("a@x.example", pairs)) == set()
    assert keys(in_scope(M1.upper(), pairs)) == keys(in_scope(M1, pairs))


def test_cells_are_the_reports_statuses_and_missing_weeks_are_none() -> None:
    made = report()
    dash = build_dashboard(made, ALL, "2027-W12", history=12, ahead=2)
    assert dash.weeks == tuple(WEEKS[:14])
    cells = {(c.pair, c.week): c.status for g in dash.groups for r in g.rows for c in r.cells}
    for p in made["pairs"]:
        key = f"{p['manager']}/{p['rep']}"
        recorded = {w["week"]: w["status"] for w in p["weeks"]}
        for week in dash.weeks:
            assert cells[(key, week)] == recorded.get(week, "none")


def test_roll_ups_pool_weeks_and_close_and_time_off_weeks_do_not_count() -> None:
    dash = build_dashboard(report(), M1, "2027-W12", history=12, ahead=2)
    (group,) = dash.groups
    assert group.manager == M1
    # a: W09 close (not counted), W10 held, W11 missed, W12 declined; b: W09 held, W10 held,
    # W11–W12 time off (not counted): 3 kept of 5 counted over 4 weeks.
    assert group.adherence_4w == round(3 / 5, 3)
    # 12 weeks: a has 9 kept of 11 counted, b 10 of 10.
    assert group.adherence_12w == round(19 / 21, 3)
    assert group.on_streak == 1 and group.longest_streak == 2
    by_rep = {row.rep: row for row in group.rows}
    assert by_rep["b@x.example"].adherence_4w == 1.0
    assert [c.status for c in by_rep["b@x.example"].cells][10:12] == ["time_off", "time_off"]
    trend = dict(dash.trend)
    assert trend["2027-W11"] == 0.0  # a missed, b away: one counted week, not kept
    assert trend["2027-W09"] == 1.0  # a's close week is not counted
    assert "2027-W13" not in trend  # the future has no adherence


def test_json_is_the_report_shape_of_the_scope_and_csv_a_row_per_pair_and_week() -> None:
    made = report()
    dash = build_dashboard(made, M2, "2027-W12", history=12, ahead=2)
    data = scope_json(made, dash)
    assert keys(data["pairs"]) == {f"{M2}/c@x.example"}
    assert [n["kind"] for n in data["notices"]] == ["nudge"]
    assert set(data["pairs"][0]) >= {
        "manager",
        "rep",
        "skip_level",
        "missed_streak",
        "adherence_4w",
        "adherence_12w",
        "weeks",
    }
    rows = csv_rows(dash)
    assert rows[0][:4] == ("manager", "rep", "week", "status")
    assert len(rows) == 1 + 14
    assert rows[1][3] == "none" and rows[7][3] == "held"


def test_the_report_summary_is_coloured_on_a_terminal_only() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    made = report()
    rows = summary_rows(made, {M1: "Mia One"})
    assert rows[2]["pair"] == "Mia One / a@x.example" and rows[2]["missed_streak"] == 2
    assert rows[2]["last_held"] is not None and rows[2]["last_held"].endswith("EST")
    shown = Terminal()
    print_summary(made, shown)
    assert "\x1b[" in shown.getvalue()
    plain = Terminal()
    print_summary(made, plain, color=False)
    assert "\x1b[" not in plain.getvalue() and "Mia One" not in plain.getvalue()
    piped = io.StringIO()
    print_summary(made, piped)
    assert "\x1b[" not in piped.getvalue()


def test_the_report_summary_keeps_each_pair_on_one_line_of_an_80_column_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    # The example org's longest pair name: wrapped onto a second line at 80 columns, the
    # table read as two pairs, one of them with no figures.
    monkeypatch.setenv("COLUMNS", "80")
    names = {M1: "Dana Brooks", "a@x.example": "Lucia Flores", "b@x.example": "Tom Becker"}
    shown = Terminal()
    print_summary(report(), shown, names=names, color=False)
    lines = shown.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    for pair_name in ("Dana Brooks / Lucia Flores", "Dana Brooks / Tom Becker"):
        (line,) = [line for line in lines if pair_name in line]
        assert "%" in line and "EST" in line  # figures and last held on the pair's own line


def test_the_digest_heatmaps_week_labels_stay_above_its_cells() -> None:
    import math
    import re

    svg = heatmap_svg([("Ana Alvarez", ["held", "close_week"])], ["2027-W01", "2027-W02"])
    first_row = min(float(y) for y in re.findall(r'<rect x="[^"]+" y="([^"]+)"', svg))
    labels = re.findall(
        r'<text x="([^"]+)" y="([^"]+)" text-anchor="(\w+)" '
        r'transform="rotate\((-?\d+) [^)]*\)">(W\d\d)</text>',
        svg,
    )
    assert len(labels) == 2
    for _, y, anchor, angle, word in labels:
        # The baseline's lowest point (11 px sans-serif: about 7 px a character): a label
        # centred on its point reached into the first row, whose cells hid its "W".
        length = 7 * len(word) * (0.5 if anchor == "middle" else 0.0 if anchor == "start" else 1)
        lowest = float(y) + length * math.sin(math.radians(-int(angle)))
        assert lowest < first_row, (word, lowest, first_row)


def test_the_page_and_the_mail_share_one_colour_blind_safe_palette_and_a_mark_per_status() -> None:
    import re
    from importlib import resources

    from scheduler.dashboard import STATUS_COLOURS, STATUS_MARKS, STATUS_ORDER

    css = resources.files("scheduler").joinpath("pages/static/oneonone.css").read_text("utf-8")
    on_page = {
        status: colour if len(colour) == 7 else "#" + "".join(2 * c for c in colour[1:])
        for status, colour in re.findall(r"\.s-(\w+) \{ background: (#[0-9a-f]+);", css)
    }
    # Okabe & Ito's eight colours (told apart with every common colour-vision deficiency)
    # and greys.
    okabe_ito = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00"}
    okabe_ito |= {"#cc79a7", "#ffffff", "#bdbdbd", "#f6f6f6"}
    for status in STATUS_ORDER:
        fill, _ = STATUS_COLOURS[status]
        assert on_page[status] == fill, status
        assert fill in okabe_ito, status
    # Each status a colour of its own, and a mark of its own besides (read without colour,
    # in print); only "none" (no record) is left blank.
    assert len({STATUS_COLOURS[s][0] for s in STATUS_ORDER}) == len(STATUS_ORDER)
    marks = [STATUS_MARKS[s] for s in STATUS_ORDER if s != "none"]
    assert all(marks) and len(set(marks)) == len(marks)
