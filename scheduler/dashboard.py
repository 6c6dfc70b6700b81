"""The leaders' adherence dashboard, the pure part: whose pairs a dashboard shows, and the
heatmap, adherence, streaks, roll-ups and trend it shows of them.

Pure: no I/O, no clock. Built from ``scheduler.report.build_report``'s output (the ``report
--json`` shape), so every cell of the dashboard is the report's status for that pair and week,
and adherence and streaks are the report's (``scheduler.adherence``). ``scheduler.server``
serves it (HTML, JSON, CSV); ``scheduler.cli`` issues its addresses.

Scope (spec "Dashboard"): a person's dashboard shows the pairs in their part of the org: the
pairs they manage and every pair below them (a skip-level sees their managers' pairs and on
down the chain); ``ALL`` (``*``) shows the whole org. The chain is read from the report's pairs
(each rep's manager), so a pair that left the org file still shows under its manager.

Weeks: the last ``history`` ISO weeks up to the current one, then ``ahead`` weeks after it
(the horizon less the current week, which it counts too). A week the ledger holds nothing for
is shown as ``none``. Close and time-off weeks are shown, and not counted: adherence is
kept / (kept + missed) over settled weeks (``scheduler.adherence``).

Exports: ALL, Cell, Row, Group, Dashboard, build_dashboard, in_scope, scope_json, csv_rows,
trend_points, heatmap_svg, STATUS_ORDER, STATUS_LABELS, STATUS_MARKS, STATUS_COLOURS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from scheduler.adherence import adherence
from scheduler.domain import iso_week, week_monday

__all__ = [
    "ALL",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "STATUS_MARKS",
    "STATUS_ORDER",
    "Cell",
    "Dashboard",
    "Group",
    "Row",
    "build_dashboard",
    "csv_rows",
    "heatmap_svg",
    "in_scope",
    "scope_json",
    "trend_points",
]

#: The scope of the whole org's dashboard.
ALL = "*"
#: The status of a week the ledger holds nothing for.
NONE = "none"

#: Legend order and words: the report's status words, then ``none``.
STATUS_ORDER = (
    "held",
    "moved",
    "made_up",
    "cancelled",
    "declined",
    "missed",
    "close_week",
    "time_off",
    "upcoming",
    NONE,
)
STATUS_LABELS = {
    "held": "held",
    "moved": "moved by a person, held",
    "made_up": "made up later that week",
    "cancelled": "cancelled",
    "declined": "declined",
    "missed": "missed (no 1:1 on the calendar)",
    "close_week": "close week (not counted)",
    "time_off": "time off (not counted)",
    "upcoming": "upcoming",
    NONE: "no record",
}
#: A letter in every cell, so the map reads without colour too (and in print).
STATUS_MARKS = {
    "held": "✓",
    "moved": "↔",
    "made_up": "↺",
    "cancelled": "✕",
    "declined": "D",
    "missed": "!",
    "close_week": "C",
    "time_off": "T",
    "upcoming": "·",
    NONE: "",
}


@dataclass(frozen=True, slots=True)
class Cell:
    pair: str
    week: str
    status: str

    @property
    def mark(self) -> str:
        return STATUS_MARKS.get(self.status, "?")

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


@dataclass(frozen=True, slots=True)
class Row:
    """One pair: its cells, one per column week, and the report's figures."""

    pair: str
    manager: str
    rep: str
    rep_name: str
    active: bool
    cells: tuple[Cell, ...]
    adherence_4w: float | None
    adherence_12w: float | None
    missed_streak: int
    last_held: str | None


@dataclass(frozen=True, slots=True)
class Group:
    """A manager's pairs and their roll-up (weeks of all the pairs pooled)."""

    manager: str
    manager_name: str
    rows: tuple[Row, ...]
    adherence_4w: float | None
    adherence_12w: float | None
    on_streak: int
    longest_streak: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    scope: str
    weeks: tuple[str, ...]
    current_week: str
    groups: tuple[Group, ...]
    adherence_4w: float | None
    adherence_12w: float | None
    #: (week, adherence of that week over every pair shown) for the weeks up to the current
    trend: tuple[tuple[str, float | None], ...]

    @property
    def pair_count(self) -> int:
        return sum(len(group.rows) for group in self.groups)


