"""A test world: the example org on the embedded default, passes run in-process.

People's edits are made on the vdir files the way calendar clients make them
(``scheduler.clientedits``); ``statuses``/``report`` read the ledger back the way
``oneonone report --json`` does. Scenarios written against this class are provider-neutral:
a world on another provider offers the same methods.
"""

from __future__ import annotations

import email
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

from icalendar import Calendar

from scheduler import clientedits, ical
from scheduler.domain import makeup_uid, series_uid
from scheduler.domain.series import utc
from scheduler.orgfile import Org, load_org
from scheduler.report import build_report
from scheduler.store.ledger import Ledger
from scheduler.sync import PassResult, run_pass
from tests.system.helpers import REPO


@dataclass
class EventView:
    """One copy of an event as a test sees it, whatever the provider."""

    start: datetime
    description: str
    exdates: set[datetime] = field(default_factory=set)  # UTC
    #: starts of the instances people or the product moved (not cancelled ones)
    moved_starts: list[datetime] = field(default_factory=list)
    pair: str | None = None
    week: str | None = None
    declined_by: set[str] = field(default_factory=set)


class VdirWorld:
    """The world on vdir folders; its edit methods play khal/Thunderbird/Apple users."""

    provider = "vdir"
    #: whether an attendee's client can move or cancel weeks in their own copy
    attendee_edits = True

    def __init__(self, root: Path, *, edit: dict[str, str] | None = None) -> None:
        """The example org in ``root``, with each ``old: new`` of ``edit`` applied to it."""
        self.root = root
        self.config = root / "oneonone.toml"
        root.mkdir(parents=True, exist_ok=True)
        if edit is not None or not self.config.exists():
            text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
            for old, new in (edit or {}).items():
                assert old in text, old
                text = text.replace(old, new, 1)
            self.config.write_text(text)
        self.env: dict[str, str] = {}
        self.org: Org = load_org(self.config, env=self.env)
        self.ledger = Ledger(self.org.database_url)

    @classmethod
    def from_file(cls, config: Path) -> VdirWorld:
        """A world on an org file already written at ``config`` (named oneonone.toml)."""
        assert config.name == "oneonone.toml"
        return cls(config.parent)

    def close(self) -> None:
        self.ledger.close()

    def restart(self) -> None:
        """A new process: the org file and the ledger read afresh."""
        self.ledger.close()
        self.org = load_org(self.config, env=self.env)
        self.ledger = Ledger(self.org.database_url)

    # ------------------------------------------------------------------ passes

    def sync(self, now: datetime, **options: Any) -> PassResult:
        result = run_pass(self.org, self.ledger, now, apply=True, env=self.env, **options)
        assert not result.safety, result.safety
        return result

    def plan(self, now: datetime) -> PassResult:
        return run_pass(self.org, self.ledger, now, apply=False, env=self.env)

    # ------------------------------------------------------------------ calendars

    def folder(self, person: str) -> Path:
        path = self.org.calendars[self.email(person)].path
        assert path is not None
        return path

    def email(self, person: str) -> str:
        return person if "@" in person else f"{person}@acme.example"

    def series(self, owner: str, manager: str, rep: str) -> Path:
        return self.folder(owner) / f"{series_uid(self.email(manager), self.email(rep))}.ics"

    def makeup(self, owner: str, manager: str, rep: str, week: str) -> Path:
        uid = makeup_uid(self.email(manager), self.email(rep), week)
        return self.folder(owner) / f"{uid}.ics"

    # ------------------------------------------------------------------ provider-neutral views

    def _view(self, path: Path) -> EventView | None:
        if not path.exists():
            return None
        events = list(Calendar.from_ical(path.read_bytes()).walk("VEVENT"))
        master = next(e for e in events if "RECURRENCE-ID" not in e)
        exdates = {
            utc(d.dt) for prop in _as_list(master.get("EXDATE")) for d in getattr(prop, "dts", [])
        }
        moved = [
            e.decoded("dtstart")
            for e in events
            if "RECURRENCE-ID" in e and str(e.get("STATUS", "")).upper() != "CANCELLED"
        ]
        declined = {
            str(a).lower().removeprefix("mailto:")
            for a in _as_list(master.get("ATTENDEE"))
            if str(getattr(a, "params", {}).get("PARTSTAT", "")).upper() == "DECLINED"
        }
        return EventView(
            start=master.decoded("dtstart"),
            description=str(master.get("DESCRIPTION", "")),
            exdates=exdates,
            moved_starts=moved,
            pair=str(master["X-ONEONONE-PAIR"]) if "X-ONEONONE-PAIR" in master else None,
            week=str(master["X-ONEONONE-WEEK"]) if "X-ONEONONE-WEEK" in master else None,
            declined_by=declined,
        )

    def series_view(self, owner: str, manager: str, rep: str) -> EventView | None:
        return self._view(self.series(owner, manager, rep))

    def makeup_view(self, owner: str, manager: str, rep: str, week: str) -> EventView | None:
        return self._view(self.makeup(owner, manager, rep, week))

    def makeup_uids(self, owner: str) -> list[str]:
        return sorted(p.stem for p in self.folder(owner).glob("oneonone-makeup-*.ics"))

    def event_view(self, owner: str, uid: str) -> EventView | None:
        return self._view(self.folder(owner) / f"{uid}.ics")

    def event_uids(self, owner: str) -> list[str]:
        return sorted(p.stem for p in self.folder(owner).glob("*.ics"))

    # ------------------------------------------------------------------ people's edits

    def move_instance(
        self, owner: str, manager: str, rep: str, rid: datetime, new_start: datetime
    ) -> None:
        clientedits.move_instance(self.series(owner, manager, rep), rid, new_start)

    def cancel_instance(
        self, owner: str, manager: str, rep: str, rid: datetime, how: str = "exdate"
    ) -> None:
        """Delete one week: ``exdate`` (khal, Thunderbird) or ``status-cancelled`` (Apple)."""
        edit = clientedits.exdate_instance if how == "exdate" else clientedits.cancel_instance
        edit(self.series(owner, manager, rep), rid)

    def decline_instance(self, owner: str, manager: str, rep: str, rid: datetime) -> None:
        """``owner`` declines one week in their own copy."""
        clientedits.decline_instance(self.series(owner, manager, rep), rid, self.email(owner))

    def decline_makeup(self, owner: str, manager: str, rep: str, week: str) -> None:
        clientedits.decline_event(self.makeup(owner, manager, rep, week), self.email(owner))

    def delete_series(self, owner: str, manager: str, rep: str) -> None:
        self.series(owner, manager, rep).unlink()

    def move_series(self, owner: str, manager: str, rep: str, new_start: datetime) -> None:
        clientedits.move_series(self.series(owner, manager, rep), new_start)

    def add_event(
        self, person: str, uid: str, start: date | datetime, end: date | datetime, summary: str
    ) -> None:
        """A person's own event: timed (busy) or all-day (a day out)."""
        clientedits.write_event(self.folder(person), uid, start, end, summary)

    def add_meeting(
        self,
        uid: str,
        start: datetime,
        end: datetime,
        summary: str,
        organizer: str,
        attendees: list[str],
        *,
        weekly: bool = False,
    ) -> None:
        """A meeting people booked themselves, on the organizer's and attendees' calendars."""
        for owner in (organizer, *attendees):
            clientedits.write_meeting(
                self.folder(owner),
                uid,
                start,
                end,
                summary,
                self.email(organizer),
                [self.email(a) for a in attendees],
                weekly=weekly,
            )

    def cancel_meeting_instance(self, owner: str, uid: str, rid: datetime) -> None:
        clientedits.exdate_instance(self.folder(owner) / f"{uid}.ics", rid)

    # ------------------------------------------------------------------ the ledger

    def report(self, now: datetime, weeks: int = 20) -> dict[str, Any]:
        return build_report(self.org, self.ledger, now, weeks)

    def pair(self, now: datetime, manager: str, rep: str) -> dict[str, Any]:
        report = self.report(now)
        return next(
            p
            for p in report["pairs"]
            if p["manager"] == self.email(manager) and p["rep"] == self.email(rep)
        )

    def statuses(self, now: datetime, manager: str, rep: str) -> dict[str, str]:
        return {w["week"]: w["status"] for w in self.pair(now, manager, rep)["weeks"]}

    def outbox(self) -> list[Message]:
        folder = self.org.data_dir / "outbox"
        if not folder.exists():
            return []
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]

    def notices(self, kind: str | None = None) -> list[dict[str, Any]]:
        report = self.report(datetime(2000, 1, 1).astimezone())
        return [n for n in report["notices"] if kind is None or n["kind"] == kind]

    # ------------------------------------------------------------------ agendas

    def _agenda(self, manager: str, rep: str, day: date | str) -> Path:
        name = day.isoformat() if isinstance(day, date) else day
        folder = self.org.data_dir / "agendas" / self.email(manager) / self.email(rep)
        return folder / f"{name}.md"

    def agenda_days(self, manager: str, rep: str) -> list[str]:
        """The days (YYYY-MM-DD) the pair has an agenda document for."""
        folder = self._agenda(manager, rep, "x").parent
        return sorted(p.stem for p in folder.glob("*.md")) if folder.exists() else []

    def agenda_text(self, manager: str, rep: str, day: date | str) -> str | None:
        """The agenda document of the pair's session on ``day``, or None when there is none."""
        path = self._agenda(manager, rep, day)
        return path.read_text(encoding="utf-8") if path.exists() else None

    def edit_agenda(
        self, manager: str, rep: str, day: date | str, edit: Callable[[str], str]
    ) -> None:
        """People edit the agenda: its text becomes ``edit(text)``."""
        path = self._agenda(manager, rep, day)
        path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")

    def delete_agenda(self, manager: str, rep: str, day: date | str) -> None:
        self._agenda(manager, rep, day).unlink()

    def series_attachments(self, owner: str, manager: str, rep: str) -> dict[datetime, list[str]]:
        """The links attached to instances of ``owner``'s copy of the series, by the instance's
        original start (UTC)."""
        path = self.series(owner, manager, rep)
        observed = ical.observe(path.read_bytes(), str(path)) if path.exists() else None
        if observed is None:
            return {}
        return {
            rid: list(instance.attachments)
            for rid, instance in observed.overrides.items()
            if instance.attachments
        }

    def makeup_attachments(self, owner: str, manager: str, rep: str, week: str) -> list[str]:
        path = self.makeup(owner, manager, rep, week)
        observed = ical.observe(path.read_bytes(), str(path)) if path.exists() else None
        return list(observed.attachments) if observed is not None else []

    def snapshot(self) -> dict[str, Any]:
        """Everything the product wrote that people can see: each calendar object's and agenda
        document's bytes and modification time (equal snapshots: nothing was written)."""
        found: dict[str, Any] = {}
        for root in (self.org.data_dir / "agendas", self.root / "data" / "calendars"):
            for path in sorted(root.rglob("*")) if root.exists() else []:
                if path.is_file():
                    found[str(path)] = (path.read_bytes(), path.stat().st_mtime_ns)
        return found


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def copy_example(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", target / "oneonone.toml")
    return target / "oneonone.toml"


def hours(count: float) -> timedelta:
    return timedelta(hours=count)
