"""The Google session's free/busy: one query per 50 people per refresh, and a query that fails
is neither asked again for each of its people within the pass nor kept for the next one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scheduler.domain import Person
from scheduler.errors import CalendarError, TransientError
from scheduler.providers.google.client import GoogleCall
from scheduler.providers.google.provider import GoogleSession

NOW = datetime(2027, 1, 4, 13, 0, tzinfo=UTC)
START, END = NOW - timedelta(days=8), NOW + timedelta(weeks=6)


class _Query:
    def query(self, body: dict[str, Any]) -> dict[str, Any]:
        return body


class _Client:
    """Answers free/busy queries, or fails the first ``failures`` of them."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.queries: list[list[str]] = []

    def resource(self, api: str, name: str) -> _Query:
        return _Query()

    def reset(self) -> None:
        pass

    def execute(self, email: str, call: GoogleCall, *, what: str) -> dict[str, Any]:
        body = call.request
        self.queries.append([item["id"] for item in body["items"]])
        if len(self.queries) <= self.failures:
            raise TransientError(f"Google kept refusing requests for {what}")
        busy = [{"start": "2027-01-05T15:00:00Z", "end": "2027-01-05T16:00:00Z"}]
        return {"calendars": {item["id"]: {"busy": busy} for item in body["items"]}}


def _session(client: _Client, count: int) -> GoogleSession:
    people = {
        f"p{n:03d}@acme.example": Person(f"p{n:03d}@acme.example", f"P {n}", "UTC")
        for n in range(count)
    }
    session = GoogleSession(client, people, ())  # type: ignore[arg-type]
    session.begin(NOW, persist=False, store=None)
    return session


def test_fifty_people_a_query_and_one_refresh_per_half_hour() -> None:
    client = _Client(failures=0)
    session = _session(client, 120)
    for email in session.people:
        assert len(session.busy(email, START, END)) == 1
    assert [len(q) for q in client.queries] == [50, 50, 20]
    session.begin(NOW + timedelta(minutes=5), persist=False, store=None)
    session.busy("p000@acme.example", START, END)
    assert len(client.queries) == 3  # still fresh
    session.begin(NOW + timedelta(minutes=31), persist=False, store=None)
    session.busy("p000@acme.example", START, END)
    assert len(client.queries) == 6


def test_a_failed_query_skips_its_people_once_and_is_asked_again_next_pass() -> None:
    client = _Client(failures=1)
    session = _session(client, 60)
    failed = 0
    for email in session.people:
        try:
            session.busy(email, START, END)
        except CalendarError:
            failed += 1
    assert failed == 50  # the first fifty; the other ten were answered
    assert len(client.queries) == 2  # not asked again for each of them
    session.begin(NOW + timedelta(minutes=5), persist=False, store=None)
    assert len(session.busy("p000@acme.example", START, END)) == 1
    assert len(client.queries) == 4


@pytest.mark.parametrize("count", [1, 50, 51])
def test_every_person_is_asked_about_once(count: int) -> None:
    client = _Client(failures=0)
    session = _session(client, count)
    session.busy("p000@acme.example", START, END)
    asked = [email for query in client.queries for email in query]
    assert sorted(asked) == sorted(session.people)


class _Unreachable:
    """A request whose every try fails to connect."""

    def __init__(self) -> None:
        self.tries = 0

    def execute(self, http: object = None) -> object:
        self.tries += 1
        raise ConnectionRefusedError(111, "Connection refused")


def test_an_unreachable_google_costs_one_round_of_backoff_a_pass() -> None:
    from scheduler.providers.google.client import GoogleClient

    waits: list[float] = []
    client = GoogleClient(lambda email: None, sleep=waits.append)  # type: ignore[arg-type,return-value]
    client.http_for = lambda email: None  # type: ignore[assignment,method-assign,return-value]
    first, second = _Unreachable(), _Unreachable()
    with pytest.raises(TransientError):
        client.execute("a@x", GoogleCall("calendar.events.list", first), what="a's calendar")
    assert first.tries == client.max_attempts and len(waits) == client.max_attempts - 1
    with pytest.raises(TransientError, match="b's calendar"):
        client.execute("b@x", GoogleCall("calendar.events.list", second), what="b's calendar")
    assert second.tries == 0  # failed at once: no second round of waiting
    client.reset()  # the next pass
    with pytest.raises(TransientError):
        client.execute("b@x", GoogleCall("calendar.events.list", second), what="b's calendar")
    assert second.tries == client.max_attempts
