"""Many replicas on one PostgreSQL (a real server the tests start, ``tests/pgserver.py``).

- Two replicas sync the same org at the same moments, concurrently, over several weeks with
  people's edits: no error, no duplicate event, each notice once, and the calendars, the
  ledger, the agendas and the notices exactly what one replica alone makes; then every feed
  and every agenda page is served, the same, by two servers of their own.
- A pass that dies between writing an agenda and recording its prep notice: the next pass,
  on the other replica, sends that notice, once.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

import scheduler.sync
from scheduler.errors import OneononeError
from scheduler.feeds import _AGENDA_SECRET_KEY, issue_token
from scheduler.replica import exclusive_pass
from scheduler.server import App, ServerState, start_server
from scheduler.store.ledger import Ledger
from tests.system.world import VdirWorld

pytestmark = pytest.mark.postgres

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 4, 8, tzinfo=NY)  # Monday of 2027-W01


def simulated_weeks() -> int:
    """Two weeks in the suite; ``REPLICA_WEEKS=13`` runs the acceptance's simulated quarter."""
    return int(os.environ.get("REPLICA_WEEKS", "2"))


def mornings(weeks: int) -> list[datetime]:
    """Monday, Wednesday and Friday mornings, ``weeks`` weeks from START."""
    return [START + timedelta(days=7 * w + d) for w in range(weeks) for d in (0, 2, 4)]


@dataclass
class Run:
    passes: int = 0
    written: int = 0
    errors: list[str] = field(default_factory=list)
    by_replica: Counter[str] = field(default_factory=Counter)


def edit(world: VdirWorld, index: int) -> None:
    """People's edits, the same in every run: a cancelled week (a make-up follows), a declined
    week, a deleted series (recreated, the manager told)."""
    occurrences = world.ledger.occurrences()
    if index == 1:
        week = occurrences["marco@acme.example/ana@acme.example"]["2027-W03"]
        world.cancel_instance("marco", "marco", "ana", week.planned_start)
    elif index == 3:
        week = occurrences["dana@acme.example/raj@acme.example"]["2027-W03"]
        world.decline_instance("raj", "dana", "raj", week.planned_start)
    elif index == 5:
        world.delete_series("marco", "marco", "liam")


