"""Feeds kept until a person's 1:1s change (issue 17), over real HTTP on 127.0.0.1.

A pass that changes a week changes the next fetch (new bytes, new ETag), in this process at
once and on a replica (another ``App`` on its own ledger connection, which learns of changes
only from the database); an unchanged feed is served without building it again; a rotated
token stops opening the feed; an unknown token is always looked up in the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from scheduler import feeds
from scheduler.clientedits import move_instance, week_instance
from scheduler.orgfile import Org, load_org
from scheduler.server import App, RunningServer, ServerState, start_server
from scheduler.store import feedcache
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.feeds.conftest import ANA, MARCO, SAM, START, closed_after_test, copy_example
from tests.system.helpers import series_file


def passed_org(folder: Path, env: dict[str, str] | None = None) -> Org:
    """The example org with one pass run."""
    loaded = load_org(copy_example(folder), env=env)
    ledger = Ledger(loaded.database_url)
    try:
        assert not run_pass(loaded, ledger, START, apply=True).safety
    finally:
        ledger.close()
    return loaded


@pytest.fixture
def org(tmp_path: Path) -> Org:
    return passed_org(tmp_path)


@pytest.fixture
def shared_org(tmp_path: Path, ledger_url: str) -> Org:
    """The example org on SQLite, then on PostgreSQL (where replicas really share a ledger)."""
    return passed_org(tmp_path, {"ONEONONE_DATABASE_URL": ledger_url})


class Replica:
    """An ``App`` with a ledger connection of its own, served on a free port."""

    def __init__(self, org: Org, cache: feeds.FeedCache | None = None) -> None:
        self.ledger = Ledger(org.database_url)
        self.state = ServerState(org, self.ledger, lambda: START)
        self.app = App(self.state)
        if cache is not None:
            self.app.feeds = cache
        self.server: RunningServer = start_server(self.app, "127.0.0.1", 0)
        self.http = httpx.Client(base_url=self.server.url, timeout=10)

    def get(self, token: str, etag: str | None = None) -> httpx.Response:
        headers = {"If-None-Match": etag} if etag else {}
        return self.http.get(f"/feeds/{token}.ics", headers=headers)

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.ledger.close()
        assert not self.server.thread.is_alive()


@pytest.fixture
def replicas() -> Iterator[list[Replica]]:
    yield from closed_after_test([])


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every feed built (rendered from the ledger), by e-mail."""
    built: list[str] = []
    real = feeds.build_feed

    def counting(org: Org, ledger: Ledger, email: str) -> feeds.Feed:
        built.append(email)
        return real(org, ledger, email)

    monkeypatch.setattr(feeds, "build_feed", counting)
    return built


def move_a_week(org: Org, weeks_ahead: int = 2) -> None:
    """Marco moves one week of his 1:1 with Ana on his calendar, and a pass records it."""
    copy = series_file(org.data_dir / "calendars" / "marco", MARCO, ANA)
    moved = week_instance(copy, START.date() + timedelta(weeks=weeks_ahead))
    move_instance(copy, moved, moved + timedelta(hours=2))
    ledger = Ledger(org.database_url)
    try:
        assert not run_pass(org, ledger, START + timedelta(hours=1), apply=True).safety
    finally:
        ledger.close()


def test_a_pass_that_changes_a_week_changes_the_next_fetch(
    org: Org, replicas: list[Replica], builds: list[str]
) -> None:
    replica = Replica(org)
    replicas.append(replica)
    token = feeds.issue_token(replica.ledger, ANA, START)
    first = replica.get(token)
    assert first.status_code == 200
    etag = first.headers["etag"]
    # Served again without building it again, the 304 too.
    assert replica.get(token).content == first.content
    assert replica.get(token, etag).status_code == 304
    assert builds == [ANA]

    move_a_week(org)

    after = replica.get(token, etag)
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert after.content != first.content
    check = Ledger(org.database_url)
    try:
        assert after.content == feeds.build_feed(org, check, ANA).body
    finally:
        check.close()
    assert replica.get(token, after.headers["etag"]).status_code == 304


def test_a_feed_that_did_not_change_is_not_built_again(
    org: Org, replicas: list[Replica], builds: list[str]
) -> None:
    replica = Replica(org)
    replicas.append(replica)
    ana = feeds.issue_token(replica.ledger, ANA, START)
    sam = feeds.issue_token(replica.ledger, SAM, START)
    assert replica.get(ana).status_code == 200
    assert replica.get(sam).status_code == 200
    move_a_week(org)  # Marco and Ana's pair only: Sam's feed stays as it was
    assert replica.get(ana).status_code == 200
    assert replica.get(sam).status_code == 200
    assert builds == [ANA, SAM, ANA]


