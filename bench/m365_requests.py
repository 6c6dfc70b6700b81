"""Benchmark: Microsoft Graph requests against the Graph emulator (what throttling sees).

Prints, for an org of M managers with R reps each (default 125 x 8 = 1,000 pairs), everyone on
the ``microsoft365`` provider:

- the first pass (creating every series, its skipped close weeks deleted as occurrences):
  HTTP requests, per organizer, and Graph requests (each ``$batch`` part counts, as Graph's
  throttling counts them), by kind;
- the second pass, which reads back what the first wrote;
- a steady-state day at a 5-minute poll (288 passes) with nothing changed, and the same day
  with 2% of the next weeks' occurrences declined by reps, spread over the day: requests per
  pass and per organizer per pass;
- Graph requests on the organizers' own mailboxes in the quiet day (what each mailbox's
  throttling sees; getSchedule is sent as a rep);
- the busiest mailbox's requests in any 10 minutes, against Graph's Outlook limit of 10,000
  requests per app per mailbox in 10 minutes (https://learn.microsoft.com/graph/throttling-
  limits#outlook-service-limits), and the day scaled to 10,000 reps.

Requests are counted by the client (HTTP requests, a batch once, per mailbox) and by the
emulator (Graph requests). Not a test: ``python bench/m365_requests.py [--managers M]
[--reps R] [--passes N]`` (``--passes`` shortens the simulated day).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time as clock
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler.domain import iso_week
from scheduler.orgfile import load_org
from scheduler.providers.microsoft365 import forget_sessions, requests_per_mailbox
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.graph_emulator import GraphEmulator

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=NY)  # a Monday
POLL = timedelta(minutes=5)
PASSES_PER_DAY = 288
MAILBOX_LIMIT = 10_000  # requests per app per mailbox per 10 minutes
SECRET_ENV = "BENCH_M365_CLIENT_SECRET"


def write_org(root: Path, managers: int, reps: int, emulator: GraphEmulator) -> list[str]:
    (root / "graph-ca.pem").write_bytes(emulator.ca_file.read_bytes())
    lines = [
        "[org]",
        'name = "Bench"',
        'timezone = "America/New_York"',
        'country = "US"',
        'data_dir = "data"',
        "",
        "[microsoft365]",
        f'tenant_id = "{emulator.tenant}"',
        f'client_id = "{emulator.client_id}"',
        f'client_secret_env = "{SECRET_ENV}"',
        f'authority = "{emulator.authority}"',
        f'graph_endpoint = "{emulator.graph_url}"',
        'ca_file = "graph-ca.pem"',
    ]
    people = []
    for m in range(managers):
        manager = f"m{m}@bench.example"
        people.append(manager)
        lines += [
            "",
            "[[person]]",
            f'email = "{manager}"',
            f'name = "Manager {m}"',
            'calendar = { provider = "microsoft365" }',
            'weekday = "tue"',
            'time = "09:00"',
            "duration_minutes = 30",
        ]
        for r in range(reps):
            rep = f"r{m}-{r}@bench.example"
            people.append(rep)
            lines += [
                "",
                "[[person]]",
                f'email = "{rep}"',
                f'name = "Rep {m}-{r}"',
                f'manager = "{manager}"',
                'calendar = { provider = "microsoft365" }',
            ]
    (root / "oneonone.toml").write_text("\n".join(lines) + "\n")
    return people


def graph_counts(emulator: GraphEmulator) -> Counter[str]:
    """Graph requests by kind (``$batch`` envelopes apart: their parts are counted)."""
    return Counter(kind for _, _, kind in emulator.requests_log)


def http_total(before: Counter[str]) -> Counter[str]:
    now = requests_per_mailbox()
    now.subtract(before)
    return +now


def show(title: str, http: Counter[str], graph: Counter[str], passes: int, managers: int) -> None:
    total = sum(http.values())
    parts = sum(v for k, v in graph.items() if k != "$batch")
    print(f"{title}:")
    print(
        f"    HTTP requests {total:8d}  ({total / passes:.2f} a pass, "
        f"{total / passes / managers:.3f} per organizer a pass)"
    )
    print(
        f"    Graph requests {parts:7d}  (batch parts counted one by one; "
        f"{parts / passes / managers:.3f} per organizer a pass)"
    )
    for kind, count in graph.most_common():
        print(f"        {kind:22} {count:8d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--managers", type=int, default=125)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--passes", type=int, default=PASSES_PER_DAY)
    args = parser.parse_args()
    rng = random.Random(7)
    emulator = GraphEmulator()
    emulator.start()
    saved = os.environ.get(SECRET_ENV)
    os.environ[SECRET_ENV] = emulator.client_secret
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            people = write_org(root, args.managers, args.reps, emulator)
            for email in people:
                emulator.add_user(email, time_zone="America/New_York")
            forget_sessions()
            org = load_org(root / "oneonone.toml", env={})
            ledger = Ledger(org.database_url)
            pairs = len(org.pairs)
            print(f"{args.managers} managers, {pairs} pairs, all on Microsoft 365 (emulator)")

            emulator.reset_counts()
            before = requests_per_mailbox()
            started = clock.perf_counter()
            result = run_pass(org, ledger, NOW, apply=True, env={})
            took = clock.perf_counter() - started
            assert not result.problems, result.problems[:3]
            first = http_total(before)
            show(
                f"first pass ({took:.1f} s, {result.written} objects written)",
                first,
                graph_counts(emulator),
                1,
                args.managers,
            )
            per_mailbox = Counter(
                user for user, _, kind in emulator.requests_log if kind != "$batch"
            )
            busiest_first = max(per_mailbox.values())

            # The next pass reads back what the first wrote (every week of every series
            # changed, so every master is fetched once more), then the days are quiet.
            now = NOW + POLL
            emulator.reset_counts()
            before = requests_per_mailbox()
            run_pass(org, ledger, now, apply=True, env={})
            show(
                "second pass (reads back the first pass's writes)",
                http_total(before),
                graph_counts(emulator),
                1,
                args.managers,
            )

            emulator.reset_counts()
            before = requests_per_mailbox()
            started = clock.perf_counter()
            for _ in range(args.passes):
                now += POLL
                run_pass(org, ledger, now, apply=True, env={})
            took = clock.perf_counter() - started
            quiet = http_total(before)
            show(
                f"steady state, quiet ({args.passes} passes, "
                f"{took / args.passes * 1000:.0f} ms a pass)",
                quiet,
                graph_counts(emulator),
                args.passes,
                args.managers,
            )
            organizers = {pair.manager.email for pair in org.pairs}
            on_own = Counter(
                user
                for user, _, kind in emulator.requests_log
                if kind != "$batch" and user in organizers
            )
            print(
                "    on organizers' own mailboxes: "
                f"{sum(on_own.values()) / args.passes / len(organizers):.3f} Graph requests "
                f"per organizer a pass (most on one: {max(on_own.values(), default=0)} in "
                f"{args.passes} passes)"
            )

            edits = max(1, round(pairs * 0.02 * args.passes / PASSES_PER_DAY))
            targets = rng.sample(list(org.pairs), edits)
            at = sorted(rng.sample(range(args.passes), edits))
            emulator.reset_counts()
            before = requests_per_mailbox()
            for index in range(args.passes):
                now += POLL
                while at and at[0] == index:
                    at.pop(0)
                    pair = targets.pop()
                    week = pair.regular_start(iso_week((now + timedelta(days=7)).date()))
                    rep = emulator.act(pair.rep.email)
                    [copy] = [i for i in emulator.items(pair.rep.email) if i.organizer != i.owner]
                    occurrence = rep.instance(copy.id, week.astimezone(ZoneInfo("UTC")))
                    rep.call("POST", f"/events/{occurrence['id']}/decline", {})
                run_pass(org, ledger, now, apply=True, env={})
            busy = http_total(before)
            show(
                f"steady state with {edits} occurrences declined by reps",
                busy,
                graph_counts(emulator),
                args.passes,
                args.managers,
            )
            scale = PASSES_PER_DAY / args.passes
            per_organizer_day = sum(busy.values()) * scale / args.managers
            print(f"per organizer per day at a 5-minute poll: {per_organizer_day:,.0f}")
            print(
                f"busiest mailbox, first pass: {busiest_first} Graph requests "
                f"(Graph's limit: {MAILBOX_LIMIT:,} per app per mailbox in 10 minutes)"
            )
            print(
                "10,000 reps at 8 a manager: the same per organizer (each reads only its own "
                f"mailbox); getSchedule for the reps only, {10_000 // 20:,} requests every 3 "
                "hours (every 30 minutes for the reps whose 1:1 nears its freeze), each on a "
                "rep's mailbox"
            )
            ledger.close()
    finally:
        emulator.stop()
        forget_sessions()
        if saved is None:
            os.environ.pop(SECRET_ENV, None)
        else:
            os.environ[SECRET_ENV] = saved
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
