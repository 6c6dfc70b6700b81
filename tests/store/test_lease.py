"""The pass lease on a real PostgreSQL: one holder at a time, a fencing token that rises at every
change of holder, and a holder that lost its lease (paused past it, cut off) writes nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.store.lease import LeaseLost, PassLease
from scheduler.store.ledger import Ledger

pytestmark = pytest.mark.postgres


@pytest.fixture
def ledger(postgres_url: str) -> Iterator[Ledger]:
    opened = Ledger(postgres_url)
    try:
        yield opened
    finally:
        opened.close()


def test_one_holder_at_a_time_and_the_token_rises_at_each_new_holder(ledger: Ledger) -> None:
    a = PassLease(ledger.engine, "a", timedelta(seconds=30))
    b = PassLease(ledger.engine, "b", timedelta(seconds=30))
    assert a.acquire() and a.token == 1
    assert not b.acquire() and b.token is None
    assert a.renew() and a.token == 1  # renewing keeps the token
    a.release()
    assert b.acquire() and b.token == 2
    assert not a.acquire()
    assert b.state()[:2] == ("b", 2)


def test_an_expired_lease_goes_to_the_next_replica_with_the_next_token(ledger: Ledger) -> None:
    a = PassLease(ledger.engine, "a", timedelta(seconds=0.5))
    b = PassLease(ledger.engine, "b", timedelta(seconds=30))
    assert a.acquire()
    time.sleep(0.7)  # a is "paused" past its lease
    assert b.acquire() and b.token == 2
    assert not a.renew() and a.token is None


def test_a_holder_that_lost_its_lease_cannot_write(ledger: Ledger, postgres_url: str) -> None:
    """The fencing test: a paused holder wakes up after another took over, and every write of
    its pass is refused, inside the transaction, before anything lands."""
    old = Ledger(postgres_url)
    try:
        paused = PassLease(old.engine, "paused", timedelta(seconds=0.5))
        assert paused.acquire()
        old.fence = paused.fence
        old.set_state("written_by", "paused")  # while it holds the lease: fine
        time.sleep(0.7)
        fresh = PassLease(ledger.engine, "fresh", timedelta(seconds=30))
        assert fresh.acquire() and fresh.token == 2
        ledger.fence = fresh.fence
        ledger.set_state("written_by", "fresh")
        # The paused replica resumes its pass: the ledger write and the calendar check fail.
        with pytest.raises(LeaseLost, match="lost the pass lease"):
            old.set_state("written_by", "paused again")
        with pytest.raises(LeaseLost), old.transaction():
            old.claim_notice("nudge", "m/r", "2027-W02", ["r"], "<id>", _now())
        with pytest.raises(LeaseLost):
            old.check_fence()
        assert ledger.get_state("written_by") == "fresh"
        assert ledger.notices() == []
    finally:
        old.close()


def test_a_takeover_waits_for_the_old_holders_write_in_flight(
    ledger: Ledger, postgres_url: str
) -> None:
    """The fence holds a share lock on the lease row until the write commits: a replica taking
    the lease over waits for it, so no old write lands after the new token was issued."""
    holder_ledger = Ledger(postgres_url)
    try:
        holder = PassLease(holder_ledger.engine, "holder", timedelta(seconds=0.3))
        assert holder.acquire()
        holder_ledger.fence = holder.fence
        taken_at: list[float] = []
        committed_at: list[float] = []

        def take_over() -> None:
            other = PassLease(ledger.engine, "other", timedelta(seconds=30))
            while not other.acquire():
                time.sleep(0.02)
            taken_at.append(time.monotonic())

        with holder_ledger.transaction():  # fenced while the lease is still valid
            holder_ledger.set_state("in_flight", "yes")
            thread = threading.Thread(target=take_over)
            thread.start()
            time.sleep(0.6)  # the lease expires while this write is in flight
            committed_at.append(time.monotonic())
        thread.join(10)
        assert taken_at and committed_at and taken_at[0] >= committed_at[0]
        assert ledger.get_state("in_flight") == "yes"
    finally:
        holder_ledger.close()


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_sync_while_a_daemon_holds_the_lease_says_who_holds_it(
    ledger: Ledger, tmp_path: Path
) -> None:
    from scheduler.errors import AlreadyRunning
    from scheduler.orgfile import load_org
    from scheduler.replica import exclusive_pass
    from tests.system.world import copy_example

    daemon = PassLease(ledger.engine, "daemon-1", timedelta(seconds=30))
    assert daemon.acquire()
    url = ledger.url
    org = load_org(copy_example(tmp_path), env={"ONEONONE_DATABASE_URL": url})
    with pytest.raises(AlreadyRunning, match="replica daemon-1 holds the pass lease"):
        exclusive_pass(org, ledger, _now(), wait=0.3)
    assert ledger.pass_runs() == []  # nothing was run, nothing written


def test_a_pass_cannot_go_on_under_a_lease_its_replica_took_again(
    ledger: Ledger, postgres_url: str
) -> None:
    """A is paused mid-pass, B takes the lease, runs a pass and stops; A's replica takes the
    free lease again (token 3): A's old pass, which read the world before B's, still writes
    nothing, and renewing never takes a lease anew."""
    old = Ledger(postgres_url)
    try:
        a = PassLease(old.engine, "a", timedelta(seconds=0.5))
        assert a.acquire() and a.token == 1
        old.fence = a.fence_for(1)
        time.sleep(0.7)
        b = PassLease(ledger.engine, "b", timedelta(seconds=30))
        assert b.acquire() and b.token == 2
        b.release()
        assert not a.renew()  # lost: renewing does not take the free lease
        assert a.acquire() and a.token == 3
        with pytest.raises(LeaseLost, match="token 1"):
            old.set_state("stale", "write")
        assert ledger.get_state("stale") is None
    finally:
        old.close()
