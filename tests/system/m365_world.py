"""The test world on Microsoft 365: the example org with everyone on the ``microsoft365``
provider, against the Graph emulator on 127.0.0.1 (TLS with a CA made for the run).

People act the way Outlook lets them, through Graph as themselves: the organizer moves one
occurrence (an exception) or deletes it (a skipped week), moves or deletes the series; an
attendee can only answer (``decline`` on their copy of a week or of the series), and deleting
their copy declines it (so ``attendee_edits`` is false). Outlook has no "decline" for the
organizer of a meeting, so a manager declining their own copy is skipped (said so) here.
Agendas are the editable pages of the ledger (files or database), as for vdir and CalDAV.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain import makeup_uid, series_uid
from scheduler.domain.series import utc
from scheduler.orgfile import load_org
from scheduler.providers.microsoft365 import events as mev
from scheduler.providers.microsoft365 import forget_sessions
from scheduler.store.ledger import Ledger
from tests.graph_emulator import GraphEmulator
from tests.graph_emulator.model import Item
from tests.system.helpers import REPO
from tests.system.world import EventView, VdirWorld

_CALENDAR_LINE = re.compile(r'calendar = \{ provider = "vdir", path = "[^"]*" \}')
#: not ONEONONE_*: the CLI tests hand subprocesses the environment without those
SECRET_ENV = "TEST_M365_CLIENT_SECRET"


def start_emulator() -> GraphEmulator:
    return GraphEmulator().start()


def _when(moment: datetime) -> dict[str, str]:
    zone = str(getattr(moment.tzinfo, "key", "UTC"))
    return {"dateTime": moment.replace(tzinfo=None).isoformat(), "timeZone": zone}


class M365World(VdirWorld):
    provider = "microsoft365"
    attendee_edits = False

    def __init__(
        self, root: Path, emulator: GraphEmulator, *, edit: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.emulator = emulator
        self.config = root / "oneonone.toml"
        root.mkdir(parents=True, exist_ok=True)
        text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
        for old, new in (edit or {}).items():
            assert old in text, old
            text = text.replace(old, new, 1)
        text = _CALENDAR_LINE.sub('calendar = { provider = "microsoft365" }', text)
        (root / "graph-ca.pem").write_bytes(emulator.ca_file.read_bytes())
        text += (
            f'\n[microsoft365]\ntenant_id = "{emulator.tenant}"\n'
            f'client_id = "{emulator.client_id}"\nclient_secret_env = "{SECRET_ENV}"\n'
            f'authority = "{emulator.authority}"\ngraph_endpoint = "{emulator.graph_url}"\n'
            'ca_file = "graph-ca.pem"\n'
        )
        self.config.write_text(text)
        self._saved = os.environ.get(SECRET_ENV)
        os.environ[SECRET_ENV] = emulator.client_secret
        self.env: dict[str, str] = {}
        forget_sessions()
        self.org = load_org(self.config, env=self.env)
        for email, person in self.org.people.items():
            emulator.add_user(email, time_zone=person.timezone)
        self.ledger = Ledger(self.org.database_url)

    def restart(self) -> None:
        forget_sessions()
        super().restart()

    def close(self) -> None:
        forget_sessions()
        super().close()

    def forget_passwords(self) -> None:
        if self._saved is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = self._saved

    # ------------------------------------------------------------------ looking

    def _item(self, owner: str, uid: str) -> Item | None:
        """``owner``'s copy of the event with the product's (or iCalendar) UID ``uid``."""
        email = self.email(owner)
        with self.emulator.lock:
            organizer_item: Item | None = None
            for box in self.emulator.store.mailboxes.values():
                for item in box.items.values():
                    stored = mev.props_of(
                        {
                            "singleValueExtendedProperties": [
                                {"id": k, "value": v} for k, v in item.props.items()
                            ]
                        }
                    )
                    if stored.get(mev.UID) == uid or (
                        mev.UID not in stored and item.ical_uid == uid and item.is_organizer
                    ):
                        organizer_item = item
            if organizer_item is None:
                return None
            for item in self.emulator.store.mailbox(email).items.values():
                if item.ical_uid == organizer_item.ical_uid:
                    return item
        return None

    def _view_of(self, owner: str, uid: str) -> EventView | None:
        item = self._item(owner, uid)
        if item is None or item.data.get("isCancelled"):
            return None
        person = self.emulator.act(self.email(owner))
        master = person.call("GET", f"/events/{item.id}?$expand={mev.EXPAND}")
        organizer = self._item(item.organizer, uid)
        props = dict(organizer.props) if organizer is not None else {}
        found = mev.props_of(
            {"singleValueExtendedProperties": [{"id": k, "value": v} for k, v in props.items()]}
        )
        start = mev.parse_instant(master["start"])
        exdates: set[datetime] = set()
        moved: list[datetime] = []
        declined: set[str] = set()
        if master.get("type") == "seriesMaster":
            window = (start - timedelta(days=1), start + timedelta(weeks=60))
            instances = person.instances(item.id, *window)
            seen = {utc(mev.parse_instant(str(i["originalStart"]))) for i in instances}
            exdates = {m for m in mev.expected_originals(master, *window) if m not in seen}
            moved = [
                mev.parse_instant(i["start"])
                for i in instances
                if i.get("type") == "exception"
                and mev.parse_instant(i["start"]) != mev.parse_instant(str(i["originalStart"]))
            ]
        if not item.is_organizer and master["responseStatus"]["response"] == "declined":
            declined.add(self.email(owner))
        for attendee in master.get("attendees") or []:
            if (attendee.get("status") or {}).get("response") == "declined":
                declined.add(str(attendee["emailAddress"]["address"]).lower())
        description, _ = mev.split_body(master)
        return EventView(
            start=start.astimezone(ZoneInfo(mev._series_zone(master).key)),
            description=description,
            exdates=exdates,
            moved_starts=moved,
            pair=found.get(mev.PAIR),
            week=found.get(mev.WEEK),
            declined_by=declined,
        )

    def series_view(self, owner: str, manager: str, rep: str) -> EventView | None:
        return self._view_of(owner, series_uid(self.email(manager), self.email(rep)))

    def makeup_view(self, owner: str, manager: str, rep: str, week: str) -> EventView | None:
        return self._view_of(owner, makeup_uid(self.email(manager), self.email(rep), week))

    def makeup_uids(self, owner: str) -> list[str]:
        uids = []
        for item in self.emulator.items(self.email(owner)):
            if item.data.get("isCancelled"):
                continue
            props = {k.rsplit(" ", 1)[-1]: v for k, v in item.props.items()}
            if mev.WEEK in props:
                uids.append(props.get(mev.UID, item.id))
        return sorted(uids)

    def event_view(self, owner: str, uid: str) -> EventView | None:
        return self._view_of(owner, uid)

    def event_uids(self, owner: str) -> list[str]:
        return sorted(
            {k.rsplit(" ", 1)[-1]: v for k, v in i.props.items()}.get(mev.UID, i.ical_uid)
            for i in self.emulator.items(self.email(owner))
            if not i.data.get("isCancelled")
        )

    def series_attachments(self, owner: str, manager: str, rep: str) -> dict[datetime, list[str]]:
        item = self._item(owner, series_uid(self.email(manager), self.email(rep)))
        if item is None:
            return {}
        person = self.emulator.act(self.email(owner))
        start = item.start() - timedelta(days=1)
        found: dict[datetime, list[str]] = {}
        for instance in person.instances(item.id, start, start + timedelta(weeks=60)):
            _, links = mev.split_body(instance)
            if links and instance.get("type") == "exception":
                found[utc(mev.parse_instant(str(instance["originalStart"])))] = links
        return found

    def makeup_attachments(self, owner: str, manager: str, rep: str, week: str) -> list[str]:
        item = self._item(owner, makeup_uid(self.email(manager), self.email(rep), week))
        if item is None:
            return []
        master = self.emulator.act(self.email(owner)).call("GET", f"/events/{item.id}")
        return mev.split_body(master)[1]

    def snapshot(self) -> dict[str, Any]:
        """Every event's change key and every agenda file (equal: nothing was written)."""
        found = super().snapshot()
        for email in self.org.people:
            for item in self.emulator.items(email):
                found[f"{email}/{item.id}"] = item.change_key
        return found

    # ------------------------------------------------------------------ people's edits

    def _occurrence(self, owner: str, uid: str, rid: datetime) -> str:
        item = self._item(owner, uid)
        assert item is not None, uid
        found = self.emulator.act(self.email(owner)).instance(item.id, utc(rid))
        return str(found["id"])

    def _series(self, manager: str, rep: str) -> str:
        return series_uid(self.email(manager), self.email(rep))

    def move_instance(
        self, owner: str, manager: str, rep: str, rid: datetime, new_start: datetime
    ) -> None:
        uid = self._series(manager, rep)
        item = self._item(owner, uid)
        assert item is not None
        occurrence = self._occurrence(owner, uid, rid)
        self.emulator.act(self.email(owner)).call(
            "PATCH",
            f"/events/{occurrence}",
            {"start": _when(new_start), "end": _when(new_start + item.duration())},
        )

    def cancel_instance(
        self, owner: str, manager: str, rep: str, rid: datetime, how: str = "exdate"
    ) -> None:
        uid = self._series(manager, rep)
        occurrence = self._occurrence(owner, uid, rid)
        person = self.emulator.act(self.email(owner))
        if self.email(owner) != self.email(manager):
            person.call("POST", f"/events/{occurrence}/decline", {"sendResponse": True})
            return
        # Outlook's "delete this occurrence" (``how`` makes no difference in Graph).
        person.call("DELETE", f"/events/{occurrence}")

    def decline_instance(self, owner: str, manager: str, rep: str, rid: datetime) -> None:
        if self.email(owner) == self.email(manager):
            pytest.skip(
                "Outlook has no decline for the organizer of a meeting (Graph answers 400); "
                "an organizer cancels the week instead"
            )
        occurrence = self._occurrence(owner, self._series(manager, rep), rid)
        self.emulator.act(self.email(owner)).call(
            "POST", f"/events/{occurrence}/decline", {"sendResponse": True}
        )

    def decline_makeup(self, owner: str, manager: str, rep: str, week: str) -> None:
        item = self._item(owner, makeup_uid(self.email(manager), self.email(rep), week))
        assert item is not None
        self.emulator.act(self.email(owner)).call(
            "POST", f"/events/{item.id}/decline", {"sendResponse": True}
        )

    def delete_series(self, owner: str, manager: str, rep: str) -> None:
        item = self._item(owner, self._series(manager, rep))
        assert item is not None
        self.emulator.act(self.email(owner)).call("DELETE", f"/events/{item.id}")

    def move_series(self, owner: str, manager: str, rep: str, new_start: datetime) -> None:
        item = self._item(owner, self._series(manager, rep))
        assert item is not None
        zone = mev._series_zone(self.emulator.store.render(item))
        start = new_start.astimezone(zone)
        recurrence = dict(item.data["recurrence"])
        recurrence["pattern"] = {
            **recurrence["pattern"],
            "daysOfWeek": [start.strftime("%A").lower()],
        }
        recurrence["range"] = {**recurrence["range"], "startDate": start.date().isoformat()}
        self.emulator.act(self.email(owner)).call(
            "PATCH",
            f"/events/{item.id}",
            {
                "start": _when(start),
                "end": _when(start + item.duration()),
                "recurrence": recurrence,
            },
        )

    def add_event(
        self, person: str, uid: str, start: date | datetime, end: date | datetime, summary: str
    ) -> None:
        email = self.email(person)
        if isinstance(start, datetime) and isinstance(end, datetime):
            body: dict[str, Any] = {"subject": summary, "start": _when(start), "end": _when(end)}
        else:
            # An all-day "time off" event (Outlook's out-of-office all-day event).
            zone = ZoneInfo(self.org.people[email].timezone)
            first = datetime.combine(start, datetime.min.time(), zone)
            last = datetime.combine(end, datetime.min.time(), zone)
            if last <= first:
                last = first + timedelta(days=1)
            body = {
                "subject": summary,
                "start": _when(first),
                "end": _when(last),
                "isAllDay": True,
                "showAs": "oof",
            }
        self.emulator.act(email).create(body, ical_uid=uid)

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
        body: dict[str, Any] = {
            "subject": summary,
            "start": _when(start),
            "end": _when(end),
            "attendees": [
                {"type": "required", "emailAddress": {"address": self.email(a), "name": a}}
                for a in attendees
            ],
        }
        if weekly:
            body["recurrence"] = {
                "pattern": {
                    "type": "weekly",
                    "interval": 1,
                    "daysOfWeek": [start.strftime("%A").lower()],
                },
                "range": {
                    "type": "noEnd",
                    "startDate": start.date().isoformat(),
                    "recurrenceTimeZone": str(getattr(start.tzinfo, "key", "UTC")),
                },
            }
        self.emulator.act(self.email(organizer)).create(body, ical_uid=uid)

    def cancel_meeting_instance(self, owner: str, uid: str, rid: datetime) -> None:
        occurrence = self._occurrence(owner, uid, rid)
        self.emulator.act(self.email(owner)).call("DELETE", f"/events/{occurrence}")
