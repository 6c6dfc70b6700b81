"""Benchmark: CalDAV requests a pass costs, against a Radicale started on 127.0.0.1.

Prints, for an org of M managers with R reps each (default 10 x 4 = 40 pairs, 50 calendars),
everyone on the ``caldav`` provider, each person a Radicale account with one calendar:

- the requests of the first pass (finding each calendar, reading it whole, creating every
  series and copy), by method;
- steady state with nothing changed (the goal: one sync-collection REPORT per calendar and
  no writes): requests per pass, per calendar and per organizer (their calendar and their
  reps');
- steady state with people declining single weeks on their own calendars now and then: what
  fetching the changed objects and writing make-ups adds.

Requests are counted on the wire, the sign-in handshake included (one 401 per calendar per
process). The passes run in one process, as ``oneonone run`` does, so the mirror of every
calendar is kept between passes. Not a test: ``python bench/caldav_requests.py [--managers M]
[--reps R] [--passes N]``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time as clock
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler import clientedits
from scheduler.domain import series_uid
from scheduler.orgfile import load_org
from scheduler.providers.caldav import REQUESTS, forget_sessions
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.caldav.harness import DavPeople
from tests.caldav.servers import DavServer, start_radicale

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=NY)  # a Monday
POLL = timedelta(minutes=5)
VARIABLE = "BENCH_CALDAV_PASSWORD_{}"


def write_org(root: Path, server: DavServer, managers: int, reps: int) -> dict[str, str]:
    """The org file; each person's calendar URL by account name."""
    lines = ['[org]\nname = "Bench"\ntimezone = "America/New_York"\ncountry = "US"']
    urls: dict[str, str] = {}

    def person(user: str, name: str, manager: str | None) -> None:
        urls[user] = server.make_calendar(user, "calendar")
        os.environ[VARIABLE.format(user.upper().replace("-", "_"))] = server.accounts[user]
        lines.append(
            f'\n[[person]]\nemail = "{user}@bench.example"\nname = "{name}"\n'
            + (f'manager = "{manager}@bench.example"\n' if manager else 'weekday = "tue"\n')
            + f'calendar = {{ provider = "caldav", url = "{urls[user]}", username = "{user}", '
            f'password_env = "{VARIABLE.format(user.upper().replace("-", "_"))}" }}'
        )

    for m in range(managers):
        person(f"m{m}", f"Manager {m}", None)
        for r in range(reps):
            person(f"r{m}-{r}", f"Rep {m}-{r}", f"m{m}")
    (root / "oneonone.toml").write_text("\n".join(lines) + "\n")
    return urls


def show(title: str, counts: Counter[str], passes: int = 1, calendars: int = 1) -> int:
    total = sum(counts.values())
    extra = ""
    if passes > 1:
        extra = f" ({total / passes:.1f} per pass, {total / passes / calendars:.2f} per calendar)"
    print(f"{title}: {total} requests{extra}")
    for method, count in counts.most_common():
        print(f"    {method:10} {count:8d}")
    return total


def by_method() -> Counter[str]:
    counts: Counter[str] = Counter()
    for (method, _), count in REQUESTS.items():
        counts[method] += count
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--passes", type=int, default=12)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        accounts = {f"m{m}": f"pw-m{m}" for m in range(args.managers)}
        accounts |= {
            f"r{m}-{r}": f"pw-r{m}-{r}" for m in range(args.managers) for r in range(args.reps)
        }
        server = start_radicale(root / "radicale", accounts)
        try:
            urls = write_org(root, server, args.managers, args.reps)
            forget_sessions()
            org = load_org(root / "oneonone.toml", env={})
            ledger = Ledger(org.database_url)
            calendars = len(urls)
            print(
                f"{args.managers} managers, {len(org.pairs)} pairs, {calendars} calendars, "
                "all on CalDAV (Radicale)"
            )

            REQUESTS.clear()
            started = clock.perf_counter()
            result = run_pass(org, ledger, NOW, apply=True, env={})
            took = clock.perf_counter() - started
            assert not result.problems, result.problems[:3]
            show(f"first pass ({took:.1f} s, {result.written} objects written)", by_method())

            now = NOW
            REQUESTS.clear()
            started = clock.perf_counter()
            for _ in range(args.passes):
                now += POLL
                run_pass(org, ledger, now, apply=True, env={})
            took = clock.perf_counter() - started
            quiet = by_method()
            total = show(
                f"steady state, nothing changed ({args.passes} passes, "
                f"{took / args.passes * 1000:.0f} ms a pass)",
                quiet,
                args.passes,
                calendars,
            )
            print(
                f"requests per pass per organizer (their calendar and their {args.reps} reps'): "
                f"{total / args.passes / args.managers:.2f}; writes: "
                f"{quiet['PUT'] + quiet['DELETE']}"
            )

            # Now and then a rep declines next week's 1:1 on their own calendar.
            scratch = root / "client"
            REQUESTS.clear()
            declined = 0
            for index in range(args.passes):
                now += POLL
                if index % 3 == 0:
                    pair = rng.choice(list(org.pairs))
                    user = pair.rep.email.split("@")[0]
                    people = DavPeople(server, user, urls[user], scratch)
                    uid = series_uid(pair.manager.email, pair.rep.email)
                    week = pair.regular_start(_next_week(now))
                    if people.get(uid) is not None:
                        people.edit(
                            uid,
                            lambda path, w=week, who=pair.rep.email: clientedits.decline_instance(
                                path, w, who
                            ),
                        )
                        declined += 1
                run_pass(org, ledger, now, apply=True, env={})
            show(
                f"steady state with {declined} weeks declined by reps",
                by_method(),
                args.passes,
                calendars,
            )
            ledger.close()
        finally:
            server.stop()
            forget_sessions()


def _next_week(now: datetime) -> str:
    from scheduler.domain import iso_week

    return iso_week((now + timedelta(days=7)).date())


if __name__ == "__main__":
    main()
