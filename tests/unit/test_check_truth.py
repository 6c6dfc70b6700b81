"""``oneonone check`` says what ``sync`` would then trip over: it reads every calendar the way
a pass does (a corrupt .ics is named, its bytes never printed raw), asks the SMTP server for
an answer, and refuses a wildcard bind without ``public_url`` (links to ``0.0.0.0``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.notify.servers import free_port
from tests.system.helpers import REPO, oneonone

NOW = "2027-01-05T08:00:00-05:00"


def org(tmp_path: Path) -> Path:
    config = tmp_path / "org" / "oneonone.toml"
    config.parent.mkdir(parents=True)
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", config)
    return config


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))


def test_the_example_checks_ok(tmp_path: Path) -> None:
    done = oneonone(org(tmp_path), "check", now=NOW)
    assert done.returncode == 0, done.stderr


def test_a_wildcard_bind_without_public_url_is_a_problem_naming_the_fix(tmp_path: Path) -> None:
    config = org(tmp_path)
    edit(config, 'bind = "127.0.0.1:8321"', 'bind = "0.0.0.0:8321"')
    done = oneonone(config, "check", now=NOW)
    assert done.returncode == 1
    assert "0.0.0.0:8321" in done.stderr and "public_url" in done.stderr
    edit(config, 'public_url = ""', 'public_url = "https://oneonone.acme.example"')
    assert oneonone(config, "check", now=NOW).returncode == 0


def test_a_corrupt_calendar_file_is_named_and_its_bytes_never_printed(tmp_path: Path) -> None:
    config = org(tmp_path)
    folder = config.parent / "data" / "calendars" / "ana"
    folder.mkdir(parents=True)
    (folder / "broken.ics").write_bytes(
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:\x1b[2J\x07\xff\xfe\r\nEND:VCALENDAR\r\n"
    )
    done = oneonone(config, "check", now=NOW)
    assert done.returncode == 1
    assert str(folder / "broken.ics") in done.stderr
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr


def test_an_smtp_host_that_does_not_answer_is_a_problem(tmp_path: Path) -> None:
    config = org(tmp_path)
    port = free_port()  # nothing listens there
    edit(config, 'host = ""', 'host = "127.0.0.1"')
    edit(config, "port = 587", f"port = {port}")
    done = oneonone(config, "check", now=NOW)
    assert done.returncode == 1
    assert "[notify.email] host" in done.stderr
