"""Helpers for end-to-end tests: run the CLI, read and edit vdir files like calendar clients do."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scheduler.clientedits import (  # noqa: F401 - re-exported for the tests
    decline_instance,
    exdate_instance,
    move_instance,
    write_event,
)
from scheduler.domain import series_uid

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


def without_agenda_tokens(data: bytes) -> bytes:
    """``data`` with every agenda address's token replaced by ``TOKEN`` (iCalendar lines
    unfolded, so a folded address is found whole) and, where there is one, the
    ``X-ONEONONE-HASH`` of an object linking an agenda replaced by ``HASH`` (it hashes the
    address too). Each ledger makes its own agenda secret, so two worlds built apart link the
    same agendas at different addresses."""
    unfolded = data.replace(b"\r\n ", b"").replace(b"\n ", b"")
    masked, found = re.subn(rb"/agendas/[0-9a-f]{32}/", b"/agendas/TOKEN/", unfolded)
    if found:
        masked = re.sub(rb"X-ONEONONE-HASH:[0-9a-f]+", b"X-ONEONONE-HASH:HASH", masked)
    return masked


def series_file(folder: Path, manager: str, rep: str) -> Path:
    return folder / f"{series_uid(manager, rep)}.ics"


def write_busy(folder: Path, uid: str, start: datetime, minutes: int = 60) -> None:
    """A person's own meeting: busy time the planner must avoid."""
    write_event(folder, uid, start, start + timedelta(minutes=minutes), "Customer call")


def khal_list(
    khal: str, folder: Path, home: Path, first: str, span: str, line_format: str
) -> list[str]:
    """What khal (a real calendar client) lists from the vdir ``folder``, one line per event,
    with a config and database of its own under ``home``."""
    config = home / "khal.conf"
    config.write_text(
        f"""[calendars]
[[calendar]]
path = {folder}
type = calendar

[locale]
timeformat = %H:%M
dateformat = %Y-%m-%d
longdateformat = %Y-%m-%d
datetimeformat = %Y-%m-%d %H:%M
longdatetimeformat = %Y-%m-%d %H:%M
default_timezone = America/New_York
local_timezone = America/New_York

[sqlite]
path = {home / "khal.db"}
"""
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XDG_")},
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "xdg"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    done = subprocess.run(
        [khal, "-c", str(config), "list", "--format", line_format, "--day-format", "", first, span],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]
