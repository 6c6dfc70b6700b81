"""Held feeds answered by the HTTP protocol itself (``scheduler.feedwire``, issue 17), over raw
sockets on 127.0.0.1.

Two servers over one org: ``fast`` as the daemon runs it, ``plain`` with everything through
ASGI (``start_server(shortcut=False)``). Their answers are compared byte for byte (the
``date`` header's value aside), and the fast one's app counts the requests that reached ASGI,
so a test can tell which path answered. Every server is stopped by its fixture.
"""

from __future__ import annotations

import logging
import re
import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler import feeds, feedwire
from scheduler.orgfile import Org
from scheduler.server import App, RunningServer, ServerState, start_server
from scheduler.store.ledger import Ledger
from tests.feeds.conftest import ANA, MARCO, START, closed_after_test
from tests.feeds.test_feed_cache import move_a_week, passed_org


class CountingApp(App):
    """``App`` counting the HTTP requests that reach it through ASGI."""

    calls = 0

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Any],
        send: Callable[[dict[str, Any]], Any],
    ) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await super().__call__(scope, receive, send)


class Served:
    """An app on its own ledger connection, served on a free port of 127.0.0.1."""

    def __init__(self, org: Org, *, shortcut: bool, keep_alive: int = 5) -> None:
        self.ledger = Ledger(org.database_url)
        self.app = CountingApp(ServerState(org, self.ledger, lambda: START))
        # Held feeds stay current unless this process changes the ledger (a pass here), so
        # which path answers does not depend on how fast the machine runs the test.
        self.app.feeds.check_every = 3600
        self.server: RunningServer = start_server(
            self.app, "127.0.0.1", 0, keep_alive=keep_alive, shortcut=shortcut
        )

    def connect(self) -> Raw:
        return Raw(self.server.port)

    def close(self) -> None:
        self.server.stop()
        self.ledger.close()
        assert not self.server.thread.is_alive()


