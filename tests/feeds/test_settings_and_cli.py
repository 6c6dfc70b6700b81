"""``[server]`` and ``ics`` calendars in the org file; ``oneonone feeds url|rotate EMAIL``."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.errors import UserError
from scheduler.feeds import find_feed
from scheduler.orgfile import load_org
from scheduler.store.ledger import Ledger
from tests.feeds.conftest import ANA, copy_example
from tests.system.helpers import REPO, oneonone


def with_server(tmp_path: Path, server: str) -> Path:
    config = copy_example(tmp_path)
    text = config.read_text()
    start = text.index("[server]")
    end = text.index("# The people.")
    config.write_text(text[:start] + server + "\n\n" + text[end:])
    return config


def test_the_example_files_are_the_same_and_document_the_server() -> None:
    packaged = (REPO / "scheduler" / "examples" / "oneonone.toml").read_bytes()
    assert (REPO / "config" / "oneonone.toml").read_bytes() == packaged
    assert b"[server]\n" in packaged and b'bind = "127.0.0.1:8321"' in packaged


def test_server_defaults(tmp_path: Path) -> None:
    org = load_org(with_server(tmp_path, ""))
    assert (org.server.host, org.server.port) == ("127.0.0.1", 8321)
    assert org.server.public_url == "http://127.0.0.1:8321"


def test_the_deployment_may_override_where_the_server_listens(tmp_path: Path) -> None:
    config = copy_example(tmp_path)
    org = load_org(config, env={"ONEONONE_SERVER__BIND": "0.0.0.0:8321"})
    assert (org.server.host, org.server.port) == ("0.0.0.0", 8321)
    with pytest.raises(UserError) as raised:
        load_org(config, env={"ONEONONE_SERVER__BIND": "everywhere"})
    # Said of the variable, which is what the deployment must fix, not of the file's key.
    [problem] = raised.value.problems
    assert problem.startswith("ONEONONE_SERVER__BIND: 'everywhere' is not an address to listen on")


def test_server_settings_are_read(tmp_path: Path) -> None:
    org = load_org(
        with_server(
            tmp_path,
            '[server]\nbind = "0.0.0.0:9000"\npublic_url = "https://1on1.acme.example/"',
        )
    )
    assert (org.server.host, org.server.port) == ("0.0.0.0", 9000)
    assert org.server.public_url == "https://1on1.acme.example"
    ipv6 = load_org(with_server(tmp_path, '[server]\nbind = "[::1]:8321"'))
    assert ipv6.server.host == "::1"


@pytest.mark.parametrize(
    ("server", "message"),
    [
        (
            '[server]\nbind = "localhost"',
            "server.bind: 'localhost' is not an address to listen on; use \"HOST:PORT\"",
        ),
        ('[server]\nbind = "127.0.0.1:70000"', "is not an address to listen on"),
        ('[server]\npublic_url = "ftp://x"', "server.public_url: 'ftp://x' is not the address"),
        ("[server]\nport = 80", "server.port: unknown key"),
    ],
)
def test_bad_server_settings_are_plain_sentences(tmp_path: Path, server: str, message: str) -> None:
    with pytest.raises(UserError) as raised:
        load_org(with_server(tmp_path, server))
    assert any(message in problem for problem in raised.value.problems), raised.value.problems


def test_an_ics_calendar_may_be_a_file_path_or_a_web_address(tmp_path: Path) -> None:
    config = copy_example(tmp_path)
    text = config.read_text()
    text = text.replace(
        'calendar = { provider = "vdir", path = "data/calendars/ana" }',
        'calendar = { provider = "ics", url = "published/ana.ics" }',
    ).replace(
        'calendar = { provider = "vdir", path = "data/calendars/sam" }',
        'calendar = { provider = "ics", url = "webcal://outlook.example/owa/calendar.ics" }',
    )
    config.write_text(text)
    org = load_org(config)
    assert org.calendars[ANA].path == tmp_path / "published" / "ana.ics"
    assert org.calendars["sam@acme.example"].url == "webcal://outlook.example/owa/calendar.ics"
    config.write_text(text.replace("webcal://outlook", "gopher://outlook"))
    with pytest.raises(UserError, match="only http, https, webcal and file"):
        load_org(config)


def test_feeds_url_then_rotate(tmp_path: Path) -> None:
    config = copy_example(tmp_path)
    first = oneonone(config, "feeds", "url", "Ana@Acme.example", now="2027-01-04T08:00")
    assert first.returncode == 0, first.stderr
    url = first.stdout.strip()
    assert url.startswith("http://127.0.0.1:8321/feeds/") and url.endswith(".ics")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 22  # at least 128 bits of base64

    again = oneonone(config, "feeds", "url", ANA, now="2027-01-04T08:05")
    assert again.returncode == 1 and again.stdout == ""
    assert "cannot be shown again; run `oneonone feeds rotate ana@acme.example`" in again.stderr

    rotated = oneonone(config, "feeds", "rotate", ANA, now="2027-01-04T08:10")
    assert rotated.returncode == 0
    new_token = rotated.stdout.strip().rsplit("/", 1)[1].removesuffix(".ics")
    assert new_token != token
    assert "no longer works" in rotated.stderr

    ledger = Ledger(load_org(config).database_url)
    try:
        assert find_feed(ledger, token) is None
        assert find_feed(ledger, new_token) == ANA
    finally:
        ledger.close()

    stranger = oneonone(config, "feeds", "url", "nobody@acme.example")
    assert stranger.returncode == 1
    assert "nobody@acme.example is not a person in" in stranger.stderr
    assert oneonone(config, "feeds").returncode == 2


def test_output_piped_into_a_reader_that_leaves_early_ends_quietly(tmp_path: Path) -> None:
    """``oneonone report | head -1``: no traceback, no "Exception ignored" line; and the
    process never sets SIGPIPE to its default (which would let any socket kill it)."""
    import os
    import subprocess
    import sys

    config = copy_example(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEONONE_")}
    command = [sys.executable, "-m", "scheduler", "report", "--config", str(config)]
    assert oneonone(config, "sync", now="2027-01-05T08:00:00-05:00").returncode == 0
    read, write = os.pipe()
    process = subprocess.Popen(
        [*command, "--now", "2027-02-10T08:00:00-05:00"],
        stdout=write,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(write)
    os.read(read, 10)
    os.close(read)  # the reader leaves after its first bytes, as `head` does
    _, err = process.communicate(timeout=120)
    assert err == b"", err.decode()
    assert process.returncode in (0, 1)


def test_main_leaves_sigpipe_as_python_set_it(tmp_path: Path) -> None:
    """A test process (or any program) calling ``main`` keeps SIGPIPE ignored: a pytest
    worker that had it set to SIG_DFL died, silently, on the next socket a peer hung up on."""
    import signal

    from scheduler import cli

    before = signal.getsignal(signal.SIGPIPE)
    cli.main(["check", "--config", str(copy_example(tmp_path))])
    assert signal.getsignal(signal.SIGPIPE) == before == signal.SIG_IGN
