"""Helpers for end-to-end tests: run the CLI, read and edit vdir files like calendar clients do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event, vCalAddress

from scheduler.domain import series_uid
from scheduler.domain.series import utc

REPO = Path(__file__).resolve().parents[2]


def oneonone(
    config: Path, *args: str, now: str | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m scheduler`` as a user would, in the repo's environment."""
    command = [sys.executable, "-m", "scheduler", *args, "--config", str(config)]
    if now is not None:
        command += ["--now", now]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEONONE_")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def oneonone_json(config: Path, *args: str, now: str) -> Any:
    done = oneonone(config, *args, "--json", now=now, check=True)
    return json.loads(done.stdout)


def calendar_files(root: Path) -> dict[str, bytes]:
    """Every calendar object under ``root`` (relative path -> bytes), temp files excluded."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*.ics"))
        if not path.name.startswith(".")
    }


def series_file(folder: Path, manager: str, rep: str) -> Path:
    return folder / f"{series_uid(manager, rep)}.ics"


def _master(cal: Calendar) -> Event:
    return next(c for c in cal.walk("VEVENT") if "RECURRENCE-ID" not in c)


def _instance(cal: Calendar, rid: datetime) -> Event:
    """The override for ``rid``, added (the way Thunderbird/khal do) when missing."""
    for component in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in component and utc(component.decoded("recurrence-id")) == utc(rid):
            return component
    master = _master(cal)
    duration = master.decoded("dtend") - master.decoded("dtstart")
    override = Event()
    for key in ("uid", "summary", "organizer", "sequence"):
        if key in master:
            override[key] = master[key]
    override.add("recurrence-id", rid)
    override.add("dtstart", rid)
    override.add("dtend", rid + duration)
    override.add("dtstamp", datetime(2026, 1, 1, tzinfo=rid.tzinfo))
    for attendee in master.get("attendee", []):
        copy = vCalAddress(str(attendee))
        copy.params.update(dict(attendee.params))
        override.add("attendee", copy, encode=False)
    cal.add_component(override)
    return override


def move_instance(path: Path, rid: datetime, new_start: datetime) -> None:
    """Move one instance, as a calendar client does: a RECURRENCE-ID override."""
    cal = Calendar.from_ical(path.read_bytes())
    override = _instance(cal, rid)
    duration = override.decoded("dtend") - override.decoded("dtstart")
    for key in ("dtstart", "dtend"):
        del override[key]
    override.add("dtstart", new_start)
    override.add("dtend", new_start + duration)
    path.write_bytes(cal.to_ical())


def decline_instance(path: Path, rid: datetime, email: str) -> None:
    """Decline one instance on this copy: PARTSTAT=DECLINED on the owner's ATTENDEE line."""
    cal = Calendar.from_ical(path.read_bytes())
    override = _instance(cal, rid)
    for attendee in override.get("attendee", []):
        if str(attendee).lower().removeprefix("mailto:") == email:
            attendee.params["PARTSTAT"] = "DECLINED"
    path.write_bytes(cal.to_ical())


def exdate_instance(path: Path, rid: datetime) -> None:
    """Delete one instance: an EXDATE on the master, on a line of its own."""
    cal = Calendar.from_ical(path.read_bytes())
    _master(cal).add("exdate", rid)
    path.write_bytes(cal.to_ical())


def write_busy(folder: Path, uid: str, start: datetime, minutes: int = 60) -> None:
    """A person's own meeting: busy time the planner must avoid."""
    cal = Calendar()
    cal.add("prodid", "-//tests//EN")
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", uid)
    event.add("summary", "Customer call")
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("dtstamp", datetime(2026, 1, 1, tzinfo=start.tzinfo))
    cal.add_component(event)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{uid}.ics").write_bytes(cal.to_ical())
