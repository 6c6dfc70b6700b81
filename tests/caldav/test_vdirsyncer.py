"""A round trip with vdirsyncer: Marco keeps his calendar in a vdir folder that vdirsyncer
syncs with his Radicale calendar (a person on a CalDAV client); the product works on the
server. People's edits travel up, the product's down, and both sides settle with no conflict:
vdirsyncer never has to choose a winner, and a pass after it writes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler import clientedits, ical
from scheduler.domain import series_uid
from scheduler.domain.series import utc
from tests.caldav.servers import DavServer
from tests.system.caldav_world import CaldavWorld, example_users, start_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed"),
]

NY = ZoneInfo("America/New_York")
TUE_W01 = datetime(2027, 1, 5, 8, 0, tzinfo=NY)
RID_W02 = datetime(2027, 1, 12, 10, 0, tzinfo=NY)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[DavServer]:
    started = start_server(tmp_path / "radicale", example_users())
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def world(server: DavServer, tmp_path: Path) -> Iterator[CaldavWorld]:
    made = CaldavWorld(tmp_path / "org", server)
    try:
        yield made
    finally:
        made.close()
        made.forget_passwords()


def vdirsyncer(config: Path, home: Path, *action: str) -> str:
    command = shutil.which("vdirsyncer")
    if command is None:
        pytest.skip("the vdirsyncer executable is not installed")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "VDIRSYNCER_"))},
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "xdg"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    done = subprocess.run(
        [command, "-c", str(config), *action],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "conflict" not in output.lower(), output
    return output


def file_holding(folder: Path, uid: str) -> Path:
    for path in folder.glob("*.ics"):
        observed = ical.observe(path.read_bytes(), str(path))
        if observed is not None and observed.uid == uid:
            return path
    raise AssertionError(f"no file in {folder} holds {uid}")


def test_a_persons_caldav_client_and_the_product_converge_without_conflicts(
    world: CaldavWorld, server: DavServer, tmp_path: Path
) -> None:
    folder = tmp_path / "marco-laptop"
    folder.mkdir()
    config = tmp_path / "vdirsyncer.conf"
    config.write_text(
        f"""[general]
status_path = "{tmp_path / "status"}"

[pair marco]
a = "marco_server"
b = "marco_laptop"
collections = null
conflict_resolution = null

[storage marco_server]
type = "caldav"
url = "{world.urls["marco"]}"
username = "marco"
password = "{server.accounts["marco"]}"

[storage marco_laptop]
type = "filesystem"
path = "{folder}"
fileext = ".ics"
"""
    )
    uid = series_uid("marco@acme.example", "ana@acme.example")

    world.sync(TUE_W01)
    vdirsyncer(config, tmp_path, "discover")
    vdirsyncer(config, tmp_path, "sync")
    series = file_holding(folder, uid)

    # Marco moves next week's 1:1 on his laptop; vdirsyncer uploads it (If-Match).
    moved_to = RID_W02 + timedelta(days=1, hours=4)
    clientedits.move_instance(series, RID_W02, moved_to)
    vdirsyncer(config, tmp_path, "sync")

    # The product reads the move, keeps it, and brings Ana's copy along.
    world.sync(TUE_W01 + timedelta(hours=1))
    for copy in ("marco", "ana"):
        view = world.series_view(copy, "marco", "ana")
        assert view is not None and utc(moved_to) in [utc(s) for s in view.moved_starts], copy

    # Whatever the pass wrote comes down to the laptop; nothing conflicts, the move stays.
    vdirsyncer(config, tmp_path, "sync")
    local = ical.observe(file_holding(folder, uid).read_bytes(), "laptop")
    assert local is not None and utc(RID_W02) in local.overrides
    assert utc(local.overrides[utc(RID_W02)].start) == utc(moved_to)

    # Settled: another pass writes nothing, and vdirsyncer finds nothing to carry.
    before = world.snapshot()
    laptop = {p.name: p.read_bytes() for p in folder.glob("*.ics")}
    world.sync(TUE_W01 + timedelta(hours=2))
    assert world.snapshot() == before
    vdirsyncer(config, tmp_path, "sync")
    assert {p.name: p.read_bytes() for p in folder.glob("*.ics")} == laptop
