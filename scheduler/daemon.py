"""``oneonone run``: passes on a schedule until SIGTERM or SIGINT.

APScheduler 3.x (``BlockingScheduler``) runs one pass every ``poll_minutes``: ``coalesce`` folds
passes missed while the machine slept into one, ``max_instances=1`` never overlaps two passes,
and ``misfire_grace_time`` of one poll interval still runs a pass that is a little late. The job
store is in memory: the schedule is derived from the org file on every start, nothing to share.

A signal asks the scheduler to shut down and wait for the running pass, so a pass is never cut
in the middle by a clean stop (a kill is safe too, see ``scheduler.sync``). The data folder is
locked for the daemon's whole life: a second daemon on the same data refuses to start.

The HTTP server (``scheduler.server``: feeds, agenda pages, ``/healthz``, ``/metrics``) runs in
a background thread for the daemon's whole life, on ``[server] bind``; after each pass the
daemon records the pass's time, result and safety stops in the ledger (what ``/healthz``
reads) and in the metrics.

I/O: the lock file, the ledger, calendars (through ``run_pass``), the server's socket.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from scheduler import metrics
from scheduler.engine.snapshot import FULL_SLICE
from scheduler.errors import OneononeError, UserError
from scheduler.orgfile import Org, load_org
from scheduler.replica import poll_seconds
from scheduler.server import App, ServerState, start_server
from scheduler.store.database import safe_url
from scheduler.store.lease import LeaseLost, PassLease, replica_name
from scheduler.store.ledger import Ledger
from scheduler.store.lock import DataLock
from scheduler.sync import run_pass

__all__ = ["ReplicaStatus", "run_daemon"]

log = logging.getLogger(__name__)


class _Clock:
    """Real time, or a fixed ``--now`` that then advances at real speed (for simulation)."""

    def __init__(self, start: datetime | None) -> None:
        self._origin = time.monotonic()
        self._start = start

    def now(self) -> datetime:
        if self._start is None:
            return datetime.now(UTC)
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


@dataclass
class ReplicaStatus:
    """What ``/healthz`` says of this replica: its name, its role and its own last pass."""

    name: str
    shared: bool
    role: str = "standby"
    token: int | None = None
    last_attempt_at: str | None = None
    last_attempt_result: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def view(self) -> dict[str, Any]:
        with self.lock:
            return {
                "name": self.name,
                "role": self.role,
                "lease_token": self.token,
                "last_pass_here_at": self.last_attempt_at,
                "last_pass_here_result": self.last_attempt_result,
            }


def run_daemon(config_path: Path, org: Org, *, start: datetime | None = None) -> int:
    """Run passes until a signal; ``start`` is a simulated clock's first reading (``--now``)."""
    clock = _Clock(start)
    interval = poll_seconds(org)
    # The feed, agenda, health and metrics server: its own Ledger (engine) for its threads.
    # Opening it first creates or upgrades the schema (one migrator among the replicas).
    served = Ledger(org.database_url)
    lock: DataLock | None = None
    if not served.shared:
        lock = DataLock(org.data_dir)
        try:
            lock.acquire()
        except OneononeError:
            served.close()
            raise
    replica = ReplicaStatus(replica_name(), served.shared)
    lease = (
        PassLease(served.engine, replica.name, timedelta(seconds=interval))
        if served.shared
        else None
    )
    if lease is None:
        replica.role = "holder"  # SQLite: the data folder's lock makes this the only one
    metrics.set_replica(replica.name)
    metrics.set_lease_holder(lease is None)
    try:
        http = ServerState(org, served, clock.now, replica=replica.view)
        server = start_server(App(http), org.server.host, org.server.port)
    except OneononeError:
        served.close()
        if lock is not None:
            lock.release()
        raise
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": interval},
    )

    def set_role(holding: bool) -> None:
        with replica.lock:
            replica.role = "holder" if holding else "standby"
            replica.token = lease.token if lease is not None else None
        metrics.set_lease_holder(holding)

    def keep_lease() -> None:
        """Renew the lease while holding it; take it when it is free (a holder stopped or
        died) and start a pass at once, which finishes whatever the old holder left."""
        assert lease is not None
        was = lease.held
        try:
            holding = lease.renew() if was else lease.acquire()
        except SQLAlchemyError as error:
            log.warning(
                "replica %s cannot reach the ledger to keep its lease: %s", replica.name, error
            )
            holding = False
            lease.token = None
        set_role(holding)
        if holding and not was:
            log.info("replica %s took the pass lease (token %s)", replica.name, lease.token)
            job = scheduler.get_job("reconcile-pass")
            if job is not None:
                job.modify(next_run_time=datetime.now(UTC))
        elif was and not holding:
            log.warning("replica %s lost the pass lease; standing by", replica.name)

    def one_pass() -> None:
        if lease is not None and not lease.held:
            keep_lease()
            if not lease.held:
                return  # standby: the holder runs the passes
        now = clock.now()
        try:
            current = load_org(config_path)
        except UserError as error:
            for problem in error.problems:
                log.error("org file problem, pass skipped: %s", problem)
            return
        try:
            ledger = Ledger(current.database_url)
        except OneononeError as error:
            log.error("pass skipped: %s", error)
            return
        token = 0
        if lease is not None:
            held = lease.token
            if held is None:
                ledger.close()
                return  # lost between the check above and here
            token = held
            # Every write of this pass carries the token it began under.
            ledger.fence = lease.fence_for(token)
        http.org = current  # names, titles and the poll interval follow the file
        began = time.monotonic()
        state = "error"
        run_id: int | None = None
        try:
            run_id, unfinished = ledger.begin_pass(replica.name, token, now, _wall())
            if unfinished is not None:
                log.warning(
                    "finishing pass %d, which replica %s began at %s and never finished",
                    unfinished.id,
                    unfinished.replica,
                    unfinished.started_at.isoformat(),
                )
            # The day's full reconciliation in slices: a large org's whole history is never
            # held at once (``FULL_SLICE``); a one-shot ``sync`` reads it all.
            result = run_pass(current, ledger, now, apply=True, full_slice=FULL_SLICE)
            state = "safety_stop" if result.safety else ("problems" if result.problems else "ok")
            with ledger.transaction():
                ledger.set_state("last_pass_result", state)
                ledger.set_state("last_pass_at", now.isoformat())
                ledger.set_state("last_pass_safety", json.dumps(result.safety))
                if state == "ok":
                    ledger.set_state("last_good_pass", now.isoformat())
                ledger.end_pass(run_id, state, _wall(), "\n".join(result.problems))
            metrics.record_pass(state, time.monotonic() - began, now)
            metrics.record_occurrences(ledger)
            for line in [*result.problems, *result.safety]:
                log.warning("%s", line)
            log.info(
                "pass at %s: %d planned, %d written, %s",
                now.isoformat(),
                len(result.planned),
                result.written,
                state,
            )
        except LeaseLost as error:
            state = "lease_lost"
            set_role(lease is not None and lease.held)
            log.warning("pass stopped: %s", error)
        except OneononeError as error:
            _record_failure(ledger, run_id, now, str(error))
            metrics.record_pass("error", time.monotonic() - began, now)
            log.error("pass failed: %s", error)
        except Exception as error:  # the daemon outlives one bad pass; the traceback is logged
            _record_failure(ledger, run_id, now, f"{type(error).__name__}: {error}")
            metrics.record_pass("error", time.monotonic() - began, now)
            log.exception("pass failed unexpectedly")
        finally:
            with replica.lock:
                replica.last_attempt_at = now.isoformat()
                replica.last_attempt_result = state
            ledger.close()

    scheduler.add_job(
        one_pass,
        IntervalTrigger(seconds=interval),
        id="reconcile-pass",
        replace_existing=True,
        next_run_time=datetime.now(UTC),
    )
    if lease is not None:
        # A third of the lease's life: a holder renews twice before it could expire, and a
        # standby notices a dead holder's lease at most a third of an interval after it ends.
        scheduler.add_job(
            keep_lease,
            IntervalTrigger(seconds=max(1.0, interval / 3)),
            id="keep-lease",
            replace_existing=True,
            next_run_time=datetime.now(UTC),
            max_instances=1,
        )

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current pass, then stopping", signum)
        # wait=True: the executor joins the running pass before the scheduler returns.
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # ``kill -USR1 <pid>`` prints every thread's stack to stderr and the daemon goes on: what a
    # pass that seems stuck is doing (no pass should take minutes).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if lease is None:
        assert lock is not None
        print(
            f"oneonone: running every {_every(interval)} on {org.path} (pid lock {lock.path}); "
            "stop with Ctrl-C or SIGTERM",
            flush=True,
        )
    else:
        print(
            f"oneonone: replica {replica.name} running every {_every(interval)} on {org.path}, "
            f"ledger {safe_url(org.database_url)}; one replica holds the pass lease at a time; "
            "stop with Ctrl-C or SIGTERM",
            flush=True,
        )
    print(
        "oneonone: serving feeds, agenda pages, dashboards, /healthz and /metrics at "
        f"{org.server.public_url}",
        flush=True,
    )
    try:
        scheduler.start()
    finally:
        server.stop()
        if lease is not None:
            try:
                lease.release()  # the next replica takes over at once, not after the lease
            except SQLAlchemyError as error:
                log.warning("could not give the pass lease up: %s", error)
        served.close()
        if lock is not None:
            lock.release()
    print("oneonone: stopped", flush=True)
    return 0


def _every(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _wall() -> datetime:
    return datetime.now(UTC)


def _record_failure(ledger: Ledger, run_id: int | None, now: datetime, detail: str) -> None:
    """Say in the ledger that the pass failed (what every replica's ``/healthz`` shows)."""
    try:
        with ledger.transaction():
            ledger.set_state("last_pass_result", "error")
            ledger.set_state("last_pass_at", now.isoformat())
            if run_id is not None:
                ledger.end_pass(run_id, "error", _wall(), detail)
    except (OneononeError, SQLAlchemyError) as error:
        log.error("could not record the failed pass: %s", error)
