"""``oneonone report``: the ledger as each pair's weeks, streaks, adherence and notices.

Reads the ledger only (no calendars). ``build_report`` returns the spec's ``report --json``
shape; ``format_report`` renders it as a plain-text table for people.

Besides the spec's fields, each pair has ``open_items``: the action items still open from its
agendas, in the order people left them, each ``{"id", "text", "since", "last_agenda"}``
(``since``: the day of the agenda it was first written in; ``last_agenda``: the last agenda that
listed it). Each week's ``agenda`` is the address of its agenda (the make-up's, when there was
one), or null.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scheduler.adherence import adherence, missed_streak
from scheduler.agenda.plan import ordered_open_items
from scheduler.domain import iso_week, week_monday
from scheduler.orgfile import Org
from scheduler.store.ledger import Ledger

__all__ = ["build_report", "format_report"]


def build_report(org: Org, ledger: Ledger, now: datetime, weeks: int) -> dict[str, Any]:
    current = iso_week(now.astimezone(org.zone).date())
    monday = week_monday(current)
    first = iso_week(monday - timedelta(weeks=weeks - 1))
    last_4 = iso_week(monday - timedelta(weeks=3))
    last_12 = iso_week(monday - timedelta(weeks=11))
    occurrences = ledger.occurrences()
    agenda_docs = ledger.agenda_docs()
    action_items = ledger.action_items()
    pairs: list[dict[str, Any]] = []
    for record in ledger.pairs():
        records = occurrences.get(record.key, {})
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
                "weeks": [
                    {
                        "week": week,
                        "status": r.status,
                        "start": (r.actual_start or r.planned_start).isoformat(),
                        "planned_start": r.planned_start.isoformat(),
                        "agenda": r.agenda,
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


def _percent(value: float | None) -> str:
    return "  –" if value is None else f"{value * 100:3.0f}%"


def format_report(report: dict[str, Any]) -> str:
    if not report["pairs"]:
        return "The ledger is empty: run `oneonone sync` first."
    lines: list[str] = []
    for pair in report["pairs"]:
        state = "" if pair["active"] else "  (ended)"
        lines.append(
            f"{pair['manager']} / {pair['rep']}{state}: streak of misses {pair['missed_streak']}, "
            f"adherence 4w {_percent(pair['adherence_4w'])}, 12w {_percent(pair['adherence_12w'])}"
        )
        for week in pair["weeks"]:
            start = datetime.fromisoformat(week["start"])
            moved = "" if week["start"] == week["planned_start"] else "  (moved by a person)"
            lines.append(f"  {week['week']}  {start:%a %d %b %H:%M}  {week['status']}{moved}")
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
