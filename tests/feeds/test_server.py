"""The daemon's HTTP server over real HTTP on 127.0.0.1: feeds, agendas, health, metrics.

Every server runs on a free port and is stopped (its thread joined) by the fixture.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from scheduler import feeds, metrics
from scheduler.engine.snapshot import FULL_DAY, FULL_ROUND
from scheduler.orgfile import load_org
from scheduler.server import App, RunningServer, ServerState, start_server
from scheduler.store.ledger import Ledger
from tests.feeds.conftest import ANA, MARCO, History, copy_example


@pytest.fixture
def served(history: History) -> Iterator[tuple[RunningServer, ServerState]]:
    state = ServerState(history.org, history.ledger, lambda: history.now)
    server = start_server(App(state), "127.0.0.1", 0)
    try:
        yield server, state
    finally:
        server.stop()
        assert not server.thread.is_alive()


@pytest.fixture
def client(served: tuple[RunningServer, ServerState]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0].url, timeout=10) as http:
        yield http


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


# --------------------------------------------------------------------------- feeds


def test_a_feed_is_200_then_304_with_its_etag(history: History, client: httpx.Client) -> None:
    token = feeds.issue_token(history.ledger, ANA, history.now)
    first = client.get(f"/feeds/{token}.ics")
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    assert first.headers["cache-control"].startswith("private, max-age=")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.content == feeds.build_feed(history.org, history.ledger, ANA).body

    again = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    listed = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": f'"x", W/{etag}'})
    assert listed.status_code == 304
    stale = client.get(f"/feeds/{token}.ics", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200

    head = client.head(f"/feeds/{token}.ics")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))


def test_unknown_tokens_and_paths_get_the_same_bare_404(
    history: History, client: httpx.Client
) -> None:
    token = feeds.issue_token(history.ledger, ANA, history.now)
    # One character off; a fixed "x" would be the token itself one time in 64.
    near = token[:-1] + ("x" if token[-1] != "x" else "y")
    answers = [
        client.get(f"/feeds/{'A' * len(token)}.ics"),
        client.get(f"/feeds/{near}.ics"),
        client.get("/feeds/short.ics"),
        client.get(f"/feeds/{token}.ics/extra"),
        client.get("/no/such/thing"),
        client.get(f"/dashboards/{'A' * len(token)}"),
        client.get(f"/dashboards/{token}.json"),  # a feed token opens no dashboard
        client.get("/static/../oneonone.css"),
    ]
    for answer in answers:
        assert answer.status_code == 404
        assert answer.content == b""
        assert sorted(k for k in answer.headers if k != "date") == [
            "cache-control",
            "content-length",
        ]
    assert client.post(f"/feeds/{token}.ics").status_code == 405


def test_rotation_invalidates_the_old_address(history: History, client: httpx.Client) -> None:
    old = feeds.issue_token(history.ledger, MARCO, history.now)
    assert client.get(f"/feeds/{old}.ics").status_code == 200
    new = feeds.issue_token(history.ledger, MARCO, history.now + timedelta(minutes=1))
    assert client.get(f"/feeds/{old}.ics").status_code == 404
    assert client.get(f"/feeds/{new}.ics").status_code == 200
    stored = history.ledger.feed_token(MARCO)
    assert stored is not None and stored[0] == feeds.token_hash(new)
    assert new not in json.dumps([str(v) for v in stored])  # only the hash is kept


def test_unknown_tokens_take_as_long_as_each_other(history: History) -> None:
    """A near miss of a real token costs what a random token costs (the lookup is by hash)."""
    token = feeds.issue_token(history.ledger, ANA, history.now)
    near = token[:-1] + ("A" if token[-1] != "A" else "B")
    far = "Z" * len(token)

    def median(candidate: str) -> float:
        times = []
        for _ in range(200):
            began = time.perf_counter()
            assert feeds.find_feed(history.ledger, candidate) is None
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    median(far)  # warm up
    near_time, far_time = median(near), median(far)
    assert abs(near_time - far_time) < max(near_time, far_time) * 0.5 + 0.0002


# --------------------------------------------------------------------------- agendas


def write_agenda(history: History, text: str, day: str = "2027-04-13") -> Path:
    path = history.org.data_dir / "agendas" / MARCO / ANA / f"{day}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_an_agenda_is_a_clean_escaped_page_with_checkboxes(
    history: History, client: httpx.Client
) -> None:
    path = write_agenda(
        history,
        "# 1:1 Marco / Ana\n\n## Action items\n\n- [ ] send the pricing deck\n"
        "- [x] call Acme <script>alert(1)</script>\n\n<b>bold?</b> [link](javascript:alert(1))\n",
    )
    url = feeds.agenda_url(history.org, history.ledger, path)
    assert url.startswith(history.org.server.public_url + "/agendas/")
    page = client.get(path_of(url))
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    text = page.text
    assert '<input type="checkbox" disabled> send the pricing deck' in text
    assert '<input type="checkbox" disabled checked> call Acme' in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "<b>" not in text and "&lt;b&gt;" in text
    assert 'href="javascript' not in text


def test_agenda_addresses_refuse_wrong_tokens_and_escapes(
    history: History, client: httpx.Client, tmp_path: Path
) -> None:
    path = write_agenda(history, "# notes\n")
    url = path_of(feeds.agenda_url(history.org, history.ledger, path))
    _, _, token, manager, rep, day = url.split("/")
    assert client.get(url).status_code == 200
    wrong = "0" * len(token)
    assert client.get(f"/agendas/{wrong}/{manager}/{rep}/{day}").status_code == 404
    # The token of one agenda opens no other.
    assert client.get(f"/agendas/{token}/{manager}/{rep}/2027-04-20").status_code == 404
    for attempt in (
        f"/agendas/{token}/../../{day}",
        f"/agendas/{token}/..%2F..%2F/{rep}/{day}",
        f"/agendas/{token}/%2e%2e/{rep}/{day}",
        f"/agendas/{token}/{manager}/{rep}/..%2F..%2Fstate.db",
        f"/agendas/{token}/{manager}/{rep}/{day}.md",
    ):
        answer = client.get(attempt)
        assert answer.status_code == 404, attempt
        assert answer.content == b""
    # A link planted in the agendas folder that points outside it is not followed.
    outside = tmp_path / "secret.md"
    outside.write_text("# secret\n")
    link = history.org.data_dir / "agendas" / MARCO / ANA / "2027-05-04.md"
    link.symlink_to(outside)
    token_of_link = feeds.agenda_token(history.ledger, MARCO, ANA, "2027-05-04")
    assert client.get(f"/agendas/{token_of_link}/{manager}/{rep}/2027-05-04").status_code == 404
    with pytest.raises(ValueError):
        feeds.agenda_url(history.org, history.ledger, history.org.data_dir / "state.db")


# --------------------------------------------------------------------------- health


def set_pass(history: History, good: datetime | None, result: str, safety: list[str]) -> None:
    ledger = history.ledger
    ledger.set_state("last_pass_at", history.now.isoformat())
    ledger.set_state("last_pass_result", result)
    ledger.set_state("last_pass_safety", json.dumps(safety))
    if good is not None:
        ledger.set_state("last_good_pass", good.isoformat())


def test_healthz_turns_503_when_the_last_good_pass_is_too_old(
    history: History, client: httpx.Client
) -> None:
    poll = history.org.schedule.poll_minutes
    set_pass(history, history.now - timedelta(minutes=poll), "ok", [])
    fresh = client.get("/healthz")
    assert fresh.status_code == 200
    assert fresh.json()["status"] == "ok"
    assert fresh.json()["last_pass_result"] == "ok"

    set_pass(history, history.now - timedelta(minutes=3 * poll + 1), "problems", [])
    stale = client.get("/healthz")
    assert stale.status_code == 503
    assert "the last good pass was 16 minutes ago" in stale.json()["reason"]
    assert "problems" in stale.json()["reason"]


def test_healthz_reports_a_safety_stop(history: History, client: httpx.Client) -> None:
    stop = "marco@acme.example's calendar reads as empty but should hold 3 1:1 series"
    set_pass(history, history.now - timedelta(minutes=1), "safety_stop", [stop])
    body = client.get("/healthz").json()
    assert body["status"] == "safety_stop" and body["safety_stops"] == [stop]
    set_pass(history, history.now - timedelta(hours=1), "safety_stop", [stop])
    stale = client.get("/healthz")
    assert stale.status_code == 503 and stop in stale.json()["reason"]


def test_healthz_is_503_before_any_good_pass(tmp_path: Path) -> None:
    from scheduler.orgfile import load_org
    from scheduler.store.ledger import Ledger

    org = load_org(copy_example(tmp_path))
    ledger = Ledger(org.database_url)
    server = start_server(App(ServerState(org, ledger)), "127.0.0.1", 0)
    try:
        answer = httpx.get(f"{server.url}/healthz", timeout=10)
        assert answer.status_code == 503
        assert answer.json()["reason"] == "no pass has succeeded yet"
    finally:
        server.stop()
        ledger.close()


# --------------------------------------------------------------------------- metrics


def test_metrics_parse_with_the_prometheus_parser(history: History, client: httpx.Client) -> None:
    metrics.record_pass("ok", 0.4, history.now)
    metrics.record_notice("nudge")
    metrics.record_occurrences(history.ledger)
    token = feeds.issue_token(history.ledger, ANA, history.now)
    client.get(f"/feeds/{token}.ics")
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(answer.text)}
    for name in (
        "oneonone_passes",
        "oneonone_pass_seconds",
        "oneonone_provider_requests",
        "oneonone_provider_errors",
        "oneonone_notices_sent",
        "oneonone_occurrences",
        "oneonone_feed_requests",
    ):
        assert name in families, name
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    assert samples[("oneonone_passes_total", (("result", "ok"),))] >= 1
    assert samples[("oneonone_notices_sent_total", (("kind", "nudge"),))] >= 1
    assert samples[("oneonone_occurrences", (("status", "held"),))] > 0
    assert samples[("oneonone_feed_requests_total", (("result", "200"),))] >= 1


# --------------------------------------------------------------------------- the daemon


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def hang_up_on(port: int, path: str, *, times: int) -> None:
    """Ask for ``path`` and hang up at once, ``times`` times: half close (the server's next
    write meets a reset), half reset."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    for count in range(times):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            if count % 2:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.sendall(request)


