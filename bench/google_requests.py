"""Benchmark: Google API requests against the emulator of Calendar v3 (what a quota costs).

Prints, for an org of M managers with R reps each (default 125 x 8 = 1,000 pairs), all on the
``google`` provider:

- the requests of the first pass (creating every series), by method;
- a steady-state day at a 5-minute poll (288 passes) with nothing changed, and the same day
  with 2% of the next weeks' occurrences edited by people (reps declining single weeks),
  spread over the day: requests per pass and per day, by method;
- the day scaled to 10,000 reps, against Google's default of 1,000,000 requests a day per
  project;
- the pass that attaches the next week's agendas (a poll once every 1:1 of that week is
  within the 72 hours; a pass earlier that morning has read back last week's documents and
  taken in everything else that changed), and the pass after it: requests per pair, by method.

Two measures, both counted by the emulator: **API calls** (a batch counts each of its parts, as
Google's quotas do: "A set of n requests batched together counts toward your usage limit as n
requests") and **HTTP requests** (a batch counts once; what latency and connections cost).
Backoff is off (the emulator injects no faults here). Not a test: ``python bench/google_requests.py
[--managers M] [--reps R] [--passes N]`` (``--passes`` shortens the simulated day; the per-day
figures are then scaled from the passes run).
"""

from __future__ import annotations

import argparse
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

from scheduler.domain import series_uid
from scheduler.orgfile import load_org
from scheduler.providers.google import forget_sessions
from scheduler.providers.google.events import event_id_for, instance_id
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.google_emulator import GoogleEmulator

NY = ZoneInfo("America/New_York")
NOW = datetime(2027, 1, 4, 8, 0, tzinfo=NY)  # a Monday
POLL = timedelta(minutes=5)
PASSES_PER_DAY = 288
GOOGLE_DAILY_QUOTA = 1_000_000


def write_org(root: Path, managers: int, reps: int, endpoint: str, key: Path) -> list[str]:
    lines = [
        "[org]",
        'name = "Bench"',
        'timezone = "America/New_York"',
        'country = "US"',
        'data_dir = "data"',
        "",
        "[google]",
        f'service_account_file = "{key.name}"',
        f'api_endpoint = "{endpoint}"',
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
            'calendar = { provider = "google" }',
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
                'calendar = { provider = "google" }',
            ]
    (root / "oneonone.toml").write_text("\n".join(lines) + "\n")
    return people


def counted(emulator: GoogleEmulator) -> Counter[str]:
    counts = Counter(emulator.counts)
    counts.pop("oauth.token", None)
    return counts


def calls(counts: Counter[str]) -> int:
    """API calls: every call, a batch's parts each (the envelope itself is no call)."""
    return sum(v for k, v in counts.items() if k not in ("batch", "batch.parts"))


def http_requests(counts: Counter[str]) -> int:
    """HTTP requests: a batch once, whatever it holds."""
    return calls(counts) - counts["batch.parts"] + counts["batch"]


