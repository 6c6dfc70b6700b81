"""Benchmark: feed fetches and 304s per second from the daemon's server, for a 1,000-person org.

Builds an org file of one VP, managers with 8 reps each and the remaining people as reps, on
vdir calendars in a temporary folder; runs passes over a few weeks so every series has history
(a moved week, a cancelled week); issues every person a feed token; serves it on a free port
of 127.0.0.1 and fetches:

1. each person's feed once, cold (the feed is built from the ledger on first fetch);
2. ``--requests`` full fetches of random people's feeds (warm: built feeds are cached and
   rebuilt only when the ledger changes);
3. ``--requests`` conditional fetches with the ETag, answered ``304``.

Not a test: ``python bench/feeds.py [--people N] [--requests R] [--clients C]``. Every request
goes to 127.0.0.1 only, the counts are bounded and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from scheduler import feeds
from scheduler.orgfile import load_org
from scheduler.server import App, ServerState, start_server
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
START = datetime(2027, 3, 1, 7, 0, tzinfo=ZoneInfo("America/New_York"))


def org_file(folder: Path, people: int) -> Path:
    lines = [
        "[org]",
        'name = "Bench Sales"',
        'timezone = "America/New_York"',
        'country = "US"',
        "",
        "[defaults]",
        'working_hours = "08:00-18:00"',
        "",
    ]

    def person(email: str, name: str, zone: str, manager: str | None) -> None:
        lines.extend(["[[person]]", f'email = "{email}"', f'name = "{name}"'])
        lines.append(f'timezone = "{zone}"')
        if manager:
            lines.append(f'manager = "{manager}"')
        lines.append(f'calendar = {{ provider = "vdir", path = "data/cal/{email}" }}')
        lines.append("")

    rng = random.Random(7)
    person("vp@bench.example", "Vera Vance", ZONES[0], None)
    managers = max(1, (people - 1) // 9)
    count = 1
    for m in range(managers):
        manager = f"m{m}@bench.example"
        person(manager, f"Manager {m}", rng.choice(ZONES), "vp@bench.example")
        count += 1
    index = 0
    while count < people:
        manager = f"m{index % managers}@bench.example"
        person(f"r{index}@bench.example", f"Rep {index}", rng.choice(ZONES), manager)
        index += 1
        count += 1
    path = folder / "org.toml"
    path.write_text("\n".join(lines))
    return path


def fetch_all(
    url: str, paths: list[str], clients: int, etags: dict[str, str] | None
) -> tuple[float, dict[int, int]]:
    """(seconds, count by status) for fetching ``paths`` over ``clients`` keep-alive
    connections, one thread each (in this process: the figures are a floor, the clients
    share the interpreter with the server)."""
    chunks = [paths[i::clients] for i in range(clients)]
    statuses: dict[int, int] = {}

    def worker(chunk: list[str]) -> dict[int, int]:
        seen: dict[int, int] = {}
        with httpx.Client(base_url=url, timeout=30) as client:
            for path in chunk:
                headers = {"If-None-Match": etags[path]} if etags is not None else {}
                answer = client.get(path, headers=headers)
                seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        return seen

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for seen in pool.map(worker, chunks):
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count
    return time.perf_counter() - began, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--weeks", type=int, default=3, help="weekly passes of history")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        org = load_org(org_file(Path(folder), args.people))
        ledger = Ledger(org.database_url)
        began = time.perf_counter()
        for week in range(args.weeks):
            run_pass(org, ledger, START + timedelta(weeks=week), apply=True)
        passes = time.perf_counter() - began
        now = START + timedelta(weeks=args.weeks - 1)
        tokens = {email: feeds.issue_token(ledger, email, now) for email in org.people}
        print(
            f"{len(org.people)} people, {len(org.pairs)} pairs; {args.weeks} passes in "
            f"{passes:.1f} s"
        )

        server = start_server(App(ServerState(org, ledger, lambda: now)), "127.0.0.1", 0)
        try:
            everyone = [f"/feeds/{token}.ics" for token in tokens.values()]
            seconds, statuses = fetch_all(server.url, everyone, args.clients, None)
            print(
                f"cold: {len(everyone)} feeds built and fetched in {seconds:.2f} s: "
                f"{len(everyone) / seconds:,.0f} requests/s {statuses}"
            )
            rng = random.Random(1)
            sample = [rng.choice(everyone) for _ in range(args.requests)]
            seconds, statuses = fetch_all(server.url, sample, args.clients, None)
            print(
                f"feed fetches (200): {len(sample)} in {seconds:.2f} s: "
                f"{len(sample) / seconds:,.0f} requests/s {statuses}"
            )
            with httpx.Client(base_url=server.url) as client:
                etags = {path: client.get(path).headers["etag"] for path in set(sample)}
            seconds, statuses = fetch_all(server.url, sample, args.clients, etags)
            print(
                f"conditional fetches (304): {len(sample)} in {seconds:.2f} s: "
                f"{len(sample) / seconds:,.0f} requests/s {statuses}"
            )
            sizes = [len(feeds.build_feed(org, ledger, e).body) for e in list(org.people)[:50]]
            print(f"feed size: {min(sizes):,}-{max(sizes):,} bytes (first 50 people)")
        finally:
            server.stop()
            ledger.close()


if __name__ == "__main__":
    main()
