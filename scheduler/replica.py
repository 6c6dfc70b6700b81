"""One pass as one of many replicas: ``exclusive_pass`` runs ``run_pass`` holding the right to.

I/O: the ledger (the pass lease and ``pass_runs``), and whatever the pass does. On a shared
ledger (PostgreSQL) it waits up to ``wait`` seconds for the pass lease, fences every write of
the pass with the lease's token (``scheduler.store.lease``), records the pass in ``pass_runs``
(naming an unfinished pass it finishes) and gives the lease up at the end. On SQLite it holds
the data folder's lock instead, as ever. This is ``oneonone sync``; the daemon keeps its lease
across passes instead (``scheduler.daemon``).

Exports: exclusive_pass, poll_seconds.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta

from scheduler.errors import AlreadyRunning, UserError
from scheduler.orgfile import Org
from scheduler.store.lease import PassLease, Renewer, replica_name, wait_for_lease
from scheduler.store.ledger import Ledger
from scheduler.store.lock import DataLock
from scheduler.sync import PassResult, run_pass

__all__ = ["exclusive_pass", "poll_seconds"]

log = logging.getLogger(__name__)


def poll_seconds(org: Org) -> int:
    """Seconds between passes, which is also how long a pass lease lasts unrenewed:
    ``[schedule] poll_minutes``, or ``ONEONONE_POLL_SECONDS`` (for simulations and tests of
    several replicas, where minutes are too long to wait)."""
    raw = os.environ.get("ONEONONE_POLL_SECONDS", "").strip()
    if raw:
        try:
            seconds = int(raw)
        except ValueError:
            raise UserError(
                f"ONEONONE_POLL_SECONDS={raw!r} is not a whole number of seconds"
            ) from None
        if seconds < 1:
            raise UserError("ONEONONE_POLL_SECONDS must be at least 1")
        return seconds
    return max(1, org.schedule.poll_minutes) * 60


def exclusive_pass(
    org: Org,
    ledger: Ledger,
    now: datetime,
    *,
    force: bool = False,
    replica: str | None = None,
    wait: float | None = None,
    ttl: timedelta | None = None,
) -> PassResult:
    """Run one applying pass while no other process or replica runs one.

    Raises ``AlreadyRunning`` when the data folder's lock (SQLite) is held, or when the pass
    lease (PostgreSQL) stays held by another replica for ``wait`` seconds (default: one poll
    interval, the longest a pass lease lasts unrenewed).
    """
    if not ledger.shared:
        with DataLock(org.data_dir):
            return run_pass(org, ledger, now, apply=True, force=force)
    life = ttl or timedelta(seconds=poll_seconds(org))
    lease = PassLease(ledger.engine, replica or replica_name(), life)
    if not wait_for_lease(lease, life.total_seconds() if wait is None else wait):
        holder, token, expires = lease.state()
        until = "" if expires is None else f" until {expires.isoformat(timespec='seconds')}"
        raise AlreadyRunning(
            f"replica {holder} holds the pass lease (token {token}){until} and runs the "
            "passes; nothing to do here, or try again once it stops"
        )
    token = lease.token or 0
    renewer = Renewer(lease).start()
    ledger.fence = lease.fence_for(token)
    try:
        run_id, unfinished = ledger.begin_pass(lease.replica, token, now, datetime.now(UTC))
        if unfinished is not None:
            log.warning(
                "finishing pass %d, which replica %s began and never finished",
                unfinished.id,
                unfinished.replica,
            )
        result = run_pass(org, ledger, now, apply=True, force=force)
        state = "safety_stop" if result.safety else ("problems" if result.problems else "ok")
        ledger.end_pass(run_id, state, datetime.now(UTC), "\n".join(result.problems))
        return result
    finally:
        ledger.fence = None
        renewer.stop()
        lease.release()