def test_a_replica_learns_of_a_change_from_the_database_alone(
    shared_org: Org,
    replicas: list[Replica],
    builds: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No word from this process's own ledgers: every change must be read from the database
    # (as on a replica whose ledger another process writes). check_every=0: read each time.
    monkeypatch.setattr(feedcache, "local_changes", lambda: 0)
    org = shared_org
    first = Replica(org, feeds.FeedCache(share=True, check_every=0))
    second = Replica(org, feeds.FeedCache(share=True, check_every=0))
    replicas.extend([first, second])
    token = feeds.issue_token(first.ledger, ANA, START)

    one = first.get(token)
    two = second.get(token)
    assert one.status_code == two.status_code == 200
    assert one.content == two.content and one.headers["etag"] == two.headers["etag"]
    assert builds == [ANA]  # the second replica served the feed the first one stored

    move_a_week(org)

    for replica in (first, second):
        answer = replica.get(token, one.headers["etag"])
        assert answer.status_code == 200
        assert answer.headers["etag"] != one.headers["etag"]
    assert builds == [ANA, ANA]


def test_a_rotated_token_stops_opening_the_feed_on_every_replica(
    org: Org, replicas: list[Replica], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feedcache, "local_changes", lambda: 0)
    first = Replica(org, feeds.FeedCache(check_every=0))
    second = Replica(org, feeds.FeedCache(check_every=0))
    replicas.extend([first, second])
    old = feeds.issue_token(first.ledger, MARCO, START)
    assert first.get(old).status_code == 200
    assert second.get(old).status_code == 200
    new = feeds.issue_token(first.ledger, MARCO, START + timedelta(minutes=1))
    for replica in (first, second):
        gone = replica.get(old)
        assert gone.status_code == 404 and gone.content == b""
        assert replica.get(new).status_code == 200


def test_unknown_tokens_are_always_looked_up_in_the_ledger(
    org: Org, replicas: list[Replica], monkeypatch: pytest.MonkeyPatch
) -> None:
    replica = Replica(org)
    replicas.append(replica)
    token = feeds.issue_token(replica.ledger, ANA, START)
    assert replica.get(token).status_code == 200
    lookups: list[str] = []
    real = Ledger.feed_token_email

    def counting(self: Ledger, digest: str) -> tuple[str, str] | None:
        lookups.append(digest)
        return real(self, digest)

    monkeypatch.setattr(Ledger, "feed_token_email", counting)
    near = token[:-1] + ("A" if token[-1] != "A" else "B")
    for candidate in (near, "Z" * len(token), "short"):
        answer = replica.get(candidate)
        assert answer.status_code == 404 and answer.content == b""
    assert len(lookups) == 3  # each one, even a malformed one, costs one lookup
    assert replica.get(token).status_code == 200
    assert len(lookups) == 3  # a known token is held in memory


def test_a_change_of_the_org_file_rebuilds_the_feed(
    org: Org, replicas: list[Replica], builds: list[str]
) -> None:
    replica = Replica(org)
    replicas.append(replica)
    token = feeds.issue_token(replica.ledger, ANA, START)
    first = replica.get(token)
    people = dict(org.people)
    people[ANA] = replace(people[ANA], name="Ana Renamed")
    replica.state.org = replace(org, people=people)
    renamed = replica.get(token, first.headers["etag"])
    assert renamed.status_code == 200
    assert b"Ana Renamed" in renamed.content
    # An org file read again but unchanged costs no build.
    replica.state.org = replace(replica.state.org)
    assert replica.get(token, renamed.headers["etag"]).status_code == 304
    assert builds == [ANA, ANA]


def test_a_week_saved_unchanged_changes_no_feed(org: Org) -> None:
    ledger = Ledger(org.database_url)
    try:
        before = ledger.feeds_changed_since(-1)
        weeks = ledger.occurrences()[f"{MARCO}/{ANA}"]
        ledger.save_occurrences(weeks.values(), START + timedelta(hours=1))
        assert ledger.feeds_changed_since(-1) == before
        first = next(iter(weeks.values()))
        ledger.save_occurrences([replace(first, reason="moved by hand")], START)
        after = ledger.feeds_changed_since(before[feedcache.GENERATION])
        assert set(after) == {MARCO, ANA, feedcache.GENERATION}
        assert after[MARCO] == after[ANA] == after[feedcache.GENERATION]
    finally:
        ledger.close()
