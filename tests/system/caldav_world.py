"""The test world on CalDAV: the example org with everyone on the ``caldav`` provider, each
person a Radicale account (htpasswd, bcrypt) with one calendar, on 127.0.0.1.

People act the way a CalDAV client lets them: their client keeps a local copy of their
calendar (as DAVx5, Thunderbird or vdirsyncer + khal do), edits it, and uploads each change
conditionally (``If-Match`` on the ETag it had, ``If-None-Match: *`` for a new object). So the
world keeps a folder per person: before an edit or a look every calendar involved is fetched
into it, the vdir world's edit is made on the files (``VdirWorld``'s own methods, the edits of
khal, Thunderbird and Apple Calendar), and what changed is uploaded.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scheduler.orgfile import load_org
from scheduler.providers.caldav import forget_sessions
from scheduler.store.ledger import Ledger
from tests.caldav.servers import DavServer, start_radicale
from tests.system.helpers import REPO
from tests.system.world import EventView, VdirWorld

_CALENDAR_LINE = re.compile(r'calendar = \{ provider = "vdir", path = "data/calendars/([^"]*)" \}')
CALENDAR = "calendar"
#: numbers the worlds of a process: each makes calendars of its own on a shared server
_WORLDS = itertools.count()


def start_server(root: Path, users: list[str]) -> DavServer:
    return start_radicale(root, {user: f"{user}-pw-7Q" for user in users}, bcrypt=True)


def example_users() -> list[str]:
    text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
    return _CALENDAR_LINE.findall(text)


def _variable(user: str) -> str:
    # Not ONEONONE_*: the CLI tests hand subprocesses the environment without those.
    return f"TEST_DAV_PASSWORD_{user.upper()}"


class CaldavWorld(VdirWorld):
    provider = "caldav"
    attendee_edits = True

    def __init__(self, root: Path, server: DavServer, *, edit: dict[str, str] | None = None):
        self.root = root
        self.server = server
        self.config = root / "oneonone.toml"
        root.mkdir(parents=True, exist_ok=True)
        text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
        for old, new in (edit or {}).items():
            assert old in text, old
            text = text.replace(old, new, 1)
        self.urls: dict[str, str] = {}
        self._saved: dict[str, str | None] = {}

        def caldav(match: re.Match[str]) -> str:
            user = match.group(1)
            if user not in self.urls:
                self.urls[user] = server.make_calendar(user, f"{CALENDAR}-{next(_WORLDS)}")
            self._saved.setdefault(_variable(user), os.environ.get(_variable(user)))
            os.environ[_variable(user)] = server.accounts[user]
            return (
                f'calendar = {{ provider = "caldav", url = "{self.urls[user]}", '
                f'username = "{user}", password_env = "{_variable(user)}" }}'
            )

        text = _CALENDAR_LINE.sub(caldav, text)
        self.config.write_text(text)
        self.env: dict[str, str] = {}
        forget_sessions()
        self.org = load_org(self.config, env=self.env)
        self.ledger = Ledger(self.org.database_url)
        self.user_of = {
            email: config.username or "" for email, config in self.org.calendars.items()
        }
        #: what each person's client fetched last: file name -> (ETag, bytes)
        self._fetched: dict[str, dict[str, tuple[str, bytes]]] = {}

    def restart(self) -> None:
        forget_sessions()
        super().restart()

    def close(self) -> None:
        forget_sessions()
        super().close()

    def forget_passwords(self) -> None:
        """Take the passwords out of the environment again (the fixture's teardown: a
        closed world's org file may still be run by a subprocess in the test)."""
        for variable, value in self._saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value

    # ------------------------------------------------------------------ the clients' copies

    def folder(self, person: str) -> Path:
        return self.root / "clients" / self.email(person)

    def _url(self, person: str) -> str:
        return self.urls[self.user_of[self.email(person)]]

    def fetch(self, person: str) -> None:
        """``person``'s client fetches their calendar into its folder."""
        from tests.caldav.harness import DavPeople

        email = self.email(person)
        user = self.user_of[email]
        people = DavPeople(self.server, user, self._url(person), self.root / "scratch")
        listing = people.listing_with_etags()
        folder = self.folder(person)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name, (_, data) in listing.items():
            (folder / name).write_bytes(data)
        self._fetched[email] = listing

    def upload(self, person: str) -> None:
        """``person``'s client uploads what changed in its folder since it fetched."""
        email = self.email(person)
        user = self.user_of[email]
        fetched = self._fetched.get(email, {})
        url = self._url(person)
        folder = self.folder(person)
        now = {p.name: p.read_bytes() for p in folder.glob("*.ics")}
        with self.server.session(user) as session:
            for name, data in now.items():
                headers = {"Content-Type": "text/calendar; charset=utf-8"}
                if name in fetched:
                    if fetched[name][1] == data:
                        continue
                    headers["If-Match"] = fetched[name][0]
                else:
                    headers["If-None-Match"] = "*"
                answer = session.put(url + name, data=data, headers=headers)
                assert answer.status_code in (200, 201, 204), (name, answer.status_code)
            for name, (etag, _) in fetched.items():
                if name not in now:
                    answer = session.delete(url + name, headers={"If-Match": etag})
                    assert answer.status_code in (200, 204), (name, answer.status_code)
        self.fetch(person)

    def _edit(self, people: list[str], edit: Callable[[], None]) -> None:
        for person in people:
            self.fetch(person)
        edit()
        for person in people:
            self.upload(person)

    def _look(self, person: str) -> None:
        self.fetch(person)

    # ------------------------------------------------------------------ views

    def series_view(self, owner: str, manager: str, rep: str) -> EventView | None:
        self._look(owner)
        return super().series_view(owner, manager, rep)

    def makeup_view(self, owner: str, manager: str, rep: str, week: str) -> EventView | None:
        self._look(owner)
        return super().makeup_view(owner, manager, rep, week)

    def makeup_uids(self, owner: str) -> list[str]:
        self._look(owner)
        return super().makeup_uids(owner)

    def event_view(self, owner: str, uid: str) -> EventView | None:
        self._look(owner)
        return super().event_view(owner, uid)

    def event_uids(self, owner: str) -> list[str]:
        self._look(owner)
        return super().event_uids(owner)

    def series_attachments(self, owner: str, manager: str, rep: str) -> dict[datetime, list[str]]:
        self._look(owner)
        return super().series_attachments(owner, manager, rep)

    def makeup_attachments(self, owner: str, manager: str, rep: str, week: str) -> list[str]:
        self._look(owner)
        return super().makeup_attachments(owner, manager, rep, week)

    def snapshot(self) -> dict[str, Any]:
        """Every calendar object's ETag and every agenda document (equal: nothing written)."""
        found: dict[str, Any] = {}
        for email in self.org.people:
            self.fetch(email)
            for name, (etag, _) in self._fetched[email].items():
                found[f"{email}/{name}"] = etag
        agendas = self.org.data_dir / "agendas"
        for path in sorted(agendas.rglob("*")) if agendas.exists() else []:
            if path.is_file():
                found[str(path)] = (path.read_bytes(), path.stat().st_mtime_ns)
        return found

    # ------------------------------------------------------------------ people's edits

    def move_instance(
        self, owner: str, manager: str, rep: str, rid: datetime, new_start: datetime
    ) -> None:
        sup = super().move_instance
        self._edit([owner], lambda: sup(owner, manager, rep, rid, new_start))

    def cancel_instance(
        self, owner: str, manager: str, rep: str, rid: datetime, how: str = "exdate"
    ) -> None:
        sup = super().cancel_instance
        self._edit([owner], lambda: sup(owner, manager, rep, rid, how))

    def decline_instance(self, owner: str, manager: str, rep: str, rid: datetime) -> None:
        sup = super().decline_instance
        self._edit([owner], lambda: sup(owner, manager, rep, rid))

    def decline_makeup(self, owner: str, manager: str, rep: str, week: str) -> None:
        sup = super().decline_makeup
        self._edit([owner], lambda: sup(owner, manager, rep, week))

    def delete_series(self, owner: str, manager: str, rep: str) -> None:
        sup = super().delete_series
        self._edit([owner], lambda: sup(owner, manager, rep))

    def move_series(self, owner: str, manager: str, rep: str, new_start: datetime) -> None:
        sup = super().move_series
        self._edit([owner], lambda: sup(owner, manager, rep, new_start))

    def add_event(
        self, person: str, uid: str, start: date | datetime, end: date | datetime, summary: str
    ) -> None:
        sup = super().add_event
        self._edit([person], lambda: sup(person, uid, start, end, summary))

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
        sup = super().add_meeting
        self._edit(
            [organizer, *attendees],
            lambda: sup(uid, start, end, summary, organizer, attendees, weekly=weekly),
        )

    def cancel_meeting_instance(self, owner: str, uid: str, rid: datetime) -> None:
        sup = super().cancel_meeting_instance
        self._edit([owner], lambda: sup(owner, uid, rid))
