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
from tests.system.helpers import khal_list


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

    first = START.date()
    lines = khal_list(
        khal, folder, tmp_path, first.isoformat(), "21d", "{start-date} {start-time} {title}"
    )
    week_two = first + timedelta(weeks=1, days=1)
    week_three = first + timedelta(weeks=2, days=1)
    assert lines == [
        f"{first + timedelta(days=1)} 10:00 1:1 Marco / Ana",
        f"{week_two} 13:00 1:1 Marco / Ana",  # Marco moved it from 10:00
        f"{week_three} 10:00 1:1 Marco / Ana",
    ]
