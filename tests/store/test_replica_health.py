"""What a replica says of itself and of the last pass: ``/healthz`` names the role and the last
pass any replica ran, and says when it failed; the Docker image checks exactly that."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from scheduler.orgfile import Org, load_org
from scheduler.server import App, RunningServer, ServerState, start_server
from scheduler.store.ledger import Ledger
from tests.system.world import copy_example

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def org(tmp_path: Path) -> Org:
    return load_org(copy_example(tmp_path))


@pytest.fixture
def served(org: Org) -> Iterator[tuple[RunningServer, Ledger]]:
    ledger = Ledger(org.database_url)
    replica: dict[str, Any] = {"name": "replica-b", "role": "standby"}
    server = start_server(App(ServerState(org, ledger, replica=lambda: replica)), "127.0.0.1", 0)
    try:
        yield server, ledger
    finally:
        server.stop()
        ledger.close()


def test_healthz_names_the_role_and_the_last_pass_and_says_it_failed(
    served: tuple[RunningServer, Ledger],
) -> None:
    server, ledger = served
    now = datetime.now(UTC)
    run, _ = ledger.begin_pass("replica-a", 3, now, now)
    ledger.set_state("last_good_pass", (now - timedelta(minutes=1)).isoformat())
    ledger.set_state("last_pass_result", "error")
    ledger.end_pass(run, "error", now, "the calendar server answered 500")
    body = httpx.get(f"{server.url}/healthz", timeout=10).json()
    assert body["role"] == "standby" and body["replica"]["name"] == "replica-b"
    assert body["last_pass"]["replica"] == "replica-a" and body["last_pass"]["lease_token"] == 3
    assert body["last_pass"]["failed"] is True
    # Not "ok" while the last pass failed, though a recent one succeeded.
    assert body["status"] == "last_pass_failed" and "failed" in body["reason"]


def test_a_pass_whose_replica_died_shows_as_failed_until_the_next_one(
    served: tuple[RunningServer, Ledger],
) -> None:
    server, ledger = served
    now = datetime.now(UTC)
    ledger.begin_pass("replica-a", 1, now, now)  # killed: never ended
    body = httpx.get(f"{server.url}/healthz", timeout=10).json()
    assert body["last_pass"]["result"] == "running"
    second, unfinished = ledger.begin_pass("replica-b", 2, now, now)
    assert unfinished is not None
    ledger.end_pass(second, "ok", now)
    body = httpx.get(f"{server.url}/healthz", timeout=10).json()
    assert body["last_pass"]["finishes_pass"] == unfinished.id
    assert body["last_pass"]["failed"] is False


def test_the_docker_healthcheck_asks_healthz(served: tuple[RunningServer, Ledger]) -> None:
    server, ledger = served
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "'.[postgres]'" in dockerfile  # the image carries the PostgreSQL driver
    found = re.search(r'HEALTHCHECK[^\n]*\\\n\s*CMD \["python", "-c", "(.*)"\]', dockerfile)
    assert found is not None
    env = {**os.environ, "ONEONONE_SERVER__BIND": f"0.0.0.0:{server.port}"}
    check = [sys.executable, "-c", found[1]]
    assert subprocess.run(check, env=env, capture_output=True, timeout=30).returncode == 1
    ledger.set_state("last_good_pass", datetime.now(UTC).isoformat())
    ledger.set_state("last_pass_result", "ok")
    assert subprocess.run(check, env=env, capture_output=True, timeout=30).returncode == 0
