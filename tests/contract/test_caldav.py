"""The CalDAV provider through the contract suite, against real servers on 127.0.0.1.

Radicale always (plain htpasswd accounts over HTTP, a calendar per person, each test a fresh
calendar on the module's one server); Xandikos too where it is installed: it behaves
differently (HTTPS with a test CA as ``ca_file``, bcrypt htpasswd, one principal holding
every calendar, RFC 6638 scheduling advertised but no copy delivered, unknown sync tokens
refused with 412 or 500). People's edits are made over HTTP as their clients make them
(``tests.caldav.harness``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from scheduler import clientedits
from scheduler.domain.settings import CalendarConfig
from scheduler.engine.snapshot import make_provider
from scheduler.providers.caldav import forget_sessions
from tests.caldav.harness import DavPeople
from tests.caldav.servers import DavServer, start_radicale, start_xandikos, xandikos_available
from tests.contract import files
from tests.contract.suite import MIA, ContractCalendar, ProviderContract

pytestmark = pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")

PASSWORD_ENV = "ONEONONE_TEST_CALDAV_PASSWORD"
_NAMES = itertools.count()


class CaldavCalendar(ContractCalendar):
    """``person``'s calendar on a CalDAV server, made by the pass's ``make_provider``."""

    def __init__(self, people: DavPeople, password_env: str) -> None:
        self.people = people
        config = CalendarConfig(
            "caldav",
            url=people.url,
            username=people.user,
            password_env=password_env,
            ca_file=people.server.ca_file,
        )
        self.provider = make_provider(config, self.person)

    def new_pass(self) -> None:
        """A new process now and then would also read whole; the mirror must not need it."""

    def add_event(
        self,
        uid: str,
        start: datetime,
        end: datetime,
        *,
        transparent: bool = False,
        cancelled: bool = False,
    ) -> None:
        path = files.write_event(
            self.people.scratch, uid, start, end, transparent=transparent, cancelled=cancelled
        )
        self.people.put_file(path)

    def add_meeting(self, uid: str, start: datetime, end: datetime, *, weekly: bool) -> None:
        path = files.write_meeting(
            self.people.scratch,
            uid,
            start,
            end,
            self.person.email,
            self.other.email,
            weekly=weekly,
        )
        self.people.put_file(path)

    def move_instance(self, uid: str, rid: datetime, new_start: datetime) -> None:
        self.people.edit(uid, lambda path: clientedits.move_instance(path, rid, new_start))

    def delete_object(self, uid: str) -> None:
        self.people.delete(uid)


SERVERS = ["radicale", "xandikos"]


@pytest.fixture(scope="module", params=SERVERS)
def dav_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DavServer]:
    if request.param == "xandikos" and not xandikos_available():
        pytest.skip("Xandikos is not installed")
    start = start_radicale if request.param == "radicale" else start_xandikos
    server = start(tmp_path_factory.mktemp(request.param), {"mia": "mia-secret-1"})
    try:
        yield server
    finally:
        server.stop()


class TestCaldavContract(ProviderContract):
    @pytest.fixture
    def cal(
        self, dav_server: DavServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[ContractCalendar]:
        monkeypatch.setenv(PASSWORD_ENV, dav_server.accounts["mia"])
        forget_sessions()
        url = dav_server.make_calendar("mia", f"contract{next(_NAMES)}")
        try:
            yield CaldavCalendar(
                DavPeople(dav_server, "mia", url, tmp_path / "client"), PASSWORD_ENV
            )
        finally:
            forget_sessions()


@pytest.mark.parametrize(
    "token", ["http://example.invalid/never-issued", "0" * 40, "http://radicale.org/ns/sync/0"]
)
def test_a_sync_token_the_server_never_issued_means_a_full_read(
    dav_server: DavServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    """Each server refuses a token it does not know its own way (Radicale 403, Xandikos 412
    or 500, as python-caldav's hints say): every way is a full read, nothing lost."""
    monkeypatch.setenv(PASSWORD_ENV, dav_server.accounts["mia"])
    forget_sessions()
    url = dav_server.make_calendar("mia", f"token{next(_NAMES)}")
    cal = CaldavCalendar(DavPeople(dav_server, "mia", url, tmp_path / "client"), PASSWORD_ENV)
    cal.add_event(
        "dentist",
        datetime(2027, 1, 6, 13, tzinfo=MIA.zone),
        datetime(2027, 1, 6, 14, tzinfo=MIA.zone),
    )
    assert cal.read().object_count == 1
    calendar = cal.provider.calendar  # type: ignore[attr-defined]
    calendar.mirror.items.clear()  # a mirror the token does not describe
    calendar.mirror.token = token
    read = cal.read()
    assert read.object_count == 1 and read.busy
    assert calendar.mirror.token != token
    forget_sessions()
