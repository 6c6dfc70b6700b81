"""The test world on Google Calendar: the example org with everyone on the ``google``
provider, against the emulator of Calendar v3 on 127.0.0.1.

People act the way Google Calendar lets them, through the same client library (each as
themselves): the organizer moves or deletes one instance (an exception, or a cancelled one), or
adds an EXDATE through the API; an attendee can only answer, and deleting their copy of an
instance declines it (Google's behaviour, so ``attendee_edits`` is false).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from googleapiclient.errors import HttpError

from scheduler.domain import makeup_uid, series_uid
from scheduler.domain.series import utc
from scheduler.orgfile import load_org
from scheduler.providers.google import forget_sessions
from scheduler.providers.google.events import event_id_for, instance_id
from scheduler.store.ledger import Ledger
from tests.google_emulator import GoogleEmulator
from tests.system.helpers import REPO
from tests.system.world import EventView, VdirWorld

_CALENDAR_LINE = re.compile(r'calendar = \{ provider = "vdir", path = "[^"]*" \}')


def start_emulator() -> GoogleEmulator:
    emulator = GoogleEmulator()
    emulator.start()
    return emulator


def _when(moment: date | datetime) -> dict[str, str]:
    if isinstance(moment, datetime):
        zone = getattr(moment.tzinfo, "key", "UTC")
        return {"dateTime": moment.isoformat(), "timeZone": zone}
    return {"date": moment.isoformat()}


def _instant(value: dict[str, Any]) -> datetime:
    if "dateTime" in value:
        moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
        zone = value.get("timeZone")
        return moment.astimezone(ZoneInfo(zone)) if zone else moment
    return datetime.combine(date.fromisoformat(value["date"]), datetime.min.time(), ZoneInfo("UTC"))


def _exdates(recurrence: list[str]) -> set[datetime]:
    found: set[datetime] = set()
    for line in recurrence:
        name, _, values = line.partition(":")
        if not name.upper().startswith("EXDATE"):
            continue
        zone = ZoneInfo("UTC")
        match = re.search(r"TZID=([^;:]+)", name)
        if match:
            zone = ZoneInfo(match.group(1))
        for value in values.split(","):
            if value.endswith("Z"):
                found.add(
                    datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC"))
                )
            else:
                found.add(utc(datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)))
    return found


class GoogleWorld(VdirWorld):
    provider = "google"
    attendee_edits = False

    def __init__(
        self, root: Path, emulator: GoogleEmulator, *, edit: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.emulator = emulator
        self.config = root / "oneonone.toml"
        root.mkdir(parents=True, exist_ok=True)
        text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
        for old, new in (edit or {}).items():
            assert old in text, old
            text = text.replace(old, new, 1)
        text = _CALENDAR_LINE.sub('calendar = { provider = "google" }', text)
        key = emulator.write_service_account_key(root / "service-account.json")
        text += (
            f'\n[google]\nservice_account_file = "{key.name}"\napi_endpoint = "{emulator.url}"\n'
        )
        self.config.write_text(text)
        self.env: dict[str, str] = {}
        forget_sessions()
        self.org = load_org(self.config, env=self.env)
        for email, person in self.org.people.items():
            emulator.add_user(email, time_zone=person.timezone)
        self.ledger = Ledger(self.org.database_url)
        self._ids: dict[str, str] = {}

    def restart(self) -> None:
        forget_sessions()
        super().restart()

    def close(self) -> None:
        forget_sessions()
        super().close()

    # ------------------------------------------------------------------ as a person

    def calendar(self, person: str) -> Any:
        return self.emulator.service("calendar", self.email(person))

    def _get(self, owner: str, event_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = (
                self.calendar(owner)
                .events()
                .get(calendarId=self.email(owner), eventId=event_id)
                .execute()
            )
        except HttpError as error:
            if error.resp.status in (404, 410):
                return None
            raise
        return None if found.get("status") == "cancelled" else found

    def _exceptions(self, owner: str, event_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = None
        while True:
            answer = (
                self.calendar(owner)
                .events()
                .list(calendarId=self.email(owner), singleEvents=False, pageToken=page)
                .execute()
            )
            items += [i for i in answer.get("items", []) if i.get("recurringEventId") == event_id]
            page = answer.get("nextPageToken")
            if not page:
                return items

    def _view_of(self, owner: str, event_id: str) -> EventView | None:
        event = self._get(owner, event_id)
        if event is None:
            return None
        private = (event.get("extendedProperties") or {}).get("private") or {}
        organizer = str((event.get("organizer") or {}).get("email", "")).lower()
        if not private and organizer and organizer != self.email(owner):
            # Private extended properties belong to the organizer's copy alone ("Properties
            # that are private to the copy of the event that appears on this calendar").
            mine = self._get(organizer, event_id) or {}
            private = (mine.get("extendedProperties") or {}).get("private") or {}
        moved = [
            _instant(e["start"])
            for e in self._exceptions(owner, event_id)
            if e.get("status") != "cancelled" and "start" in e
        ]
        return EventView(
            start=_instant(event["start"]),
            description=str(event.get("description", "")),
            exdates=_exdates(event.get("recurrence") or []),
            moved_starts=moved,
            pair=private.get("oneonone_pair"),
            week=private.get("oneonone_week"),
            declined_by={
                str(a["email"]).lower()
                for a in event.get("attendees") or []
                if a.get("responseStatus") == "declined"
            },
        )

    def _series_id(self, manager: str, rep: str) -> str:
        return event_id_for(series_uid(self.email(manager), self.email(rep)))

    def series_view(self, owner: str, manager: str, rep: str) -> EventView | None:
        return self._view_of(owner, self._series_id(manager, rep))

    def makeup_view(self, owner: str, manager: str, rep: str, week: str) -> EventView | None:
        uid = makeup_uid(self.email(manager), self.email(rep), week)
        return self._view_of(owner, event_id_for(uid))

    def makeup_uids(self, owner: str) -> list[str]:
        uids = []
        for event in self.emulator.events(self.email(owner)):
            private = (event.get("extendedProperties") or {}).get("private") or {}
            if "oneonone_week" in private and event.get("status") != "cancelled":
                uids.append(private.get("oneonone_uid", event["id"]))
        return sorted(uids)

    def event_view(self, owner: str, uid: str) -> EventView | None:
        return self._view_of(owner, self._ids.get(uid, uid))

    def event_uids(self, owner: str) -> list[str]:
        return sorted(
            e["id"]
            for e in self.emulator.events(self.email(owner))
            if e.get("status") != "cancelled"
        )

    # ------------------------------------------------------------------ people's edits

    def _patch(self, owner: str, event_id: str, body: dict[str, Any]) -> None:
        self.calendar(owner).events().patch(
            calendarId=self.email(owner), eventId=event_id, body=body, sendUpdates="all"
        ).execute()

    def _answer(self, owner: str, event_id: str) -> None:
        """``owner`` declines on their own copy (their attendee entry's responseStatus)."""
        event = self._get(owner, event_id)
        assert event is not None, event_id
        attendees = [dict(a) for a in event.get("attendees") or []]
        for attendee in attendees:
            if str(attendee.get("email", "")).lower() == self.email(owner):
                attendee["responseStatus"] = "declined"
        self._patch(owner, event_id, {"attendees": attendees})

    def move_instance(
        self, owner: str, manager: str, rep: str, rid: datetime, new_start: datetime
    ) -> None:
        series = self._get(owner, self._series_id(manager, rep))
        assert series is not None
        length = _instant(series["end"]) - _instant(series["start"])
        self._patch(
            owner,
            instance_id(self._series_id(manager, rep), rid),
            {"start": _when(new_start), "end": _when(new_start + length)},
        )

    def cancel_instance(
        self, owner: str, manager: str, rep: str, rid: datetime, how: str = "exdate"
    ) -> None:
        series_id = self._series_id(manager, rep)
        if self.email(owner) != self.email(manager):
            # An attendee deleting their copy of a week declines it.
            self._answer(owner, instance_id(series_id, rid))
            return
        if how == "exdate":
            series = self._get(owner, series_id)
            assert series is not None
            zone = series["start"].get("timeZone", "UTC")
            local = utc(rid).astimezone(ZoneInfo(zone))
            recurrence = [*series["recurrence"], f"EXDATE;TZID={zone}:{local:%Y%m%dT%H%M%S}"]
            self._patch(owner, series_id, {"recurrence": recurrence})
            return
        self.calendar(owner).events().delete(
            calendarId=self.email(owner), eventId=instance_id(series_id, rid), sendUpdates="all"
        ).execute()

    def decline_instance(self, owner: str, manager: str, rep: str, rid: datetime) -> None:
        self._answer(owner, instance_id(self._series_id(manager, rep), rid))

    def decline_makeup(self, owner: str, manager: str, rep: str, week: str) -> None:
        uid = makeup_uid(self.email(manager), self.email(rep), week)
        self._answer(owner, event_id_for(uid))

    def delete_series(self, owner: str, manager: str, rep: str) -> None:
        self.calendar(owner).events().delete(
            calendarId=self.email(owner), eventId=self._series_id(manager, rep)
        ).execute()

    def move_series(self, owner: str, manager: str, rep: str, new_start: datetime) -> None:
        series_id = self._series_id(manager, rep)
        series = self._get(owner, series_id)
        assert series is not None
        length = _instant(series["end"]) - _instant(series["start"])
        zone = ZoneInfo(series["start"].get("timeZone", "UTC"))
        start = new_start.astimezone(zone)
        self._patch(owner, series_id, {"start": _when(start), "end": _when(start + length)})

    def add_event(
        self, person: str, uid: str, start: date | datetime, end: date | datetime, summary: str
    ) -> None:
        created = (
            self.calendar(person)
            .events()
            .insert(
                calendarId=self.email(person),
                body={"summary": summary, "start": _when(start), "end": _when(end)},
            )
            .execute()
        )
        self._ids[uid] = created["id"]

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
            "summary": summary,
            "start": _when(start),
            "end": _when(end),
            "attendees": [
                {"email": self.email(organizer), "organizer": True, "responseStatus": "accepted"},
                *({"email": self.email(a), "responseStatus": "accepted"} for a in attendees),
            ],
        }
        if weekly:
            body["recurrence"] = ["RRULE:FREQ=WEEKLY"]
        created = (
            self.calendar(organizer)
            .events()
            .insert(calendarId=self.email(organizer), body=body, sendUpdates="all")
            .execute()
        )
        self._ids[uid] = created["id"]

    # ------------------------------------------------------------------ agendas (Google Docs)

    def _agenda_files(self, manager: str, rep: str) -> dict[str, dict[str, Any]]:
        prefix = f"{self.email(manager)}/{self.email(rep)}/"
        found: dict[str, dict[str, Any]] = {}
        for item in self.emulator.drive_files():
            key = str((item.get("appProperties") or {}).get("oneonone_agenda", ""))
            if key.startswith(prefix) and not item.get("trashed"):
                found[key.removeprefix(prefix)] = item
        return found

    def agenda_days(self, manager: str, rep: str) -> list[str]:
        return sorted(self._agenda_files(manager, rep))

    def _markdown(self, manager: str, file_id: str) -> str:
        """The Doc as Docs' "Download as Markdown" gives it (checklists as ``- [ ]``)."""
        data = (
            self.emulator.service("drive", self.email(manager))
            .files()
            .export(fileId=file_id, mimeType="text/markdown")
            .execute()
        )
        return data.decode("utf-8") if isinstance(data, bytes) else str(data)

    def agenda_text(self, manager: str, rep: str, day: date | str) -> str | None:
        item = self._agenda_files(manager, rep).get(str(day))
        return None if item is None else self._markdown(manager, item["id"])

    def edit_agenda(
        self, manager: str, rep: str, day: date | str, edit: Callable[[str], str]
    ) -> None:
        """The rep edits the Doc (the emulator keeps the edited text as the Doc's)."""
        item = self._agenda_files(manager, rep)[str(day)]
        text = edit(self._markdown(manager, item["id"]))
        self.emulator.edit_doc(item["id"], text, self.email(rep))

    def delete_agenda(self, manager: str, rep: str, day: date | str) -> None:
        item = self._agenda_files(manager, rep)[str(day)]
        self.emulator.service("drive", self.email(manager)).files().delete(
            fileId=item["id"]
        ).execute()

    def agenda_sharing(self, manager: str, rep: str, day: date | str) -> dict[str, str]:
        """Who may do what with the pair's agenda of ``day`` (e-mail -> role)."""
        item = self._agenda_files(manager, rep)[str(day)]
        return {
            str(p.get("emailAddress", "")).lower(): str(p.get("role"))
            for p in item.get("permissions") or []
        }

    def series_attachments(self, owner: str, manager: str, rep: str) -> dict[datetime, list[str]]:
        series_id = self._series_id(manager, rep)
        found: dict[datetime, list[str]] = {}
        for event in self._exceptions(owner, series_id):
            links = [a["fileUrl"] for a in event.get("attachments") or []]
            if links and event.get("status") != "cancelled":
                found[utc(_instant(event["originalStartTime"]))] = links
        return found

    def makeup_attachments(self, owner: str, manager: str, rep: str, week: str) -> list[str]:
        uid = makeup_uid(self.email(manager), self.email(rep), week)
        event = self._get(owner, event_id_for(uid))
        return [a["fileUrl"] for a in (event or {}).get("attachments") or []]

    def snapshot(self) -> dict[str, Any]:
        """Every event's and Drive file's version (equal snapshots: nothing was written)."""
        found: dict[str, Any] = {}
        for email in self.org.people:
            for event in self.emulator.events(email):
                found[f"{email}/{event['id']}"] = event.get("etag")
        for item in self.emulator.drive_files():
            found[f"drive/{item['id']}"] = (item.get("version"), item.get("modifiedTime"))
        return found

    def cancel_meeting_instance(self, owner: str, uid: str, rid: datetime) -> None:
        self.calendar(owner).events().delete(
            calendarId=self.email(owner), eventId=instance_id(self._ids[uid], rid)
        ).execute()
