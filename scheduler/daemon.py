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

import json
import logging
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from scheduler import metrics
from scheduler.errors import OneononeError, UserError
from scheduler.orgfile import Org, load_org
from scheduler.server import App, ServerState, start_server
from scheduler.store.ledger import Ledger
from scheduler.store.lock import DataLock
from scheduler.sync import run_pass

__all__ = ["run_daemon"]

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


def run_daemon(config_path: Path, org: Org, *, start: datetime | None = None) -> int:
    """Run passes until a signal; ``start`` is a simulated clock's first reading (``--now``)."""
    lock = DataLock(org.data_dir)
    lock.acquire()
    clock = _Clock(start)
    # The feed, agenda, health and metrics server: its own Ledger (engine) for its threads.
    try:
        http = ServerState(org, Ledger(org.database_url), clock.now)
        server = start_server(App(http), org.server.host, org.server.port)
    except OneononeError:
        lock.release()
        raise
    interval = max(1, org.schedule.poll_minutes)
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": interval * 60},
    )

    def one_pass() -> None:
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
        http.org = current  # names, titles and the poll interval follow the file
        began = time.monotonic()
        try:
            result = run_pass(current, ledger, now, apply=True)
            state = "safety_stop" if result.safety else ("problems" if result.problems else "ok")
            ledger.set_state("last_pass_result", state)
            ledger.set_state("last_pass_at", now.isoformat())
            ledger.set_state("last_pass_safety", json.dumps(result.safety))
            if state == "ok":
                ledger.set_state("last_good_pass", now.isoformat())
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
        except OneononeError as error:
            ledger.set_state("last_pass_result", "error")
            ledger.set_state("last_pass_at", now.isoformat())
            metrics.record_pass("error", time.monotonic() - began, now)
            log.error("pass failed: %s", error)
        except Exception:  # the daemon outlives one bad pass; the traceback goes to the log
            metrics.record_pass("error", time.monotonic() - began, now)
            log.exception("pass failed unexpectedly")
        finally:
            ledger.close()

    scheduler.add_job(
        one_pass,
        IntervalTrigger(minutes=interval),
        id="reconcile-pass",
        replace_existing=True,
        next_run_time=datetime.now(UTC),
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current pass, then stopping", signum)
        # wait=True: the executor joins the running pass before the scheduler returns.
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"oneonone: running every {interval} min on {org.path} (pid lock {lock.path}); "
        "stop with Ctrl-C or SIGTERM",
        flush=True,
    )
    print(f"oneonone: serving feeds, /healthz and /metrics at {org.server.public_url}", flush=True)
    try:
        scheduler.start()
    finally:
        server.stop()
        http.ledger.close()
        lock.release()
    print("oneonone: stopped", flush=True)
    return 0
