"""Replica processes on one PostgreSQL, SIGKILLed as a machine or an operator kills them.

- Two ``oneonone run`` daemons, as an admin runs them behind a load balancer: one holds the pass
  lease, the other stands by; both serve every feed and agenda; the holder is SIGKILLed and the
  other takes over within two poll intervals, with no traceback.
- ``oneonone sync`` processes racing at each moment of two weeks (``REPLICA_WEEKS=13``: a
  quarter), the lease holder SIGKILLed at random: the result is what one replica alone makes,
  and every feed and agenda page is then served by every replica.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from scheduler.feeds import _AGENDA_SECRET_KEY
from scheduler.notices import LEASE
from scheduler.store.ledger import Ledger, PassRun
from tests.system.test_replicas import (
    calendars,
    edit,
    ledger_facts,
    mornings,
    sent_times,
    served_by_every_replica,
    simulate,
    simulated_weeks,
)
from tests.system.world import VdirWorld, copy_example

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

POLL_SECONDS = 2
RUN = (sys.executable, "-m", "scheduler")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_daemons_share_one_ledger_and_the_standby_replaces_a_killed_holder(
    tmp_path: Path, postgres_url: str
) -> None:
    config = copy_example(tmp_path)
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONEONONE_")}
    base.update({"ONEONONE_DATABASE_URL": postgres_url, "ONEONONE_POLL_SECONDS": str(POLL_SECONDS)})
    ports = [free_port(), free_port()]
    daemons: list[subprocess.Popen[str]] = []

    def start(index: int) -> subprocess.Popen[str]:
        env = {
            **base,
            "ONEONONE_SERVER__BIND": f"127.0.0.1:{ports[index]}",
            "ONEONONE_REPLICA": f"replica-{index}",
        }
        daemon = subprocess.Popen(
            [*RUN, "run", "--config", str(config), "--now", "2027-01-04T08:00"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        daemons.append(daemon)
        return daemon

    def health(index: int) -> dict[str, Any]:
        answer = httpx.get(f"http://127.0.0.1:{ports[index]}/healthz", timeout=2)
        body: dict[str, Any] = answer.json()
        return body

    try:
        first = start(0)
        wait_for(
            "the first replica's first pass",
            lambda: health(0).get("last_pass", {}).get("result") == "ok",
        )
        assert health(0)["role"] == "holder"
        start(1)
        wait_for("the second replica", lambda: health(1).get("role") == "standby")
        seen = health(1)
        assert seen["last_pass"]["replica"] == "replica-0" and not seen["last_pass"]["failed"]

        # Every replica serves every feed and agenda: the tokens and texts are in the ledger.
        issued = subprocess.run(
            [*RUN, "feeds", "url", "ana@acme.example", "--config", str(config)],
            capture_output=True,
            text=True,
            env=base,
            timeout=60,
            check=True,
        ).stdout
        token = re.search(r"/feeds/([^/\s]+)\.ics", issued)
        assert token is not None, issued
        ledger = Ledger(postgres_url)
        try:
            agenda_urls = [
                d.url
                for docs in ledger.agenda_docs().values()
                for d in docs.values()
                if d.url is not None
            ]
        finally:
            ledger.close()
        assert agenda_urls
        for port in ports:
            feed = httpx.get(f"http://127.0.0.1:{port}/feeds/{token[1]}.ics", timeout=5)
            assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
            for url in agenda_urls:
                path = url.split("/agendas/", 1)[1]
                page = httpx.get(f"http://127.0.0.1:{port}/agendas/{path}", timeout=5)
                assert page.status_code == 200, (port, url)

        # SIGKILL the holder, mid-pass or not: the standby takes over within two intervals.
        time.sleep(POLL_SECONDS * 0.7)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        wait_for("the standby to take the lease", lambda: health(1).get("role") == "holder")
        handover = time.monotonic() - killed_at
        assert handover <= 2 * POLL_SECONDS, handover
        after = wait_for(
            "a pass by the new holder",
            lambda: (
                (h := health(1))["last_pass"]["replica"] == "replica-1"
                and h["last_pass"]["result"] == "ok"
                and h
            ),
        )
        assert after["replica"]["lease_token"] >= 2

        daemons[1].send_signal(signal.SIGTERM)
        _out, err = daemons[1].communicate(timeout=30)
        assert daemons[1].returncode == 0, err
        assert "Traceback" not in err, err
        _, first_err = first.communicate(timeout=10)
        assert "Traceback" not in first_err, first_err
        # One series per pair on every calendar: nobody made a second one.
        data = config.parent / "data" / "calendars"
        series = [
            (path.parent.name, tag[1])
            for path in data.rglob("*.ics")
            if "X-ONEONONE-WEEK" not in (text := path.read_text())
            and (tag := re.search(r"X-ONEONONE-PAIR:(\S+)", text))
        ]
        assert series and len(series) == len(set(series))
        ledger = Ledger(postgres_url)
        try:
            keys = [(n.kind, n.pair_key, n.week, n.recipient) for n in ledger.notices()]
            assert len(keys) == len(set(keys))
            assert all(n.sent_at is not None for n in ledger.notices())
        finally:
            ledger.close()
        print(f"hand-over after SIGKILL: {handover:.2f} s (poll interval {POLL_SECONDS} s)")
    finally:
        for daemon in daemons:
            if daemon.poll() is None:
                daemon.kill()
                daemon.communicate()


def test_syncs_killed_at_random_mid_pass_end_as_one_replica_alone(
    tmp_path: Path, postgres_url: str
) -> None:
    """Two ``oneonone sync`` processes at each moment of two weeks with people's edits, and
    one of them SIGKILLed at a random moment of about half the steps (a supervisor then starts
    one more, as it restarts a dead replica): the calendars, the ledger and the notices end as
    one replica alone leaves them, with no traceback, no duplicate and nothing lost."""
    weeks = simulated_weeks()
    rng = random.Random(12)
    alone, single = simulate(tmp_path / "alone", None, 1, weeks)
    world = VdirWorld(tmp_path / "shared")
    world.env = {"ONEONONE_DATABASE_URL": postgres_url}
    world.restart()
    world.ledger.set_state(_AGENDA_SECRET_KEY, "5e" * 32)  # as simulate() does
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEONONE_")}
    env.update({"ONEONONE_DATABASE_URL": postgres_url, "ONEONONE_POLL_SECONDS": "1"})
    kills = 0
    last_run = 0
    tracebacks: list[str] = []
    try:
        for index, now in enumerate(mornings(weeks)):
            edit(world, index)
            stamp = now.isoformat()
            command = [*RUN, "sync", "--config", str(world.config), "--now", stamp]
            procs = [
                subprocess.Popen(
                    command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
                for _ in range(2)
            ]
            killed = False
            if rng.random() < 0.8:
                # SIGKILL the lease holder in the middle of its pass: its replica name (host,
                # pid, random) is in the pass it began.
                holder = _pass_begun_after(world.ledger, last_run)
                if holder is not None:
                    time.sleep(rng.uniform(0.0, 0.4))
                    pid = int(holder.replica.rsplit("-", 2)[1])
                    victim = next((p for p in procs if p.pid == pid), None)
                    if victim is not None and victim.poll() is None:
                        os.kill(pid, signal.SIGKILL)
                        killed = True
                        kills += 1
            for proc in procs:
                _, err = proc.communicate(timeout=120)
                if "Traceback" in err:
                    tracebacks.append(err)
            if killed:
                done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
                assert done.returncode == 0, done.stderr
            runs = world.ledger.pass_runs(1)
            last_run = runs[0].id if runs else 0
        if any(n.sent_at is None for n in world.ledger.notices()):
            # A holder killed between leasing a message and marking it sent leaves it to a pass
            # after the message's lease (wall clock): in the loop the next moment's pass, after
            # the last moment a supervisor's next pass, as here.
            time.sleep(LEASE.total_seconds() + 2)
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
        assert tracebacks == []
        assert kills >= 2
        world.restart()
        assert calendars(world) == calendars(alone)
        assert ledger_facts(world) == ledger_facts(alone)
        sent = [m["Message-ID"] for m in world.outbox()]
        assert len(sent) == len(set(sent)) == len(alone.outbox()) > 0
        assert single.errors == []
        runs = world.ledger.pass_runs(1000)
        abandoned = sum(1 for run in runs if run.result == "abandoned")
        feeds, pages = served_by_every_replica(world, mornings(weeks)[-1])
        assert feeds == len(world.org.people) and pages > 0
        # Not asserted: a holder SIGKILLed between leasing a message and marking it sent leaves
        # it to the next pass once the message's lease (two minutes) ran out.
        alone_sent = sent_times(alone)
        late = sum(1 for key, at in sent_times(world).items() if at != alone_sent.get(key))
        print(
            f"{len(mornings(weeks))} moments, {len(runs)} passes begun, {kills} SIGKILLs, "
            f"{abandoned} passes killed mid-pass and finished by the next, "
            f"{len(sent)} notices sent once each ({late} later than alone), {feeds} feeds "
            f"and {pages} agenda pages served the same by two replicas"
        )
    finally:
        alone.close()
        world.close()


def _pass_begun_after(ledger: Ledger, after: int, timeout: float = 20) -> PassRun | None:
    """The first pass begun after pass ``after`` while it still runs, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [run for run in ledger.pass_runs(5) if run.id > after]
        if runs:
            first = min(runs, key=lambda run: run.id)
            return first if first.finished_at is None else None
        time.sleep(0.02)
    return None
