"""A real client subscribes: vdirsyncer's ``http`` storage pulls the feed into a folder over
HTTP from 127.0.0.1, and khal lists the 1:1s from it, moved weeks at their new time and
cancelled weeks absent."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from scheduler import feeds
from scheduler.server import App, RunningServer, ServerState, start_server
from tests.feeds.conftest import ANA, START, History


@pytest.fixture
def served(history: History) -> Iterator[RunningServer]:
    server = start_server(
        App(ServerState(history.org, history.ledger, lambda: history.now)), "127.0.0.1", 0
    )
    try:
        yield server
    finally:
        server.stop()


def run(command: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "VDIRSYNCER_"))},
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "xdg"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL
    )


def test_vdirsyncer_and_khal_show_the_feed(
    history: History, served: RunningServer, tmp_path: Path
) -> None:
    vdirsyncer, khal = shutil.which("vdirsyncer"), shutil.which("khal")
    if vdirsyncer is None or khal is None:
        pytest.skip("the vdirsyncer or khal executable is not installed")
    token = feeds.issue_token(history.ledger, ANA, history.now)
    folder = tmp_path / "subscribed"
    folder.mkdir()
    sync_config = tmp_path / "vdirsyncer.conf"
    sync_config.write_text(
        f"""[general]
status_path = "{tmp_path / "status"}"

[pair feed]
a = "feed_remote"
b = "feed_local"
collections = null
conflict_resolution = "a wins"

[storage feed_remote]
type = "http"
url = "{served.url}/feeds/{token}.ics"

[storage feed_local]
type = "filesystem"
path = "{folder}"
fileext = ".ics"
"""
    )
    for action in ("discover", "sync"):
        done = run([vdirsyncer, "-c", str(sync_config), action], tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    assert list(folder.glob("*.ics"))

    khal_config = tmp_path / "khal.conf"
    khal_config.write_text(
        f"""[calendars]
[[feed]]
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
path = {tmp_path / "khal.db"}
"""
    )
    first = START.date()
    listed = run(
        [
            khal,
            "-c",
            str(khal_config),
            "list",
            "--format",
            "{start-date} {start-time} {title}",
            "--day-format",
            "",
            first.isoformat(),
            "21d",
        ],
        tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    lines = [line.strip() for line in listed.stdout.splitlines() if line.strip()]
    week_two = first + timedelta(weeks=1, days=1)
    week_three = first + timedelta(weeks=2, days=1)
    assert lines == [
        f"{first + timedelta(days=1)} 10:00 1:1 Marco / Ana",
        f"{week_two} 13:00 1:1 Marco / Ana",  # Marco moved it from 10:00
        f"{week_three} 10:00 1:1 Marco / Ana",
    ]