def served_example(tmp_path: Path) -> tuple[Path, int, dict[str, str]]:
    """The example org file serving on a free port of 127.0.0.1, the port, and this
    process's environment without ``ONEONONE_`` settings."""
    config = copy_example(tmp_path)
    port = free_port()
    config.write_text(
        config.read_text().replace('bind = "127.0.0.1:8321"', f'bind = "127.0.0.1:{port}"')
    )
    return config, port, {k: v for k, v in os.environ.items() if not k.startswith("ONEONONE_")}


def start_daemon(python: list[str], config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``oneonone run`` on ``config``, started by ``python`` (the interpreter and its
    arguments)."""
    return subprocess.Popen(
        [*python, "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def daemon_health(port: int) -> httpx.Response:
    """The daemon's ``/healthz`` once it answers 200: after its first pass."""
    deadline = time.monotonic() + 60
    health = None
    while time.monotonic() < deadline:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if health.status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    assert health is not None and health.status_code == 200, health and health.text
    return health


def test_the_daemon_serves_while_it_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    config, port, env = served_example(tmp_path)
    command = [sys.executable, "-m", "scheduler", "feeds", "url", "vera@acme.example"]
    feed = subprocess.run(
        [*command, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout.split()[-1]
    daemon = start_daemon([sys.executable, "-m", "scheduler"], config, env)
    try:
        health = daemon_health(port)
        assert health.json()["last_pass_result"] == "ok"
        # The only replica on SQLite: it holds the data folder and runs the passes.
        assert health.json()["role"] == "holder"
        replica = health.json()["replica"]["name"]
        assert health.json()["last_pass"]["replica"] == replica
        metrics_text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        # Every series carries the replica's name, so several replicas' series stay apart.
        assert f'oneonone_passes_total{{replica="{replica}",result="ok"}} 1.0' in metrics_text
        assert (
            'oneonone_provider_requests_total{operation="read",provider="vdir",'
            f'replica="{replica}"}}'
        ) in metrics_text
        assert f'oneonone_lease_holder{{replica="{replica}"}} 1.0' in metrics_text
        # Clients that hang up before their answer arrives (a reset, as a load balancer's
        # timeout does): the daemon ignores SIGPIPE and lives on (issue 17 saw exit 141).
        hang_up_on(port, urlsplit(feed).path, times=300)
        # A write to a socket reset under it raises SIGPIPE only when the reset wins a race
        # (a big answer, a busy machine); the signal itself shows the daemon ignores it.
        daemon.send_signal(signal.SIGPIPE)
        time.sleep(0.5)
        assert daemon.poll() is None, daemon.communicate(timeout=10)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        daemon.send_signal(signal.SIGTERM)
        out, err = daemon.communicate(timeout=30)
        assert daemon.returncode == 0, err
        assert "stopped" in out
        # The start-up line names everything a newcomer can open at that address.
        assert (
            f"serving feeds, agenda pages, dashboards, /healthz and /metrics at http://127.0.0.1:{port}"
            in out
        )
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()


def test_the_daemons_passes_read_the_days_full_check_in_slices(tmp_path: Path) -> None:
    """The daemon hands its passes ``FULL_SLICE`` (here 3 of the example's 8 pairs, set
    before the daemon imports it): its first pass reads a slice whole and leaves the day's
    round to the next passes, where a one-shot ``sync`` would finish the day's check."""
    config, port, env = served_example(tmp_path)
    run = (
        "import sys; import scheduler.engine.snapshot as snapshot; snapshot.FULL_SLICE = 3; "
        "from scheduler.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    daemon = start_daemon([sys.executable, "-c", run], config, env)
    try:
        assert daemon_health(port).json()["last_pass_result"] == "ok"
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=30)
        assert daemon.returncode == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    org = load_org(config)
    ledger = Ledger(org.database_url)
    try:
        day, _, last = (ledger.get_state(FULL_ROUND) or "").partition(" ")
        assert last == sorted(pair.key for pair in org.pairs)[2]
        assert ledger.get_state(FULL_DAY) != day  # the day's check is not done yet
    finally:
        ledger.close()


def test_a_port_in_use_is_a_plain_error(history: History) -> None:
    from scheduler.errors import UserError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        state = ServerState(history.org, history.ledger, lambda: datetime.now(UTC))
        with pytest.raises(UserError, match=rf"cannot listen on 127.0.0.1:{port}.*\[server\] bind"):
            start_server(App(state), "127.0.0.1", port)
