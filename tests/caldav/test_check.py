"""``oneonone check`` with a person on CalDAV: a reachable calendar is fine; a wrong password,
an unset password variable and a missing ``ca_file`` are each one plain sentence on stderr,
exit 1, no traceback, and the password never printed (a server that is not there: in
``test_provider``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.caldav.servers import DavServer, free_port
from tests.system.helpers import REPO, oneonone

ANA_LINE = 'calendar = { provider = "vdir", path = "data/calendars/ana" }'
VARIABLE = "TEST_CHECK_DAV_PASSWORD"


def org_file(folder: Path, calendar: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
    assert ANA_LINE in text
    config = folder / "oneonone.toml"
    config.write_text(text.replace(ANA_LINE, calendar, 1))
    return config


@pytest.fixture
def ana_url(radicale: DavServer) -> str:
    return radicale.make_calendar("ana", f"check-{os.getpid()}-{id(radicale)}-{free_port()}")


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(VARIABLE, "ana-secret-2")
    yield


def caldav(url: str, **extra: str) -> str:
    keys = "".join(f', {key} = "{value}"' for key, value in extra.items())
    return (
        f'calendar = {{ provider = "caldav", url = "{url}", username = "ana", '
        f'password_env = "{VARIABLE}"{keys} }}'
    )


def test_a_reachable_caldav_calendar_passes_check(
    ana_url: str, password: None, tmp_path: Path
) -> None:
    done = oneonone(org_file(tmp_path, caldav(ana_url)), "check")
    assert done.returncode == 0, done.stderr
    assert "every calendar reachable" in done.stdout


def test_a_wrong_password_is_one_sentence(
    ana_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(VARIABLE, "wrong-password-plugh")
    done = oneonone(org_file(tmp_path, caldav(ana_url)), "check")
    assert done.returncode == 1
    assert "ana@acme.example" in done.stderr and VARIABLE in done.stderr
    assert "Traceback" not in done.stderr and "plugh" not in done.stdout + done.stderr


def test_an_unset_password_variable_and_a_missing_ca_file_are_named(
    ana_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    done = oneonone(org_file(tmp_path, caldav(ana_url, ca_file="no-such-ca.pem")), "check")
    assert done.returncode == 1
    assert "calendar.password_env" in done.stderr and VARIABLE in done.stderr
    assert "calendar.ca_file" in done.stderr and "no-such-ca.pem" in done.stderr
    assert "Traceback" not in done.stderr


def test_ca_file_is_read_relative_to_the_org_file(tmp_path: Path) -> None:
    from scheduler.orgfile import load_org

    config = org_file(tmp_path, caldav("https://dav.example/ana/cal/", ca_file="certs/ca.pem"))
    org = load_org(config, env={})
    settings = org.calendars["ana@acme.example"]
    assert settings.provider == "caldav" and settings.ca_file == tmp_path / "certs" / "ca.pem"
    assert settings.password_env == VARIABLE