def simulate(root: Path, url: str | None, replicas: int, weeks: int) -> tuple[VdirWorld, Run]:
    world = VdirWorld(root)
    if url is not None:
        world.env = {"ONEONONE_DATABASE_URL": url}
        world.restart()
    ledgers = [Ledger(world.org.database_url) for _ in range(replicas)]
    # One agenda secret for every run, so agenda addresses (and the calendars linking them)
    # can be compared byte for byte.
    world.ledger.set_state(_AGENDA_SECRET_KEY, "5e" * 32)
    run = Run()
    try:
        for index, now in enumerate(mornings(weeks)):
            edit(world, index)
            lock = threading.Lock()

            def replica(k: int, now: datetime = now, lock: threading.Lock = lock) -> None:
                try:
                    result = exclusive_pass(
                        world.org,
                        ledgers[k],
                        now,
                        replica=f"replica-{k}",
                        wait=60,
                        ttl=timedelta(seconds=60),
                    )
                except Exception as error:  # any error at all fails the test below
                    with lock:
                        run.errors.append(f"replica-{k} at {now}: {type(error).__name__}: {error}")
                    return
                with lock:
                    run.passes += 1
                    run.written += result.written
                    if result.written:
                        run.by_replica[f"replica-{k}"] += 1
                    run.errors.extend(f"replica-{k}: {p}" for p in result.problems)

            threads = [threading.Thread(target=replica, args=(k,)) for k in range(replicas)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
    finally:
        for ledger in ledgers:
            ledger.close()
    return world, run


def served_by_every_replica(world: VdirWorld, now: datetime, replicas: int = 2) -> tuple[int, int]:
    """Fetch every person's feed and every agenda page from each of ``replicas`` servers, each
    with a ledger connection of its own (as a load balancer may send any request to any
    replica): all answer 200, and all the same. Returns (feeds, agenda pages) per replica."""
    tokens = {email: issue_token(world.ledger, email, now) for email in world.org.people}
    paths = [
        "/" + d.url.split("/", 3)[3]
        for docs in world.ledger.agenda_docs().values()
        for d in docs.values()
        if d.url is not None
    ]
    paths += [f"/feeds/{token}.ics" for token in tokens.values()]
    answers: list[dict[str, str]] = []
    for _ in range(replicas):
        ledger = Ledger(world.org.database_url)
        server = start_server(App(ServerState(world.org, ledger, lambda: now)), "127.0.0.1", 0)
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                got = {path: http.get(path) for path in paths}
        finally:
            server.stop()
            ledger.close()
        failed = {path: r.status_code for path, r in got.items() if r.status_code != 200}
        assert failed == {}
        answers.append({path: r.text for path, r in got.items()})
    assert all(answer == answers[0] for answer in answers)
    feeds = [text for path, text in answers[0].items() if path.startswith("/feeds/")]
    assert all("BEGIN:VEVENT" in text for text in feeds)
    return len(feeds), len(paths) - len(feeds)


def calendars(world: VdirWorld) -> dict[str, str]:
    folder = world.org.data_dir / "calendars"
    return {
        str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*.ics"))
    }


def sent_times(world: VdirWorld) -> dict[tuple[str, str, str, str], datetime | None]:
    """When (by the pass's clock) each notice was sent: a notice sent a pass late shows."""
    return {(n.kind, n.pair_key, n.week, n.recipient): n.sent_at for n in world.ledger.notices()}


def ledger_facts(world: VdirWorld) -> dict[str, Any]:
    ledger = world.ledger
    return {
        "occurrences": {
            (key, week): (r.status, r.plan_status, r.planned_start, r.actual_start, r.reason)
            for key, weeks in ledger.occurrences().items()
            for week, r in weeks.items()
        },
        "series": {
            k: (s.fingerprint, s.sequence, s.pending) for k, s in ledger.all_series().items()
        },
        "makeups": {
            (k, w): (m.state, m.start, m.pending)
            for k, weeks in ledger.makeups().items()
            for w, m in weeks.items()
        },
        "notices": sorted(
            (n.kind, n.pair_key, n.week, n.recipient, n.sent_at is not None)
            for n in ledger.notices()
        ),
        "agendas": {
            (k, day): (d.state, d.week, d.kind)
            for k, docs in ledger.agenda_docs().items()
            for day, d in docs.items()
        },
    }


@pytest.mark.slow
def test_two_replicas_syncing_concurrently_do_what_one_replica_does(
    tmp_path: Path, postgres_url: str
) -> None:
    weeks = simulated_weeks()
    alone, single = simulate(tmp_path / "alone", None, 1, weeks)
    shared, pair = simulate(tmp_path / "shared", postgres_url, 2, weeks)
    try:
        assert pair.errors == [] and single.errors == []
        assert pair.passes == 2 * len(mornings(weeks))  # every pass ran, one at a time
        assert pair.written == single.written > 0  # calendar writes: one replica's
        assert calendars(shared) == calendars(alone)  # no duplicate event, nothing missing
        assert ledger_facts(shared) == ledger_facts(alone)
        sent = [m["Message-ID"] for m in shared.outbox()]
        assert len(sent) == len(set(sent)) == len(alone.outbox()) > 0  # no double, none lost
        assert sent_times(shared) == sent_times(alone)  # and none a pass late
        kinds = Counter(n.kind for n in shared.ledger.notices())
        assert kinds["series_recreated"] >= 1 and kinds["prep"] >= 1
        # The agendas live in the database: every replica serves every one of them.
        texts = [
            shared.ledger.agenda_text(d.ref)
            for docs in shared.ledger.agenda_docs().values()
            for d in docs.values()
            if d.ref is not None
        ]
        assert texts and all(text for text in texts)
        assert not (shared.org.data_dir / "agendas").exists()
        feeds, pages = served_by_every_replica(shared, mornings(weeks)[-1])
        assert feeds == len(shared.org.people) and pages == len(texts)
    finally:
        alone.close()
        shared.close()


def test_a_pass_killed_between_an_agenda_and_its_notice_is_finished_by_the_other_replica(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = VdirWorld(tmp_path)
    world.env = {"ONEONONE_DATABASE_URL": postgres_url}
    world.restart()
    first, second = Ledger(postgres_url), Ledger(postgres_url)
    try:
        now = START  # the agendas of Tuesday's 1:1s are due (72 hours ahead)

        def killed(*_args: Any, **_kwargs: Any) -> Any:
            raise OneononeError("killed after the agendas were written")

        with monkeypatch.context() as patch:
            patch.setattr(scheduler.sync, "apply_plan", killed)
            with pytest.raises(OneononeError, match="killed"):
                exclusive_pass(world.org, first, now, replica="dies")
        written = [d for docs in first.agenda_docs().values() for d in docs.values()]
        assert written and all(d.state == "written" for d in written)
        assert first.notices() == []  # the crash came before any notice was recorded
        exclusive_pass(world.org, second, now + timedelta(minutes=5), replica="survivor")
        exclusive_pass(world.org, first, now + timedelta(minutes=10), replica="dies")
        preps = [n for n in second.notices() if n.kind == "prep"]
        assert {n.pair_key for n in preps} == {d.pair_key for d in written}
        assert all(n.sent_at is not None for n in preps)
        prep_mails = [m for m in world.outbox() if "prepare" in str(m["Subject"]).lower()]
        ids = [m["Message-ID"] for m in prep_mails]
        assert len(ids) == len(set(ids)) == len({n.message_id for n in preps})
        runs = second.pass_runs(3)
        assert runs[-1].result == "abandoned" and runs[-2].resumes == runs[-1].id
    finally:
        first.close()
        second.close()
        world.close()
