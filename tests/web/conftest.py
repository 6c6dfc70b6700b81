"""Fixtures for the agenda page and the dashboard: the example org run for a few weeks
in-process (its Markdown agendas written by the passes), and the server on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from scheduler.orgfile import Org, load_org
from scheduler.server import App, RunningServer, ServerState, start_server
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.system.helpers import REPO

NY = ZoneInfo("America/New_York")
#: A Monday morning: the first pass writes the agendas of Tuesday's 1:1s.
START = datetime(2027, 1, 4, 8, 0, tzinfo=NY)
MARCO, ANA = "marco@acme.example", "ana@acme.example"


@dataclass
class Quarter:
    """The example org, its ledger and the clock the server reads (``now``, movable)."""

    folder: Path
    org: Org
    ledger: Ledger
    now: datetime

    def run_until(self, end: datetime) -> None:
        """A pass every business morning at 08:00 from the day after ``now`` to ``end``."""
        day = self.now
        while day < end:
            day += timedelta(days=1)
            if day.weekday() < 5 and day <= end:
                result = run_pass(self.org, self.ledger, day, apply=True)
                assert not result.safety, result.safety
                self.now = day

    def agenda_path(self, manager: str, rep: str, day: str) -> Path:
        return self.org.data_dir / "agendas" / manager / rep / f"{day}.md"

    def agenda_address(self, manager: str, rep: str, day: str) -> str:
        """The agenda page's path (no host), as the ledger recorded it."""
        doc = self.ledger.agenda_docs([f"{manager}/{rep}"])[f"{manager}/{rep}"][day]
        assert doc.url is not None
        return "/" + doc.url.split("/", 3)[3]


def start_quarter(folder: Path) -> Quarter:
    config = folder / "oneonone.toml"
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", config)
    org = load_org(config)
    ledger = Ledger(org.database_url)
    assert not run_pass(org, ledger, START, apply=True).safety
    return Quarter(folder, org, ledger, START)


@pytest.fixture
def quarter(tmp_path: Path) -> Iterator[Quarter]:
    made = start_quarter(tmp_path)
    try:
        yield made
    finally:
        made.ledger.close()


@pytest.fixture
def server(quarter: Quarter) -> Iterator[RunningServer]:
    # The server gets its own ledger, as the daemon's does.
    served = Ledger(quarter.org.database_url)
    state = ServerState(quarter.org, served, lambda: quarter.now)
    running = start_server(App(state), "127.0.0.1", 0)
    try:
        yield running
    finally:
        running.stop()
        served.close()
        assert not running.thread.is_alive()


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http