class Raw:
    """One client connection: requests sent as bytes, answers read back as bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buffer += chunk

    def answer(self, *, head: bool = False) -> bytes:
        """The next whole answer (its body unless it answers a ``HEAD``)."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        end = self.buffer.index(b"\r\n\r\n") + 4
        status = int(self.buffer.split(b" ", 2)[1])
        length = re.search(rb"\r\ncontent-length: (\d+)\r\n", self.buffer[:end])
        size = int(length[1]) if length and not head and status not in (204, 304) else 0
        while len(self.buffer) < end + size:
            self._fill()
        whole, self.buffer = self.buffer[: end + size], self.buffer[end + size :]
        return whole

    def ask(self, request: bytes) -> bytes:
        self.sock.sendall(request)
        return self.answer(head=request.startswith(b"HEAD "))

    def closed_within(self, seconds: float) -> bool:
        """Whether the server closes the connection within ``seconds`` (sending nothing)."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(1 << 16)
        except TimeoutError:
            return False
        finally:
            self.sock.settimeout(10)
        assert not chunk and not self.buffer, chunk
        return True

    def close(self) -> None:
        self.sock.close()


def request(method: str, target: str, *headers: str, version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {target} {version}", "Host: 127.0.0.1", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def etag_of(answer: bytes) -> str:
    found = re.search(rb"\r\netag: ([^\r]*)\r\n", answer)
    assert found is not None, answer[:300]
    return found[1].decode()


def dated(answer: bytes) -> bytes:
    """``answer`` with its ``date`` value blanked (the two servers' clocks tick apart)."""
    blanked, count = re.subn(rb"\r\ndate: [^\r]*\r\n", b"\r\ndate: -\r\n", answer, count=1)
    assert count == 1, answer[:300]
    return blanked


@pytest.fixture
def org(tmp_path: Path) -> Org:
    return passed_org(tmp_path)


@pytest.fixture
def servers() -> Iterator[list[Served]]:
    yield from closed_after_test([])


@pytest.fixture
def clients() -> Iterator[list[Raw]]:
    yield from closed_after_test([])


def both(org: Org, servers: list[Served]) -> tuple[Served, Served]:
    fast, plain = Served(org, shortcut=True), Served(org, shortcut=False)
    servers.extend((fast, plain))
    return fast, plain


def both_clients(fast: Served, plain: Served, clients: list[Raw]) -> tuple[Raw, Raw, str]:
    """A client of each server (``both``), and Ana's feed path."""
    token = feeds.issue_token(fast.ledger, ANA, START)
    one, other = fast.connect(), plain.connect()
    clients.extend((one, other))
    return one, other, f"/feeds/{token}.ics"


def shortcut_client(org: Org, servers: list[Served], clients: list[Raw]) -> tuple[Served, Raw, str]:
    """A server with the shortcut, a client connected to it, and Ana's feed path."""
    fast = Served(org, shortcut=True)
    servers.append(fast)
    token = feeds.issue_token(fast.ledger, ANA, START)
    client = fast.connect()
    clients.append(client)
    return fast, client, f"/feeds/{token}.ics"


def test_both_paths_give_the_same_bytes_and_a_pass_shows_at_once(
    org: Org, servers: list[Served], clients: list[Raw]
) -> None:
    fast, plain = both(org, servers)
    one, other, path = both_clients(fast, plain, clients)
    # The first fetch builds the feed (through ASGI); from then on it is held.
    first = one.ask(request("GET", path))
    assert status_of(first) == 200
    assert dated(first) == dated(other.ask(request("GET", path)))
    etag = etag_of(first)
    asked = fast.app.calls

    def same(*answers: tuple[bytes, int]) -> list[bytes]:
        seen = []
        for sent, status in answers:
            mine, theirs = one.ask(sent), other.ask(sent)
            assert status_of(mine) == status, (sent, mine[:200])
            assert dated(mine) == dated(theirs), sent
            seen.append(mine)
        return seen

    full, *_ = same(
        (request("GET", path), 200),
        (request("GET", path, f"If-None-Match: {etag}"), 304),
        (request("GET", path, f'If-None-Match: "x", W/{etag}'), 304),
        (request("GET", path, "If-None-Match: *"), 304),
        (request("GET", path, 'If-None-Match: "something-else"'), 200),
        (request("HEAD", path), 200),
        (request("HEAD", path, f"If-None-Match: {etag}"), 304),
        (request("GET", path, "User-Agent: Calendar/1.0", "Accept: text/calendar"), 200),
    )
    assert fast.app.calls == asked  # all of them answered below ASGI
    assert full.endswith(feeds.build_feed(org, fast.ledger, ANA).body)
    # An unknown token: the same bare 404, through ASGI.
    unknown = "A" * len(path.removeprefix("/feeds/").removesuffix(".ics"))
    same((request("GET", f"/feeds/{unknown}.ics"), 404))
    assert fast.app.calls == asked + 1

    move_a_week(org)  # a pass in this process changes Ana's 1:1s

    after = same((request("GET", path, f"If-None-Match: {etag}"), 200))[0]
    assert etag_of(after) != etag
    assert after.endswith(feeds.build_feed(org, fast.ledger, ANA).body)
    assert fast.app.calls == asked + 2  # the changed feed was read again, once
    same((request("GET", path, f"If-None-Match: {etag_of(after)}"), 304))
    assert fast.app.calls == asked + 2
    assert not one.buffer and not other.buffer  # nothing more than the answers was sent


def test_pipelined_requests_are_answered_in_order(
    org: Org, servers: list[Served], clients: list[Raw]
) -> None:
    fast, plain = both(org, servers)
    token = feeds.issue_token(fast.ledger, ANA, START)
    other_token = feeds.issue_token(fast.ledger, MARCO, START)
    path, other_path = f"/feeds/{token}.ics", f"/feeds/{other_token}.ics"
    warm = fast.connect()
    clients.append(warm)
    etag = etag_of(warm.ask(request("GET", path)))
    assert status_of(warm.ask(request("GET", other_path))) == 200
    burst = [
        request("GET", path),
        request("GET", "/"),  # answered in a worker thread, so after a while
        request("GET", path, f"If-None-Match: {etag}"),
        request("HEAD", path),
        request("GET", f"/feeds/{'B' * len(token)}.ics"),
        request("GET", f"{path}?x=1"),
        request("GET", other_path),
        request("GET", path, f"If-None-Match: {etag}"),
    ]
    answers = {}
    for served in (fast, plain):
        client = served.connect()
        clients.append(client)
        client.sock.sendall(b"".join(burst))
        answers[served] = [client.answer(head=sent.startswith(b"HEAD ")) for sent in burst]
        assert [status_of(a) for a in answers[served]] == [200, 200, 304, 200, 404, 200, 200, 304]
        assert not client.closed_within(0.2)  # still open, nothing more sent
    for mine, theirs in zip(answers[fast], answers[plain], strict=True):
        assert dated(mine) == dated(theirs)
    # And several held-feed requests in one packet, all answered below ASGI, in order.
    asked = fast.app.calls
    client = fast.connect()
    clients.append(client)
    client.sock.sendall(request("GET", other_path) + request("GET", path) * 3)
    got = [client.answer() for _ in range(4)]
    assert [etag_of(a) for a in got[1:]] == [etag] * 3 and etag_of(got[0]) != etag
    assert fast.app.calls == asked


def test_keep_alive_holds_then_idle_connections_close_and_stop_is_prompt(
    org: Org, servers: list[Served], clients: list[Raw]
) -> None:
    fast = Served(org, shortcut=True, keep_alive=1)
    servers.append(fast)
    token = feeds.issue_token(fast.ledger, ANA, START)
    path = f"/feeds/{token}.ics"
    client = fast.connect()
    clients.append(client)
    etag = etag_of(client.ask(request("GET", path)))  # through ASGI: builds the feed
    assert not client.closed_within(0.4)
    asked = fast.app.calls
    for _ in range(3):  # a client polling on one connection, with pauses under the timeout
        assert status_of(client.ask(request("GET", path, f"If-None-Match: {etag}"))) == 304
        assert not client.closed_within(0.6)
    assert fast.app.calls == asked
    # After an answer through ASGI (which arms uvicorn's own timer), polls the protocol
    # remembers (``feedwire._PARSED``) keep the connection open all the same.
    assert status_of(client.ask(request("GET", "/favicon.ico"))) == 204
    for _ in range(3):
        assert status_of(client.ask(request("GET", path, f"If-None-Match: {etag}"))) == 304
        assert not client.closed_within(0.6)
    assert fast.app.calls == asked + 1
    # Idle for longer than the keep-alive timeout after a shortcut answer: closed.
    assert client.closed_within(3)

    # Connection: close and HTTP/1.0 (even asking for keep-alive, which uvicorn does not
    # give it) are answered through ASGI, which closes after them.
    for sent in (
        request("GET", path, "Connection: close"),
        request("GET", path, version="HTTP/1.0"),
        request("GET", path, "Connection: keep-alive", version="HTTP/1.0"),
    ):
        closing = fast.connect()
        clients.append(closing)
        answer = closing.ask(sent)
        assert status_of(answer) == 200 and b"\r\nconnection: close\r\n" in answer
        assert closing.closed_within(2)
    assert fast.app.calls == asked + 4

    # Stopping does not wait out the graceful timeout for a connection idle after a
    # shortcut answer; the client sees the connection closed.
    idle = fast.connect()
    clients.append(idle)
    assert status_of(idle.ask(request("GET", path))) == 200
    began = time.monotonic()
    fast.server.stop()
    assert time.monotonic() - began < 3
    assert not fast.server.thread.is_alive()
    assert idle.closed_within(2)


@pytest.mark.parametrize(
    "unusual",
    [
        pytest.param(lambda p: request("GET", p + "?refresh=1"), id="query"),
        pytest.param(
            lambda p: request("GET", f"/feeds/%{ord(p[7]):02X}{p[8:]}"), id="percent-escape"
        ),
        pytest.param(lambda p: request("GET", "http://127.0.0.1" + p), id="absolute-url"),
        pytest.param(lambda p: request("GET", p, "Content-Length: 0"), id="content-length"),
        pytest.param(
            lambda p: request("GET", p, "Transfer-Encoding: chunked") + b"0\r\n\r\n",
            id="chunked",
        ),
        pytest.param(lambda p: request("GET", p, "Expect: 100-continue"), id="expect"),
        pytest.param(
            lambda p: request("GET", p, 'If-None-Match: "a"', 'If-None-Match: "b"'),
            id="two-if-none-match",
        ),
        pytest.param(lambda p: request("OPTIONS", p), id="other-method"),
    ],
)
def test_unusual_requests_go_through_asgi_unchanged(
    org: Org, servers: list[Served], clients: list[Raw], unusual: Callable[[str], bytes]
) -> None:
    fast, plain = both(org, servers)
    one, other, path = both_clients(fast, plain, clients)
    assert status_of(one.ask(request("GET", path))) == 200
    assert status_of(other.ask(request("GET", path))) == 200
    asked = fast.app.calls
    sent = unusual(path)
    mine, theirs = one.ask(sent), other.ask(sent)
    assert dated(mine) == dated(theirs)
    assert fast.app.calls == asked + 1
    if b"OPTIONS" not in sent and b"If-None-Match" not in sent:
        assert status_of(mine) == 200  # the feed, as the plain request gets it


@pytest.mark.parametrize("failing", ["_held_answer", "_answer_for"])
def test_a_failing_shortcut_falls_back_to_asgi_for_good(
    org: Org,
    servers: list[Served],
    clients: list[Raw],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    fast, client, path = shortcut_client(org, servers, clients)
    first = client.ask(request("GET", path))
    # Answered by the shortcut, so the next same request skips the parser and its checks
    # (``_held_answer``) for ``_answer_for``; a request not seen before goes through both.
    assert dated(client.ask(request("GET", path))) == dated(first)
    assert request("GET", path) in feedwire._PARSED
    sent = request("GET", path) if failing == "_answer_for" else request("GET", path, "A: b")

    def broken(self: Any, *args: Any) -> None:
        raise AttributeError("an attribute of uvicorn's protocol is gone")

    monkeypatch.setattr(feedwire.FeedProtocol, failing, broken)
    asked = fast.app.calls
    with caplog.at_level(logging.ERROR, logger="scheduler.feedwire"):
        for _ in range(3):
            assert dated(client.ask(sent)) == dated(first)
    assert fast.app.calls == asked + 3
    assert len([r for r in caplog.records if r.name == "scheduler.feedwire"]) == 1


class Parsed:
    """The protocol's remembered requests (``feedwire._PARSED``), empty for the test, and
    how many requests ``_request`` read from the parser."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.remembered: dict[bytes, Any] = {}
        self.reads = 0
        monkeypatch.setattr(feedwire, "_PARSED", self.remembered)
        reads = feedwire.FeedProtocol._request

        def counted(protocol: Any) -> Any:
            self.reads += 1
            return reads(protocol)

        monkeypatch.setattr(feedwire.FeedProtocol, "_request", counted)


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Parsed:
    return Parsed(monkeypatch)


def test_a_request_sent_again_skips_the_parser_and_gets_what_is_current(
    org: Org, servers: list[Served], clients: list[Raw], parsed: Parsed
) -> None:
    fast, plain = both(org, servers)
    one, other, path = both_clients(fast, plain, clients)
    etag = etag_of(one.ask(request("GET", path)))  # through ASGI: builds the feed
    other.ask(request("GET", path))
    asked, parsed.reads = fast.app.calls, 0
    polls = [
        (request("GET", path, f"If-None-Match: {etag}"), 304),
        (request("HEAD", path), 200),
        (request("GET", path, "User-Agent: Calendar/1.0"), 200),
    ]
    for sent, status in polls:  # each read by the parser once, then from ``_PARSED``
        for _ in range(3):
            mine = one.ask(sent)
            assert status_of(mine) == status
            assert dated(mine) == dated(other.ask(sent))
        assert sent in parsed.remembered
    assert parsed.reads == len(polls)
    assert fast.app.calls == asked

    move_a_week(org)  # what is remembered is the request, not its answer

    mine = one.ask(polls[0][0])
    assert status_of(mine) == 200 and etag_of(mine) != etag
    assert dated(mine) == dated(other.ask(polls[0][0]))
    assert fast.app.calls == asked + 1  # the changed feed was read again, through ASGI
    assert dated(one.ask(polls[0][0])) == dated(other.ask(polls[0][0]))
    assert fast.app.calls == asked + 1  # and is held again
    assert not one.buffer and not other.buffer


def test_only_a_chunk_that_was_one_whole_plain_request_is_remembered(
    org: Org,
    servers: list[Served],
    clients: list[Raw],
    parsed: Parsed,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast, plain = both(org, servers)
    one, other, path = both_clients(fast, plain, clients)
    etag = etag_of(one.ask(request("GET", path)))
    other.ask(request("GET", path))
    poll = request("GET", path, f"If-None-Match: {etag}")
    assert status_of(one.ask(poll)) == 304 and poll in parsed.remembered

    def both_answer(*chunks: bytes, count: int = 1) -> None:
        """``chunks`` sent apart to both servers; their answers are the same."""
        for client in (one, other):
            for chunk in chunks:
                client.sock.sendall(chunk)
                time.sleep(0.05)  # most likely read apart
        for _ in range(count):
            assert dated(one.answer()) == dated(other.answer())

    # Bytes of a remembered request that continue half a request are what they continue:
    # here a header of a request for the index page, which must not get the feed's 304.
    both_answer(b"GET / HTTP/1.1\r\nX-Note: ", poll)
    # Behind an answer under way (the index page, made slow), it waits its turn.
    index = App._index

    def slow_index(self: App) -> Any:
        time.sleep(0.3)
        return index(self)

    monkeypatch.setattr(App, "_index", slow_index)
    both_answer(request("GET", "/"), poll, count=2)
    # Not remembered: two requests in one chunk, one sent in two parts, one answered
    # through ASGI (unknown token, ``Connection: close`` last), one longer than the limit.
    unknown = request("GET", f"/feeds/{'C' * 43}.ics")
    twice = request("HEAD", path) + request("HEAD", path)
    split = request("GET", path, "Accept: text/calendar")
    long = request("GET", path, "User-Agent: " + "x" * feedwire._PARSED_LONGEST)
    for _ in range(2):
        both_answer(unknown)
        for client in (one, other):
            client.sock.sendall(twice)
        assert dated(one.answer(head=True)) == dated(other.answer(head=True))
        assert dated(one.answer(head=True)) == dated(other.answer(head=True))
        both_answer(split[:30], split[30:])
        both_answer(long)
    assert set(parsed.remembered) == {poll}
    assert not one.buffer and not other.buffer

    # Bounded: emptied when full.
    monkeypatch.setattr(feedwire, "_PARSED_LIMIT", 2)
    for sent in (request("GET", path, "Accept: */*"), request("GET", path, "Accept: text/*")):
        both_answer(sent)
    assert set(parsed.remembered) == {sent}
    closing = fast.connect()
    clients.append(closing)
    answer = closing.ask(request("GET", path, "Connection: close"))
    assert status_of(answer) == 200 and closing.closed_within(2)
    assert set(parsed.remembered) == {sent}


def test_protocol_for_falls_back_when_uvicorn_lacks_what_it_needs(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger(org.database_url)
    try:
        app = App(ServerState(org, ledger))
        bound = feedwire.protocol_for(app)
        assert isinstance(bound, type) and issubclass(bound, feedwire.FeedProtocol)
        assert bound.feed_app is app
        monkeypatch.delattr(feedwire.HttpToolsProtocol, "timeout_keep_alive_handler")
        assert feedwire.protocol_for(app) == "auto"
    finally:
        ledger.close()


def test_clients_hanging_up_mid_answer_hurt_nothing(
    org: Org, servers: list[Served], clients: list[Raw]
) -> None:
    fast, client, path = shortcut_client(org, servers, clients)
    first = client.ask(request("GET", path))
    ask = request("GET", path)
    for count in range(40):
        with socket.create_connection(("127.0.0.1", fast.server.port), timeout=5) as rude:
            # Far more answers than the socket buffers hold, read in part, then a reset.
            rude.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            rude.sendall(ask * 400)
            if count % 2:
                rude.recv(1000)
            rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    state = fast.server.server.server_state
    deadline = time.monotonic() + 10
    while (len(state.connections) > 1 or state.tasks) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(state.connections) == 1 and not state.tasks  # only ``client`` is left
    assert fast.server.thread.is_alive()
    assert dated(client.ask(ask)) == dated(first)
