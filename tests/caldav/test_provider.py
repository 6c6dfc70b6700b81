"""The CalDAV provider's own behaviour against Radicale on 127.0.0.1: what a pass costs in
requests, sync tokens the server rejects, the ctag fallback, sign-in and TLS problems as
sentences, a password that never shows, and a scheduling server's delivered copy taken, not
written twice."""

from __future__ import annotations

import itertools
import logging
import os
import ssl
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler import clientedits, ical
from scheduler.domain import Person, pair_key
from scheduler.domain.series import SeriesSpec
from scheduler.domain.settings import CalendarConfig
from scheduler.errors import AuthError, CalendarError, ConflictError
from scheduler.providers.base import WriteJob, write_one
from scheduler.providers.caldav import REQUESTS, CaldavProvider, forget_sessions, provider_for
from scheduler.providers.caldav.quirks import KNOWN, STANDARD, recognise
from tests.caldav.harness import DavPeople
from tests.caldav.servers import DavServer, free_port, start_radicale

pytestmark = pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")

NY = ZoneInfo("America/New_York")
MIA = Person("mia@example.com", "Mia Manager", "America/New_York")
ANA = Person("ana@example.com", "Ana Rep", "America/New_York")
WINDOW = (datetime(2027, 1, 4, tzinfo=NY), datetime(2027, 1, 18, tzinfo=NY))
STAMP = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
VARIABLE = "TEST_CALDAV_PROVIDER_PASSWORD"
_NAMES = itertools.count()


def spec(n: int = 0, **changes: Any) -> SeriesSpec:
    made = SeriesSpec(
        uid=f"oneonone-test-{n}",
        pair_key=pair_key(MIA.email, ANA.email),
        summary="1:1 Mia / Ana",
        description="Weekly 1:1",
        organizer_email=MIA.email,
        organizer_name=MIA.name,
        attendee_email=ANA.email,
        attendee_name=ANA.name,
        dtstart=datetime(2027, 1, 5, 10, 0, tzinfo=NY),
        duration=timedelta(minutes=30),
    )
    return replace(made, **changes)