def _managers(pairs: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Each rep's manager (an active pair wins over an ended one)."""
    chain: dict[str, str] = {}
    for pair in sorted(pairs, key=lambda p: bool(p.get("active", True))):
        chain[str(pair["rep"]).lower()] = str(pair["manager"]).lower()
    return chain


def in_scope(scope: str, pairs: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pairs ``scope`` (an e-mail, or ``ALL``) may see: theirs and all below them."""
    if scope == ALL:
        return list(pairs)
    who = scope.lower()
    chain = _managers(pairs)
    shown = []
    for pair in pairs:
        boss: str | None = str(pair["manager"]).lower()
        seen: set[str] = set()
        while boss is not None and boss not in seen:
            if boss == who:
                shown.append(pair)
                break
            seen.add(boss)
            boss = chain.get(boss)
    return shown


def _columns(current: str, history: int, ahead: int) -> tuple[str, ...]:
    monday = week_monday(current)
    return tuple(
        iso_week(monday + timedelta(weeks=offset)) for offset in range(-history + 1, ahead + 1)
    )


def _window(statuses: Mapping[str, str], current: str, weeks: int) -> list[str]:
    first = iso_week(week_monday(current) - timedelta(weeks=weeks - 1))
    return [status for week, status in sorted(statuses.items()) if first <= week <= current]


def _last_held(pair: Mapping[str, Any], current: str) -> str | None:
    held = [
        str(w["start"])
        for w in pair["weeks"]
        if w["status"] in ("held", "moved", "made_up") and w["week"] <= current
    ]
    return max(held) if held else None


def build_dashboard(
    report: Mapping[str, Any],
    scope: str,
    current_week: str,
    *,
    history: int = 12,
    ahead: int = 5,
    names: Mapping[str, str] | None = None,
) -> Dashboard:
    """The dashboard of ``scope`` from a report (``build_report`` over at least ``history``
    weeks): pairs grouped by manager (by name), reps by name."""
    names = names or {}
    columns = _columns(current_week, history, ahead)
    shown = in_scope(scope, report["pairs"])
    by_manager: dict[str, list[Mapping[str, Any]]] = {}
    for pair in shown:
        by_manager.setdefault(str(pair["manager"]).lower(), []).append(pair)

    def name(email: str) -> str:
        return names.get(email.lower()) or email

    all_statuses: list[dict[str, str]] = []
    groups: list[Group] = []
    for manager in sorted(by_manager, key=lambda m: (name(m).casefold(), m)):
        rows: list[Row] = []
        statuses_of_group: list[dict[str, str]] = []
        for pair in sorted(
            by_manager[manager], key=lambda p: (name(p["rep"]).casefold(), p["rep"])
        ):
            key = f"{pair['manager']}/{pair['rep']}"
            statuses = {str(w["week"]): str(w["status"]) for w in pair["weeks"]}
            statuses_of_group.append(statuses)
            rows.append(
                Row(
                    pair=key,
                    manager=pair["manager"],
                    rep=pair["rep"],
                    rep_name=name(pair["rep"]),
                    active=bool(pair.get("active", True)),
                    cells=tuple(Cell(key, week, statuses.get(week, NONE)) for week in columns),
                    adherence_4w=pair["adherence_4w"],
                    adherence_12w=pair["adherence_12w"],
                    missed_streak=int(pair["missed_streak"]),
                    last_held=_last_held(pair, current_week),
                )
            )
        all_statuses.extend(statuses_of_group)
        groups.append(
            Group(
                manager=manager,
                manager_name=name(manager),
                rows=tuple(rows),
                adherence_4w=_pooled(statuses_of_group, current_week, 4),
                adherence_12w=_pooled(statuses_of_group, current_week, 12),
                on_streak=sum(1 for row in rows if row.missed_streak > 0),
                longest_streak=max((row.missed_streak for row in rows), default=0),
            )
        )
    trend = tuple(
        (week, adherence([s[week] for s in all_statuses if week in s]))
        for week in columns
        if week <= current_week
    )
    return Dashboard(
        scope=scope,
        weeks=columns,
        current_week=current_week,
        groups=tuple(groups),
        adherence_4w=_pooled(all_statuses, current_week, 4),
        adherence_12w=_pooled(all_statuses, current_week, 12),
        trend=trend,
    )


def _pooled(statuses: Sequence[Mapping[str, str]], current: str, weeks: int) -> float | None:
    """Adherence of several pairs' weeks together (each settled week counts once)."""
    return adherence([s for one in statuses for s in _window(one, current, weeks)])


def scope_json(report: Mapping[str, Any], dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard as ``report --json`` has it (its pairs and their notices, the weeks it
    shows), with the roll-ups and the trend beside it."""
    shown = {row.pair for group in dashboard.groups for row in group.rows}
    columns = set(dashboard.weeks)
    pairs = [
        {**pair, "weeks": [w for w in pair["weeks"] if w["week"] in columns]}
        for pair in report["pairs"]
        if f"{pair['manager']}/{pair['rep']}" in shown
    ]
    people = {email for key in shown for email in key.split("/")}
    notices = [
        n
        for n in report["notices"]
        if (f"{n['manager']}/{n['rep']}" in shown) or (n["rep"] is None and n["manager"] in people)
    ]
    return {
        "scope": "all" if dashboard.scope == ALL else dashboard.scope,
        "weeks": list(dashboard.weeks),
        "current_week": dashboard.current_week,
        "pairs": pairs,
        "notices": notices,
        "managers": [
            {
                "manager": group.manager,
                "pairs": len(group.rows),
                "adherence_4w": group.adherence_4w,
                "adherence_12w": group.adherence_12w,
                "pairs_on_a_missed_streak": group.on_streak,
                "longest_missed_streak": group.longest_streak,
            }
            for group in dashboard.groups
        ],
        "adherence_4w": dashboard.adherence_4w,
        "adherence_12w": dashboard.adherence_12w,
        "trend": [{"week": week, "adherence": value} for week, value in dashboard.trend],
    }


CSV_HEADER = (
    "manager",
    "rep",
    "week",
    "status",
    "adherence_4w",
    "adherence_12w",
    "missed_streak",
)


def csv_rows(dashboard: Dashboard) -> list[tuple[str, ...]]:
    """One row per pair and week shown (the header first)."""
    rows: list[tuple[str, ...]] = [CSV_HEADER]
    for group in dashboard.groups:
        for row in group.rows:
            for cell in row.cells:
                rows.append(
                    (
                        row.manager,
                        row.rep,
                        cell.week,
                        cell.status,
                        "" if row.adherence_4w is None else f"{row.adherence_4w:.3f}",
                        "" if row.adherence_12w is None else f"{row.adherence_12w:.3f}",
                        str(row.missed_streak),
                    )
                )
    return rows


def trend_points(
    trend: Sequence[tuple[str, float | None]], width: int = 480, height: int = 120, pad: int = 24
) -> list[tuple[str, float, float, float]]:
    """(week, x, y, value) of each week with a value, in an SVG box of ``width`` × ``height``
    (0 % at the bottom, 100 % at the top)."""
    if not trend:
        return []
    step = (width - 2 * pad) / max(1, len(trend) - 1)
    points = []
    for index, (week, value) in enumerate(trend):
        if value is None:
            continue
        x = pad + index * step
        y = height - pad - value * (height - 2 * pad)
        points.append((week, round(x, 1), round(y, 1), value))
    return points


#: The heatmap's colours (Okabe–Ito; the pages' stylesheet has the same), for SVG and e-mail.
STATUS_COLOURS = {
    "held": ("#009e73", "#ffffff"),
    "moved": ("#56b4e9", "#000000"),
    "made_up": ("#0072b2", "#ffffff"),
    "cancelled": ("#e69f00", "#000000"),
    "declined": ("#cc79a7", "#000000"),
    "missed": ("#d55e00", "#ffffff"),
    "close_week": ("#bdbdbd", "#000000"),
    "time_off": ("#f0e442", "#000000"),
    "upcoming": ("#ffffff", "#555555"),
    NONE: ("#f6f6f6", "#999999"),
}


def heatmap_svg(rows: Sequence[tuple[str, Sequence[str]]], weeks: Sequence[str]) -> str:
    """A small heatmap as inline SVG (for e-mail, where no stylesheet can be linked): one row
    per ``(label, statuses by column)``, one column per week, a mark in every cell."""
    from html import escape

    cell, label_width, top = 22, 150, 40
    # Room on the right for the last week's label, which leans right.
    width = label_width + cell * len(weeks) + 16
    height = top + cell * len(rows) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif" font-size="11">',
        "<title>Your 1:1s week by week</title>",
    ]
    for column, week in enumerate(weeks):
        # Each label starts just above its column and leans up to the right: centred on its
        # point, its first letter reached into the first row and was hidden by its cell.
        x = label_width + column * cell + cell / 2 - 3
        parts.append(
            f'<text x="{x}" y="{top - 4}" text-anchor="start" '
            f'transform="rotate(-60 {x} {top - 4})">{escape(week[5:])}</text>'
        )
    for index, (label, statuses) in enumerate(rows):
        y = top + index * cell
        parts.append(f'<text x="0" y="{y + 15}">{escape(label[:24])}</text>')
        for column, status in enumerate(statuses):
            fill, ink = STATUS_COLOURS.get(status, STATUS_COLOURS[NONE])
            x = label_width + column * cell
            word = STATUS_LABELS.get(status, status)
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}" '
                f'stroke="#d0d0d5"><title>{escape(weeks[column])}: {escape(word)}</title></rect>'
            )
            mark = STATUS_MARKS.get(status, "")
            if mark:
                parts.append(
                    f'<text x="{x + (cell - 2) / 2}" y="{y + 15}" text-anchor="middle" '
                    f'fill="{ink}">{escape(mark)}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)
