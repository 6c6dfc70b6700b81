"""The pass lease: one replica at a time runs passes on a shared ledger, and a replica that lost
the lease cannot write.

I/O: the ledger's database (the ``pass_lease`` row). On PostgreSQL times are the database's
own clock (``clock_timestamp()``), so replicas on machines whose clocks disagree still agree on
when a lease expires; on SQLite (one replica, which also holds the data folder's ``flock``) the
process's UTC clock.

The lease is a row (``name = 'pass'``) with its holder, a **fencing token** and an expiry:

- ``acquire()`` takes a free or expired lease, raising the token by one (compare-and-set on
  the token read under ``SELECT ... FOR UPDATE``, so two replicas never both take it), or
  renews the lease this replica already holds, keeping its token. ``renew()`` only extends
  a lease still held under the same token, never takes one anew. The holder renews it well
  within ``ttl`` (the daemon every third of it); a replica killed, paused or cut off stops
  renewing, and after ``ttl`` the next replica to ask takes it with the next token.
- ``fence_for(token)``, for the token a pass began under, is called at the start of every
  transaction of that pass (see ``Ledger.fence``): it reads the row ``FOR SHARE`` and raises
  ``LeaseLost`` unless this replica holds it under exactly that token and it has not expired
  (so a pass whose replica lost the lease and took it again later still stops: it read the
  world before the other replica's pass). The share lock is held
  until that transaction ends, so a replica taking the lease over waits for the write in
  flight and then sees it: no write of an old holder ever lands after a new holder's token
  was issued. Calendar writes and notices are checked the same way just before they go out,
  and every calendar write is conditional on the version the pass read, so an old holder's
  late write to a calendar fails against the new holder's write instead of undoing it.
- ``release()`` gives the lease up at once (a clean stop), for the next replica to take.

Exports: PassLease, LeaseLost, Renewer, LEASE_NAME, replica_name, wait_for_lease.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from scheduler.errors import OneononeError
from scheduler.store.ledger import pass_lease_table

__all__ = ["LEASE_NAME", "LeaseLost", "PassLease", "Renewer", "replica_name", "wait_for_lease"]

LEASE_NAME = "pass"


class LeaseLost(OneononeError):
    """This replica no longer holds the pass lease: its pass stops, writing nothing more."""


def replica_name() -> str:
    """This process's name among the replicas: ``ONEONONE_REPLICA`` when set, else the host
    name and process id (and a few random characters, so a reused pid is another name)."""
    configured = os.environ.get("ONEONONE_REPLICA", "").strip()
    if configured:
        return configured[:120]
    return f"{socket.gethostname()[:80]}-{os.getpid()}-{secrets.token_hex(2)}"


class PassLease:
    """The lease as seen by one replica (``replica``); ``token`` is set while it holds it."""

    def __init__(self, engine: Engine, replica: str, ttl: timedelta) -> None:
        self.engine = engine
        self.replica = replica
        self.ttl = ttl
        self.token: int | None = None
        # The daemon's keeper thread renews while its pass thread fences: one at a time.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ taking and keeping

    def acquire(self) -> bool:
        """Take the lease (free or expired), or renew it when held; True when held now."""
        with self._lock:
            return self._acquire()

    def _acquire(self) -> bool:
        table = pass_lease_table
        with self.engine.begin() as conn:
            self._ensure_row(conn)
            row = conn.execute(
                select(table).where(table.c.name == LEASE_NAME).with_for_update()
            ).one()
            now = self._now(conn)
            expires = _aware(row.expires_at)
            if self.token is not None and row.holder == self.replica and row.token == self.token:
                conn.execute(
                    update(table)
                    .where((table.c.name == LEASE_NAME) & (table.c.token == self.token))
                    .values(expires_at=now + self.ttl)
                )
                return True
            if row.holder is not None and expires is not None and expires > now:
                self.token = None
                return False
            token = int(row.token) + 1
            taken = conn.execute(
                update(table)
                .where((table.c.name == LEASE_NAME) & (table.c.token == row.token))
                .values(
                    holder=self.replica, token=token, expires_at=now + self.ttl, acquired_at=now
                )
            ).rowcount
            self.token = token if taken else None
            return bool(taken)

    def renew(self) -> bool:
        """Extend the lease this replica holds, keeping its token; False (and not held) when it
        was lost. Never takes a lease anew: a pass that lost its lease must not go on under a
        new token (``acquire`` does that, before a pass begins)."""
        with self._lock:
            if self.token is None:
                return False
            table = pass_lease_table
            with self.engine.begin() as conn:
                now = self._now(conn)
                kept = conn.execute(
                    update(table)
                    .where(
                        (table.c.name == LEASE_NAME)
                        & (table.c.holder == self.replica)
                        & (table.c.token == self.token)
                    )
                    .values(expires_at=now + self.ttl)
                ).rowcount
            if not kept:
                self.token = None
            return bool(kept)

    def release(self) -> None:
        """Give the lease up now, if this replica still holds it."""
        with self._lock:
            self._release()

    def _release(self) -> None:
        if self.token is None:
            return
        table = pass_lease_table
        with self.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(
                    (table.c.name == LEASE_NAME)
                    & (table.c.holder == self.replica)
                    & (table.c.token == self.token)
                )
                .values(holder=None, expires_at=None)
            )
        self.token = None

    @property
    def held(self) -> bool:
        return self.token is not None

    # ------------------------------------------------------------------ fencing

    def fence(self, conn: Connection) -> None:
        """Raise ``LeaseLost`` unless this replica holds the lease under its current token, in
        the transaction of ``conn`` (whose share lock on the row then lasts until it ends)."""
        token = self.token
        if token is None:
            raise LeaseLost(f"replica {self.replica} does not hold the pass lease")
        self._check(conn, token)

    def fence_for(self, token: int) -> Callable[[Connection], None]:
        """The fence of one pass, begun under ``token``: it fails once the lease has moved on,
        even when this replica took it again since (under a newer token, after another
        replica's pass), because this pass read the world before that one."""
        return lambda conn: self._check(conn, token)

    def _check(self, conn: Connection, token: int) -> None:
        table = pass_lease_table
        row = conn.execute(
            select(table).where(table.c.name == LEASE_NAME).with_for_update(read=True)
        ).first()
        expires = None if row is None else _aware(row.expires_at)
        if (
            row is None
            or row.holder != self.replica
            or row.token != token
            or expires is None
            or expires <= self._now(conn)
        ):
            held_by = "nobody" if row is None or row.holder is None else row.holder
            raise LeaseLost(
                f"replica {self.replica} lost the pass lease (token {token}; now held by "
                f"{held_by}, token {None if row is None else row.token}): it writes nothing more"
            )

    def check(self) -> None:
        """``fence`` in a transaction of its own: before a calendar write or a notice."""
        with self.engine.begin() as conn:
            self.fence(conn)

    # ------------------------------------------------------------------ reading

    def state(self) -> tuple[str | None, int, datetime | None]:
        """(holder, token, expires at) as the database has them now."""
        table = pass_lease_table
        with self.engine.begin() as conn:
            row = conn.execute(select(table).where(table.c.name == LEASE_NAME)).first()
        if row is None:
            return None, 0, None
        return row.holder, int(row.token), _aware(row.expires_at)

    # ------------------------------------------------------------------ helpers

    def _now(self, conn: Connection) -> datetime:
        if conn.dialect.name == "postgresql":
            found = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
            assert isinstance(found, datetime)
            return found
        return datetime.now(UTC)

    @staticmethod
    def _ensure_row(conn: Connection) -> None:
        exists = conn.execute(
            select(pass_lease_table.c.name).where(pass_lease_table.c.name == LEASE_NAME)
        ).first()
        if exists is not None:
            return
        try:
            with conn.begin_nested():
                conn.execute(insert(pass_lease_table).values(name=LEASE_NAME, token=0))
        except IntegrityError:
            pass  # another replica made it first


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Renewer:
    """Renews ``lease`` every third of its life in a background thread until ``stop()`` (for
    a single pass run outside the daemon, such as ``oneonone sync``)."""

    def __init__(self, lease: PassLease) -> None:
        self.lease = lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oneonone-lease", daemon=True)

    def start(self) -> Renewer:
        self._thread.start()
        return self

    def _run(self) -> None:
        period = max(0.2, self.lease.ttl.total_seconds() / 3)
        while not self._stop.wait(period):
            try:
                if not self.lease.renew():
                    return  # lost: the pass's next fenced write says so
            except Exception:  # a dropped connection: the fence decides, not this thread
                continue

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def wait_for_lease(lease: PassLease, wait: float) -> bool:
    """Try to take ``lease`` until ``wait`` seconds passed; True when taken."""
    deadline = time.monotonic() + wait
    while True:
        if lease.acquire():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(0.25, max(0.01, deadline - time.monotonic())))
