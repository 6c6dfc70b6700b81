"""``oneonone report``: the ledger as each pair's weeks, streaks, adherence and notices.

Reads the ledger only (no calendars). ``build_report`` returns the spec's ``report --json``
shape; ``summary_rows`` (pure) and ``print_summary`` (``rich``: coloured on a terminal, plain
when piped or with ``color=False``) give the summary table people read first, one line per
pair; ``format_report`` renders each pair's weeks as plain text.

Besides the spec's fields, each pair has ``open_items``: the action items still open from its
agendas, in the order people left them, each ``{"id", "text", "since", "last_agenda"}``
(``since``: the day of the agenda it was first written in; ``last_agenda``: the last agenda that
listed it). Each week's ``agenda`` is the address of its agenda (the make-up's, when there was
one), or null. Each pair's ``timezone`` is the organizer's zone, the one its times are
written in (with their offsets); the text names it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from scheduler.adherence import adherence, missed_streak
from scheduler.agenda.plan import ordered_open_items
from scheduler.domain import iso_week, week_monday
from scheduler.feeds import current_link
from scheduler.orgfile import Org
from scheduler.store.ledger import Ledger, MakeupRecord, OccurrenceRecord

__all__ = ["build_report", "format_report", "print_summary", "summary_rows"]


def build_report(org: Org, ledger: Ledger, now: datetime, weeks: int) -> dict[str, Any]:
    current = iso_week(now.astimezone(org.zone).date())
    monday = week_monday(current)
    first = iso_week(monday - timedelta(weeks=weeks - 1))
    last_4 = iso_week(monday - timedelta(weeks=3))
    last_12 = iso_week(monday - timedelta(weeks=11))
    occurrences = ledger.occurrences()
    makeups = ledger.makeups()
    agenda_docs = ledger.agenda_docs()
    action_items = ledger.action_items()
    pairs: list[dict[str, Any]] = []
    for record in ledger.pairs():
        records = occurrences.get(record.key, {})
        booked = makeups.get(record.key, {})
        zone = _organizer_zone(org, record.manager)
        settled = [(w, r.status) for w, r in sorted(records.items()) if w <= current]
        statuses = [s for _, s in settled]
        pairs.append(
            {
                "manager": record.manager,
                "rep": record.rep,
                "skip_level": record.skip_level,
                "active": record.active,
                "missed_streak": missed_streak(statuses),
                "adherence_4w": adherence([s for w, s in settled if w >= last_4]),
                "adherence_12w": adherence([s for w, s in settled if w >= last_12]),
                "timezone": zone.key,
                "weeks": [
                    {
                        "week": week,
                        "status": r.status,
                        "start": _held_at(r, booked.get(week)).astimezone(zone).isoformat(),
                        "planned_start": r.planned_start.astimezone(zone).isoformat(),
                        "agenda": current_link(org, r.agenda) if r.agenda else None,
                    }
                    for week, r in sorted(records.items())
                    if week >= first
                ],
                "open_items": [
                    {
                        "id": item.id,
                        "text": item.text,
                        "since": item.first_agenda,
                        "last_agenda": item.last_agenda,
                    }
                    for item in ordered_open_items(
                        action_items.get(record.key, {}), agenda_docs.get(record.key, {})
                    )
                ],
            }
        )
    notices = [
        {
            "kind": n.kind,
            "manager": n.pair_key.partition("/")[0],
            # A digest is about all of a manager's pairs: it names no rep.
            "rep": n.pair_key.partition("/")[2] or None,
            "week": n.week,
            "to": n.recipient,
            "sent_at": n.sent_at.isoformat() if n.sent_at else None,
        }
        for n in ledger.notices()
    ]
    return {"pairs": pairs, "notices": notices}


def _organizer_zone(org: Org, manager: str) -> ZoneInfo:
    """The zone the pair's times are printed in: the organizer's (the manager's), else the
    org's (a manager no longer in the org file)."""
    person = org.people.get(manager)
    try:
        return person.zone if person is not None else org.zone
    except (ValueError, KeyError):
        return org.zone


def _held_at(record: OccurrenceRecord, makeup: MakeupRecord | None) -> datetime:
    """When the week's 1:1 took place (or is to): the make-up's time for ``made_up``, where
    people moved it, else the product's slot."""
    if record.status == "made_up" and makeup is not None:
        return makeup.start
    return record.actual_start or record.planned_start


def _percent(value: float | None) -> str:
    return "  –" if value is None else f"{value * 100:3.0f}%"


def format_report(report: dict[str, Any]) -> str:
    if not report["pairs"]:
        return "The ledger is empty: run `oneonone sync` first."
    lines: list[str] = []
    for pair in report["pairs"]:
        state = "" if pair["active"] else "  (ended)"
        zone = ZoneInfo(pair.get("timezone") or "UTC")
        lines.append(
            f"{pair['manager']} / {pair['rep']}{state}: streak of misses {pair['missed_streak']}, "
            f"adherence 4w {_percent(pair['adherence_4w'])}, 12w {_percent(pair['adherence_12w'])}"
            f"; times in {zone.key}"
        )
        for week in pair["weeks"]:
            # In the organizer's zone, its abbreviation and offset written out: a moved week
            # printed in UTC (``Thu 04 Feb 21:00``) was a 16:00 New York 1:1.
            start = datetime.fromisoformat(week["start"]).astimezone(zone)
            if week["status"] == "made_up":
                note = "  (made up)"
            elif week["start"] != week["planned_start"]:
                note = "  (moved by a person)"
            else:
                note = ""
            lines.append(
                f"  {week['week']}  {start:%a %d %b %H:%M} {start:%Z} (UTC{start:%z})  "
                f"{week['status']}{note}"
            )
        if pair.get("open_items"):
            lines.append("  open action items:")
            lines.extend(
                f"    - {item['text']} (since {item['since']})" for item in pair["open_items"]
            )
    if report["notices"]:
        lines.append("")
        lines.append("Notices:")
        for notice in report["notices"]:
            about = notice["manager"] + (f"/{notice['rep']}" if notice["rep"] else "")
            lines.append(
                f"  {notice['kind']:<16} {notice['week']}  {about} "
                f"to {notice['to']}  sent {notice['sent_at'] or 'pending'}"
            )
    return "\n".join(lines)


_KEPT = ("held", "moved", "made_up")


def summary_rows(
    report: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per pair: its names, adherence, missed streak and last 1:1 held (in the
    organizer's zone, the zone named), for the summary table."""
    names = names or {}
    rows = []
    for pair in report["pairs"]:
        zone = ZoneInfo(pair.get("timezone") or "UTC")
        held = [w for w in pair["weeks"] if w["status"] in _KEPT]
        last = None
        if held:
            when = max(datetime.fromisoformat(w["start"]) for w in held).astimezone(zone)
            last = f"{when:%a %d %b %H:%M} {when:%Z}"
        manager = names.get(pair["manager"]) or pair["manager"]
        rep = names.get(pair["rep"]) or pair["rep"]
        rows.append(
            {
                "pair": f"{manager} / {rep}" + ("" if pair.get("active", True) else " (ended)"),
                "adherence_4w": pair["adherence_4w"],
                "adherence_12w": pair["adherence_12w"],
                "missed_streak": pair["missed_streak"],
                "last_held": last,
                "timezone": zone.key,
            }
        )
    return rows


def _style(value: float | None) -> str:
    if value is None:
        return "dim"
    return "green" if value >= 0.8 else "yellow" if value >= 0.5 else "bold red"


def print_summary(
    report: Mapping[str, Any],
    out: IO[str],
    *,
    names: Mapping[str, str] | None = None,
    color: bool | None = None,
) -> None:
    """The summary table (``rich``); ``color=None``: colour only on a terminal (and not
    with ``NO_COLOR`` set), ``False``: never. Piped, it is plain text as wide as it needs."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = out.isatty()
    console = Console(
        file=out,
        no_color=color is False or None,
        color_system="auto" if color is not False and terminal else None,
        width=None if terminal else 200,
        highlight=False,
    )
    rows = summary_rows(report, names)
    if not rows:
        return
    zones = sorted({row["timezone"] for row in rows})
    table = Table(
        title="1:1 adherence (close and time-off weeks not counted)",
        title_justify="left",
        box=box.SIMPLE_HEAD if terminal else box.ASCII2,
        caption=f"last held: in the organizer's zone ({', '.join(zones)})",
        caption_justify="left",
    )
    # One line per pair: wrapped, a pair's name read as two pairs on an 80-column terminal.
    # The "missed streak" heading wraps instead; on a narrower one the name is cut with an
    # ellipsis, never the figures or the time (their minimum widths).
    table.add_column("pair", no_wrap=True, overflow="ellipsis")
    table.add_column("4 w", justify="right", no_wrap=True, min_width=4)
    table.add_column("12 w", justify="right", no_wrap=True, min_width=4)
    table.add_column("missed streak", justify="right", min_width=6)
    table.add_column("last held", no_wrap=True, min_width=len("Tue 23 Mar 13:00 CEST"))
    for row in rows:
        streak = row["missed_streak"]
        table.add_row(
            row["pair"],
            Text(_percent(row["adherence_4w"]).strip(), style=_style(row["adherence_4w"])),
            Text(_percent(row["adherence_12w"]).strip(), style=_style(row["adherence_12w"])),
            Text(str(streak), style="bold red" if streak else ""),
            row["last_held"] or "–",
        )
    console.print(table)
