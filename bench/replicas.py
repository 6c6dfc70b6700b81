"""Benchmark: two replicas on one PostgreSQL at 1,000 pairs (100 managers with 9 reps each,
and the VP with the 100 managers).

Prints how long a pass takes under the pass lease (every write fenced) while two replicas take
turns, so how many passes an hour the replicas can run between them (one at a time), and the
lease hand-over: the time from the holder's death (it stops renewing, as a SIGKILLed process
does) until the standby holds the lease, with the daemon's timings (a lease of one poll
interval, the standby asking every third of one). Not a test: run it with
``python bench/replicas.py [--managers M] [--reps R] [--poll-seconds S] [--database-url URL]``;
without a URL it starts a PostgreSQL of its own in a temporary folder (Debian's
``postgresql`` package), as the tests do, and stops it at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time as clock
from datetime import timedelta
from pathlib import Path

# The repository (for tests.pgserver) and bench/ (for the org that bench/sync.py writes).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync import NOW, write_busy, write_org

from scheduler.orgfile import load_org
from scheduler.replica import exclusive_pass
from scheduler.store.lease import PassLease
from scheduler.store.ledger import Ledger


def handover(url: str, poll: float) -> float:
    """Seconds from the holder's last renewal (then death) until the standby holds it."""
    ledger = Ledger(url)
    try:
        ttl = timedelta(seconds=poll)
        holder = PassLease(ledger.engine, "bench-holder", ttl)
        standby = PassLease(ledger.engine, "bench-standby", ttl)
        holder.release()
        while not holder.acquire():
            clock.sleep(0.05)
        # Die right after a renewal (the worst case): nothing renews it from here on.
        died = clock.monotonic()
        while not standby.acquire():
            clock.sleep(poll / 3)  # the daemon's keeper period
        took = clock.monotonic() - died
        standby.release()
        return took
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--managers", type=int, default=100)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--passes", type=int, default=4, help="steady passes to time")
    parser.add_argument("--poll-seconds", type=float, default=5.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    server = None
    url = args.database_url
    if url is None:
        from tests.pgserver import start_postgres

        server = start_postgres()
        url = server.url(server.new_database())
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            write_org(root, args.managers, args.reps)
            org = load_org(root / "oneonone.toml", env={"ONEONONE_DATABASE_URL": url})
            for config in org.calendars.values():
                assert config.path is not None
                config.path.mkdir(parents=True, exist_ok=True)
            write_busy(root, random.Random(7))
            ledgers = [Ledger(url), Ledger(url)]
            pairs = len(org.pairs)
            started = clock.perf_counter()
            exclusive_pass(org, ledgers[0], NOW, replica="replica-0", wait=600)
            first = clock.perf_counter() - started
            times = []
            for index in range(args.passes):
                now = NOW + timedelta(minutes=5 * (index + 1))
                began = clock.perf_counter()
                # The replicas take turns: each pass takes the lease, the next one hands over.
                exclusive_pass(
                    org, ledgers[index % 2], now, replica=f"replica-{index % 2}", wait=600
                )
                times.append(clock.perf_counter() - began)
            for ledger in ledgers:
                ledger.close()
            took = [handover(url, args.poll_seconds) for _ in range(3)]
            steady = statistics.median(times)
            print(f"pairs: {pairs}, replicas: 2, PostgreSQL, lease and fencing on")
            print(f"first pass: {first:.2f} s")
            print(
                f"steady pass (median of {len(times)}, alternating replicas): {steady:.2f} s "
                f"-> {3600 / steady:.0f} passes per hour across the replicas"
            )
            print(
                f"lease hand-over after the holder dies (poll interval {args.poll_seconds:g} s): "
                f"median {statistics.median(took):.2f} s, max {max(took):.2f} s "
                f"(bound: two intervals, {2 * args.poll_seconds:g} s)"
            )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