def show(title: str, counts: Counter[str], passes: int = 1) -> None:
    total, http = calls(counts), http_requests(counts)
    each = f" ({total / passes:.1f} per pass)" if passes > 1 else ""
    each_http = f" ({http / passes:.1f} per pass)" if passes > 1 else ""
    print(f"{title}: {total} API calls{each}, {http} HTTP requests{each_http}")
    for method, count in counts.most_common():
        print(f"    {method:34} {count:8d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--managers", type=int, default=125)
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--passes", type=int, default=PASSES_PER_DAY)
    args = parser.parse_args()
    rng = random.Random(7)
    emulator = GoogleEmulator()
    emulator.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            key = emulator.write_service_account_key(root / "service-account.json")
            people = write_org(root, args.managers, args.reps, emulator.url, key)
            for email in people:
                emulator.add_user(email, time_zone="America/New_York")
            forget_sessions()
            org = load_org(root / "oneonone.toml", env={})
            ledger = Ledger(org.database_url)
            pairs = len(org.pairs)
            print(f"{args.managers} managers, {pairs} pairs, all on Google (emulator)")

            emulator.reset_counts()
            started = clock.perf_counter()
            result = run_pass(org, ledger, NOW, apply=True, env={})
            took = clock.perf_counter() - started
            assert not result.problems, result.problems[:3]
            first = counted(emulator)
            show(f"first pass ({took:.1f} s, {result.written} objects written)", first)
            print(
                f"first pass per pair: {calls(first) / pairs:.2f} API calls, "
                f"{http_requests(first) / pairs:.2f} HTTP requests (goal <= 1.5 HTTP requests; "
                f"{result.agendas_written} agendas written)"
            )

            # A quiet day.
            now = NOW
            emulator.reset_counts()
            started = clock.perf_counter()
            for _ in range(args.passes):
                now += POLL
                run_pass(org, ledger, now, apply=True, env={})
            quiet = counted(emulator)
            quiet_total = calls(quiet)
            took = clock.perf_counter() - started
            per_pass = quiet_total / args.passes
            per_pass_ms = took / args.passes * 1000
            show(
                f"steady state, quiet ({args.passes} passes, {per_pass_ms:.0f} ms a pass)",
                quiet,
                args.passes,
            )

            # A day with 2% of the occurrences of the next weeks edited by people.
            edits = max(1, round(pairs * 0.02 * args.passes / PASSES_PER_DAY))
            targets = rng.sample(list(org.pairs), edits)
            at = sorted(rng.sample(range(args.passes), edits))
            # People act through emulator.service(), whose calls the emulator never counts.
            emulator.reset_counts()
            for index in range(args.passes):
                now += POLL
                while at and at[0] == index:
                    at.pop(0)
                    pair = targets.pop()
                    uid = series_uid(pair.manager.email, pair.rep.email)
                    week = pair.regular_start(_next_week(now))
                    rep = emulator.service("calendar", pair.rep.email)
                    event_id = instance_id(event_id_for(uid), week)
                    found = rep.events().get(calendarId=pair.rep.email, eventId=event_id).execute()
                    attendees = [dict(a) for a in found.get("attendees", [])]
                    for attendee in attendees:
                        if attendee["email"] == pair.rep.email:
                            attendee["responseStatus"] = "declined"
                    rep.events().patch(
                        calendarId=pair.rep.email, eventId=event_id, body={"attendees": attendees}
                    ).execute()
                run_pass(org, ledger, now, apply=True, env={})
            busy = counted(emulator)
            busy_total = calls(busy)
            show(f"steady state with {edits} occurrences edited by people", busy, args.passes)

            scale = PASSES_PER_DAY / args.passes
            day = busy_total * scale
            quiet_day = quiet_total * scale
            print(
                f"API calls per day at a 5-minute poll: {quiet_day:,.0f} quiet, {day:,.0f} with "
                "2% edited"
            )
            print(
                f"quiet pass per organizer calendar: {per_pass / args.managers:.2f} API calls "
                f"(keep <= 1.03), {http_requests(quiet) / args.passes / args.managers:.2f} HTTP "
                "requests"
            )
            per_pair_day = day / pairs
            print(f"API calls per pair per day: {per_pair_day:.1f}")
            big = per_pair_day * 10_000
            print(
                f"10,000 reps: about {big:,.0f} requests a day, "
                f"{big / GOOGLE_DAILY_QUOTA:.0%} of Google's default 1,000,000"
            )

            # The pass that attaches the next week's agendas alone: a pass on Saturday morning,
            # before any is due, takes in the days in between (the last documents read back,
            # busy time, the weeks that moved on); the next one comes once every 1:1 of the
            # next week is within the 72 hours (each manager's reps fill Tuesday's morning).
            saturday = datetime(2027, 1, 9, 8, 0, tzinfo=NY)
            settle = run_pass(org, ledger, saturday, apply=True, env={})
            starts = [o.start for o in settle.planned if o.week == "2027-W02"]
            due = max(starts) - timedelta(hours=org.schedule.agenda_lead_hours) + POLL
            emulator.reset_counts()
            result = run_pass(org, ledger, due, apply=True, env={})
            assert not result.problems, result.problems[:3]
            attaching = counted(emulator)
            show(
                f"the pass that attaches a week's agendas ({result.agendas_written} agendas "
                f"written, {result.written} objects written)",
                attaching,
            )
            writes = sum(
                v
                for k, v in attaching.items()
                if k.startswith("calendar.events.")
                and k.rsplit(".", 1)[1] in ("insert", "update", "patch", "delete")
            )
            print(
                "the pass that attaches a week's agendas, per pair: "
                f"{calls(attaching) / pairs:.2f} API calls ({writes / pairs:.2f} calendar "
                f"writes), {http_requests(attaching) / pairs:.2f} HTTP requests"
            )
            emulator.reset_counts()
            after = run_pass(org, ledger, due + POLL, apply=True, env={})
            following = counted(emulator)
            show(
                f"the pass after it ({after.written} objects written, "
                f"{after.observed_changes} changes observed)",
                following,
            )
            ledger.close()
    finally:
        emulator.stop()
        forget_sessions()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")


def _next_week(now: datetime) -> str:
    from scheduler.domain import iso_week

    return iso_week((now + timedelta(days=7)).date())


if __name__ == "__main__":
    main()