@pytest.fixture
def calendar(radicale: DavServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(VARIABLE, radicale.accounts["mia"])
    return radicale.make_calendar("mia", f"cal{next(_NAMES)}")


def provider(url: str, user: str = "mia", **config: Any) -> CaldavProvider:
    settings = CalendarConfig(
        "caldav", url=url, username=user, password_env=config.pop("password_env", VARIABLE)
    )
    return provider_for(replace(settings, **config), MIA)


def requests_of(url: str) -> dict[str, int]:
    counted: dict[str, int] = {}
    for (method, where), count in REQUESTS.items():
        if where.rstrip("/") == url.rstrip("/"):
            counted[method] = counted.get(method, 0) + count
    return counted


# --------------------------------------------------------------------------- cost of a pass


def test_an_unchanged_calendar_costs_one_sync_collection_report(calendar: str) -> None:
    cal = provider(calendar)
    write_one(cal, spec(), MIA, dtstamp=STAMP, expect=None)
    cal.read(MIA, *WINDOW)
    REQUESTS.clear()
    again = provider(calendar)  # the next pass makes its provider again: the mirror stays
    read = again.read(MIA, *WINDOW)
    assert spec().uid in read.owned
    assert requests_of(calendar) == {"REPORT": 1}


def test_a_persons_edit_is_fetched_alone(
    calendar: str, radicale: DavServer, tmp_path: Path
) -> None:
    cal = provider(calendar)
    for n in range(3):
        write_one(cal, spec(n), MIA, dtstamp=STAMP, expect=None)
    before = cal.read(MIA, *WINDOW).owned[spec(1).uid].version
    rid = spec(1).dtstart + timedelta(weeks=1)
    people = DavPeople(radicale, "mia", calendar, tmp_path)
    people.edit(spec(1).uid, lambda p: clientedits.move_instance(p, rid, rid + timedelta(hours=3)))
    REQUESTS.clear()
    read = cal.read(MIA, *WINDOW)
    assert read.owned[spec(1).uid].version != before
    assert rid.astimezone(UTC) in read.owned[spec(1).uid].overrides
    # the changes, then the one changed object
    assert requests_of(calendar) == {"REPORT": 2}


def test_a_new_process_goes_on_from_the_mirror_the_last_one_kept(
    calendar: str, tmp_path: Path
) -> None:
    cache = tmp_path / "cache" / "caldav"
    cal = provider(calendar, cache_dir=cache)
    write_one(cal, spec(), MIA, dtstamp=STAMP, expect=None)
    cal.read(MIA, *WINDOW)
    [kept] = cache.glob("*.json")
    assert kept.stat().st_mode & 0o077 == 0  # people's calendars: for the daemon's user only
    forget_sessions()  # a new process
    REQUESTS.clear()
    read = provider(calendar, cache_dir=cache).read(MIA, *WINDOW)
    assert spec().uid in read.owned
    # signing in (a 401 first) and finding the calendar again, then only the changes
    assert requests_of(calendar) == {"OPTIONS": 1, "PROPFIND": 2, "REPORT": 1}
    kept.write_text("{not json")
    forget_sessions()
    REQUESTS.clear()
    read = provider(calendar, cache_dir=cache).read(MIA, *WINDOW)
    assert spec().uid in read.owned
    # a full read: the token, then every object
    assert requests_of(calendar) == {"OPTIONS": 1, "PROPFIND": 3, "REPORT": 1}


def test_the_mirrors_folders_are_the_daemons_users_only_whatever_the_umask(
    calendar: str, tmp_path: Path
) -> None:
    # As everything under the data folder: 0700 folders (they were made 0755 under the usual
    # umask), a new one and one an earlier version left 0755 alike.
    fresh = tmp_path / "new" / "cache" / "caldav"
    left = tmp_path / "old" / "cache" / "caldav"
    left.mkdir(parents=True, mode=0o755)
    os.chmod(left.parent, 0o755)
    os.chmod(left, 0o755)
    old = os.umask(0o022)
    try:
        for n, cache in enumerate((fresh, left)):
            cal = provider(calendar, cache_dir=cache)
            write_one(cal, spec(n), MIA, dtstamp=STAMP, expect=None)
            cal.read(MIA, *WINDOW)
            forget_sessions()
    finally:
        os.umask(old)
    for cache in (fresh, left):
        assert [stat.S_IMODE(f.stat().st_mode) for f in (cache.parent, cache)] == [0o700] * 2
        assert [stat.S_IMODE(f.stat().st_mode) for f in cache.glob("*.json")] == [0o600]


def test_a_sync_token_the_server_rejects_means_a_full_read(calendar: str) -> None:
    cal = provider(calendar)
    write_one(cal, spec(), MIA, dtstamp=STAMP, expect=None)
    cal.read(MIA, *WINDOW)
    cal.calendar.mirror.token = "http://radicale.org/ns/sync/" + "0" * 64
    REQUESTS.clear()
    read = cal.read(MIA, *WINDOW)
    assert spec().uid in read.owned and read.object_count == 1
    assert requests_of(calendar) == {"REPORT": 2, "PROPFIND": 1}
    REQUESTS.clear()
    cal.read(MIA, *WINDOW)
    assert requests_of(calendar) == {"REPORT": 1}


def test_without_sync_collection_the_ctag_then_the_etags_are_compared(
    calendar: str, radicale: DavServer, tmp_path: Path
) -> None:
    cal = provider(calendar)
    cal.calendar.connect()
    cal.calendar.supports_sync = False  # as on a server that lacks RFC 6578
    write_one(cal, spec(), MIA, dtstamp=STAMP, expect=None)
    cal.read(MIA, *WINDOW)
    REQUESTS.clear()
    cal.read(MIA, *WINDOW)
    assert requests_of(calendar) == {"PROPFIND": 1}
    people = DavPeople(radicale, "mia", calendar, tmp_path)
    rid = spec().dtstart + timedelta(weeks=1)
    people.edit(spec().uid, lambda p: clientedits.move_instance(p, rid, rid + timedelta(hours=2)))
    REQUESTS.clear()
    read = cal.read(MIA, *WINDOW)
    assert rid.astimezone(UTC) in read.owned[spec().uid].overrides
    assert requests_of(calendar) == {"PROPFIND": 2, "REPORT": 1}


def test_a_server_without_etags_on_put_or_if_none_match_still_never_overwrites(
    calendar: str, radicale: DavServer, tmp_path: Path
) -> None:
    # The quirks table's two write quirks, on Radicale: no ETag answering a PUT (Nextcloud,
    # Baïkal, iCloud: the version is learnt on the next read) and If-None-Match: * not honoured
    # (SOGo: the provider looks before it creates).
    cal = provider(calendar)
    cal.calendar.connect()
    assert cal.calendar.quirks is not None
    cal.calendar.quirks = replace(
        cal.calendar.quirks, etag_on_put=False, honours_if_none_match=False
    )
    assert write_one(cal, spec(), MIA, dtstamp=STAMP, expect=None).version is None
    version = cal.read(MIA, *WINDOW).owned[spec().uid].version
    assert version
    moved = spec(dtstart=spec().dtstart + timedelta(hours=1), sequence=1)
    assert write_one(cal, moved, MIA, dtstamp=STAMP, expect=version).changed
    # A person's object with the UID the product is about to create, after the pass read.
    theirs = tmp_path / "theirs.ics"
    theirs.write_bytes(ical.render(spec(1, summary="Mine"), STAMP))
    people = DavPeople(radicale, "mia", calendar, tmp_path)
    people.put_file(theirs, name=f"{spec(1).uid}.ics")
    REQUESTS.clear()
    with pytest.raises(ConflictError):
        write_one(cal, spec(1), MIA, dtstamp=STAMP, expect=None)
    assert "PUT" not in requests_of(calendar)
    assert b"SUMMARY:Mine" in people.listing()[f"{spec(1).uid}.ics"]


# --------------------------------------------------------------------------- scheduling servers


def test_a_copy_a_scheduling_server_delivered_is_taken_not_written_again(
    radicale: DavServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, radicale.accounts["ana"])
    url = radicale.make_calendar("ana", f"cal{next(_NAMES)}")
    cal = provider(url, "ana")
    cal.calendar.connect()
    cal.calendar.auto_schedule = True  # as Nextcloud, iCloud or Fastmail
    # The server delivered the organizer's object into Ana's calendar under a name of its own.
    delivered = ical.render(spec(), STAMP)
    with radicale.session("ana") as session:
        answer = session.put(url + "server-chosen-name.ics", data=delivered)
        assert answer.status_code in (201, 204)
    REQUESTS.clear()
    [outcome] = cal.write_many([WriteJob(spec(), ANA, STAMP, None)])
    assert not isinstance(outcome, CalendarError), outcome
    assert not outcome.changed and outcome.version
    assert "PUT" not in requests_of(url)
    assert sorted(DavPeople(radicale, "ana", url, Path()).listing()) == ["server-chosen-name.ics"]


def test_a_delivered_copy_the_attendee_declined_is_theirs_not_taken(
    radicale: DavServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(VARIABLE, radicale.accounts["ana"])
    url = radicale.make_calendar("ana", f"cal{next(_NAMES)}")
    cal = provider(url, "ana")
    cal.calendar.connect()
    cal.calendar.auto_schedule = True
    path = tmp_path / "delivered.ics"
    path.write_bytes(ical.render(spec(), STAMP))
    clientedits.decline_instance(path, spec().dtstart + timedelta(weeks=1), ANA.email)
    DavPeople(radicale, "ana", url, tmp_path).put_file(path)
    [outcome] = cal.write_many([WriteJob(spec(), ANA, STAMP, None)])
    assert isinstance(outcome, ConflictError), outcome


def test_an_update_the_scheduling_server_delivered_first_is_no_conflict(
    radicale: DavServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, radicale.accounts["ana"])
    url = radicale.make_calendar("ana", f"cal{next(_NAMES)}")
    cal = provider(url, "ana")
    cal.calendar.connect()
    cal.calendar.auto_schedule = True
    write_one(cal, spec(), ANA, dtstamp=STAMP, expect=None)
    version = cal.read(ANA, *WINDOW).owned[spec().uid].version
    moved = spec(dtstart=spec().dtstart + timedelta(hours=1), sequence=1)
    # The organizer's write of the moved series reached Ana's copy through the server first.
    with radicale.session("ana") as session:
        answer = session.put(url + "oneonone-test-0.ics", data=ical.render(moved, STAMP))
        assert answer.status_code in (201, 204)
    [outcome] = cal.write_many([WriteJob(moved, ANA, STAMP, version)])
    assert not isinstance(outcome, CalendarError), outcome
    assert not outcome.changed and outcome.version and outcome.version != version


# --------------------------------------------------------------------------- problems


def test_a_wrong_password_is_a_sentence_naming_the_person_and_the_variable(
    calendar: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(VARIABLE, "not-the-password-xyzzy")
    caplog.set_level(logging.DEBUG)
    cal = provider(calendar)
    [problem] = cal.check(MIA)
    assert MIA.email in problem and VARIABLE in problem and "Traceback" not in problem
    with pytest.raises(AuthError) as refused:
        cal.read(MIA, *WINDOW)
    assert VARIABLE in str(refused.value)
    assert "xyzzy" not in problem + str(refused.value) + caplog.text


def test_the_password_never_appears_in_the_logs(
    calendar: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cal = provider(calendar)
    write_one(cal, spec(), MIA, dtstamp=STAMP, expect=None)
    cal.read(MIA, *WINDOW)
    assert "mia-secret-1" not in caplog.text
    import base64

    assert base64.b64encode(b"mia:mia-secret-1").decode() not in caplog.text


def test_an_unset_password_variable_is_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_CALDAV_UNSET", raising=False)
    with pytest.raises(CalendarError) as unset:
        provider("http://127.0.0.1:1/mia/cal/", password_env="TEST_CALDAV_UNSET")
    assert "TEST_CALDAV_UNSET" in str(unset.value) and MIA.email in str(unset.value)


def test_a_server_that_is_not_there_is_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, "whatever")
    cal = provider(f"http://127.0.0.1:{free_port()}/mia/cal/")
    [problem] = cal.check(MIA)
    assert MIA.email in problem and "cannot reach" in problem
    assert "\n" not in problem


def test_an_address_that_is_no_calendar_is_a_sentence(
    radicale: DavServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, radicale.accounts["mia"])
    cal = provider(radicale.url + "/nobody-here/nothing/")
    [problem] = cal.check(MIA)
    assert MIA.email in problem and "calendar" in problem


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def radicale_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DavServer, Path]]:
    import trustme

    root = tmp_path_factory.mktemp("radicale-tls")
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    issued.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    issued.private_key_pem.write_to_path(str(root / "key.pem"))
    authority.cert_pem.write_to_path(str(root / "ca.pem"))
    server = start_radicale(
        root, {"mia": "mia-secret-1"}, tls=(root / "cert.pem", root / "key.pem")
    )
    server.ca_file = root / "ca.pem"
    try:
        yield server, root / "ca.pem"
    finally:
        server.stop()


def test_tls_is_verified_and_ca_file_trusts_a_private_authority(
    radicale_tls: tuple[DavServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, ca_file = radicale_tls
    assert server.url.startswith("https://")
    monkeypatch.setenv(VARIABLE, "mia-secret-1")
    url = server.make_calendar("mia", f"cal{next(_NAMES)}")
    [problem] = provider(url).check(MIA)
    assert "ca_file" in problem and MIA.email in problem
    trusted = provider(url, ca_file=ca_file)
    assert trusted.check(MIA) == []
    write_one(trusted, spec(), MIA, dtstamp=STAMP, expect=None)
    assert spec().uid in trusted.read(MIA, *WINDOW).owned
    assert ssl.OPENSSL_VERSION  # the check above ran over TLS


# --------------------------------------------------------------------------- quirks


def test_servers_are_recognised_by_address_or_answers() -> None:
    assert recognise("https://cloud.example/remote.php/dav") is KNOWN["nextcloud"]
    assert recognise("https://caldav.icloud.com/123/calendars/home/") is KNOWN["icloud"]
    assert (
        recognise(
            "http://h/",
            "WSGIServer/0.2 CPython/3.11",
            "1, 2, 3, calendar-access, addressbook, extended-mkcol",
        )
        is KNOWN["radicale"]
    )
    assert (
        recognise(
            "http://h/", "Python/3.11 aiohttp/3.9", "1, calendar-access, calendar-auto-schedule"
        )
        is KNOWN["xandikos"]
    )
    unknown = recognise("https://dav.example/cal/", "Apache", "1, 2, calendar-auto-schedule")
    assert unknown.delivers_attendee_copies is True
    assert recognise("https://dav.example/cal/", "Apache", "1, 2, calendar-access") is STANDARD


def test_the_servers_address_finds_the_accounts_first_calendar(
    radicale: DavServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(VARIABLE, radicale.accounts["ana"])
    url = radicale.make_calendar("ana", f"cal{next(_NAMES)}")
    cal = provider(radicale.url + "/", "ana")
    assert cal.check(MIA) == []
    found = cal.calendar.connect()
    assert "/ana/" in found and found.rstrip("/").rsplit("/", 1)[-1].startswith("cal"), found
    assert url  # made before the provider looked
