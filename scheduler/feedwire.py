"""Held feeds answered below ASGI: uvicorn's httptools protocol with a shortcut (issue 17).

A feed held current in memory (``feeds.FeedCache.cached``) costs nothing to find, yet an
answer through ASGI still costs a scope, a request cycle, an event, a task and two ``send``
messages whose headers are checked one by one: a fixed-answer ASGI app on uvicorn reaches
only a third of a static file server's rate here. ``FeedProtocol`` is uvicorn's own
``HttpToolsProtocol`` (the same parser, keep-alive timer, flow control and graceful
shutdown) that, for a plain ``GET`` or ``HEAD /feeds/<token>.ics`` whose feed is held and
current, writes the answer ``App.held_feed`` prepared straight to the transport, byte for
byte what the ASGI path writes: the status line, uvicorn's default headers (``date``), the
feed's header lines, and the body unless it is a ``HEAD`` or a ``304``. A client polling
a feed sends the same bytes every time: a chunk that was exactly one such request, answered
here, is remembered (``_PARSED``), and the same bytes arriving between two requests skip the
parser (llhttp keeps nothing from one message to the next, so they would parse the same);
whether the feed is held and current, and its answer, are decided anew for each.

Every other request goes the normal way, unchanged: any method, path or HTTP version but
those; a query string, a percent-escape or an absolute URL; ``Expect``, ``Content-Length``,
``Transfer-Encoding``, ``Upgrade``, two ``If-None-Match``; a connection that is not kept alive
(``Connection: close``); a request pipelined behind one still being answered (answers go
out in order); a client not reading what it was sent (uvicorn's flow control paused
writing); an access log or a concurrency limit configured; a feed not held, an unknown token.
Those reach ``App``, which still answers a held feed on the event loop (``_cached_feed``).

Hand-written because no library does it: uvicorn has no hook below ASGI, and a second HTTP
server would have to redo the parser, keep-alive and shutdown that uvicorn has. It depends
on ``HttpToolsProtocol``'s internals (its parser callbacks and the attributes ``url``,
``headers``, ``cycle``, ``pipeline``, ``flow``, ``parser``, ``server_state``,
``timeout_keep_alive_task``): pyproject.toml pins uvicorn to the versions tested;
``protocol_for`` falls back to uvicorn's own protocol when a method it overrides is missing,
and the shortcut turns itself off for good (logged once) when a request finds anything else
gone: every request then goes through ASGI, as without it.

I/O: writes to the connection's transport, on the event loop; reads nothing.

Exports: FeedProtocol, header_lines, protocol_for.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from scheduler.feeds import token_hash

log = logging.getLogger(__name__)

__all__ = ["FeedProtocol", "header_lines", "protocol_for"]

if TYPE_CHECKING:
    from scheduler.server import App

try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
except ImportError:  # httptools missing: uvicorn's h11 protocol serves everything
    HttpToolsProtocol = None  # type: ignore[assignment,misc]
    STATUS_LINE = {}

#: Exactly ``/feeds/<token>.ics`` with a token as ``feeds`` issues them: no query, no
#: percent-escape (the ASGI path decodes those; this one never has to).
_FEED_TARGET = re.compile(rb"/feeds/([A-Za-z0-9_-]{16,128})\.ics")
#: Request headers that make a request unusual for a feed: a body, an upgrade, a continue.
_UNUSUAL = frozenset({b"content-length", b"transfer-encoding", b"expect", b"upgrade"})
#: Requests answered by the shortcut, by their exact bytes (a whole chunk that was one
#: plain feed request): their key for ``FeedProtocol._answer_for``. A client polling a feed
#: sends the same bytes each time, and parsing them again (httptools' callbacks, the header
#: checks) was most of a ``304``'s time. Bounded: at most ``_PARSED_LIMIT`` requests of at
#: most ``_PARSED_LONGEST`` bytes (about 4 MB), emptied when full.
_PARSED: dict[bytes, tuple[str, bytes, bool]] = {}
_PARSED_LIMIT = 8192
_PARSED_LONGEST = 512
#: The methods of ``HttpToolsProtocol`` this module overrides or calls.
_NEEDED = (
    "on_headers_complete",
    "on_body",
    "on_message_complete",
    "data_received",
    "timeout_keep_alive_handler",
)


if HttpToolsProtocol is not None:

    class FeedProtocol(HttpToolsProtocol):
        """``HttpToolsProtocol`` answering held feeds itself (see the module). ``feed_app`` is
        set on the subclass ``protocol_for`` makes for each ``App``."""

        feed_app: App

        # Per request: the answer to write once the request is complete, or None.
        _fast: tuple[bytes, bytes] | None = None
        # Per data chunk: whether an answer went out here (the idle timer to arm).
        _answered = False
        # The idle timer after shortcut answers, and when data last came (loop time).
        _idle_timer: asyncio.TimerHandle | None = None
        _last_data = 0.0
        # Set on the class when the shortcut failed once (an attribute of uvicorn's gone).
        _disabled = False
        # Whether the server's settings leave answers to the shortcut (``connection_made``).
        _plain = False
        # Whether the parser is between messages (none begun and not completed), how many
        # messages it began, and the key (``_request``) of the last one answered here.
        _between = True
        _begun = 0
        _last_key: tuple[str, bytes, bool] | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            # What the server's settings say for every request: an access log to write, a
            # concurrency limit to apply or a root path to prefix is uvicorn's to do.
            self._plain = (
                not self.root_path and not self.access_log and self.limit_concurrency is None
            )

        def on_message_begin(self) -> None:
            # uvicorn's makes the request's ASGI scope here; it is made only for a request
            # that goes through ASGI (``_to_asgi``), a dict and a copy fewer per answer.
            self._between = False
            self._begun += 1
            self.url = b""
            self.expect_100_continue = False
            self.headers = []

        def _to_asgi(self) -> None:
            """The scope uvicorn's ``on_message_begin`` makes, with what was parsed since,
            then uvicorn's own ``on_headers_complete``."""
            url, headers, expect = self.url, self.headers, self.expect_100_continue
            super().on_message_begin()
            self.url, self.headers, self.expect_100_continue = url, headers, expect
            self.scope["headers"] = headers
            super().on_headers_complete()

        def on_headers_complete(self) -> None:
            answer = None
            if not self._disabled:
                try:
                    answer = self._held_answer()
                except Exception:  # never worse than without the shortcut
                    log.exception("the feed shortcut failed; every request goes through ASGI")
                    type(self)._disabled = True
            if answer is None:
                self._to_asgi()
            else:
                self._fast = answer

        def on_body(self, body: bytes) -> None:
            if self._fast is None:
                super().on_body(body)

        def on_message_complete(self) -> None:
            self._between = True
            answer = self._fast
            if answer is None:
                super().on_message_complete()
                return
            self._fast = None
            self._write(answer)

        def _write(self, answer: tuple[bytes, bytes]) -> None:
            head, body = answer
            if body:
                # One writev: two writes are two sends, two segments (uvicorn's own path).
                self.transport.writelines((head, body))
            else:
                self.transport.write(head)
            self.server_state.total_requests += 1  # as uvicorn's on_response_complete
            self._answered = True

        def data_received(self, data: bytes) -> None:
            self._last_data = self.loop.time()
            between = self._between
            if between and not self._disabled:
                key = _PARSED.get(data)
                if key is not None and self._may_answer():
                    try:
                        answer = self._answer_for(*key)
                    except Exception:  # never worse than without the shortcut
                        log.exception("the feed shortcut failed; every request goes through ASGI")
                        type(self)._disabled = True
                        answer = None
                    if answer is not None:
                        self._write(answer)
                        self._arm_idle_timer()
                        return
            begun = self._begun
            self._last_key = None
            super().data_received(data)
            if (
                between
                and self._last_key is not None
                and self._begun == begun + 1
                and self._between
                and len(data) <= _PARSED_LONGEST
            ):
                # The whole chunk was one plain feed request, answered here: the same bytes
                # parse the same way (llhttp keeps nothing between messages), so next time
                # they skip the parser.
                if len(_PARSED) >= _PARSED_LIMIT:
                    _PARSED.clear()
                _PARSED[data] = self._last_key
            if self._answered:
                self._arm_idle_timer()

        def _arm_idle_timer(self) -> None:
            self._answered = False
            if self._idle_timer is None:
                self._idle_timer = self.loop.call_later(self.timeout_keep_alive, self._idle_check)

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None

        def _idle_check(self) -> None:
            """Close the connection when nothing came for ``timeout_keep_alive`` seconds
            since a shortcut answer, as uvicorn's keep-alive timer does after an ASGI
            answer. One timer per connection that moves itself on, not one per answer:
            arming and cancelling uvicorn's timer for every answer cost a sixth of it."""
            self._idle_timer = None
            cycle = self.cycle
            if (
                self.transport.is_closing()
                or (cycle is not None and not cycle.response_complete)
                or self.pipeline
                or self.timeout_keep_alive_task is not None
            ):
                return  # an ASGI answer under way or done arms uvicorn's own timer
            idle = self.loop.time() - self._last_data
            if idle >= self.timeout_keep_alive:
                self.timeout_keep_alive_handler()
            else:
                self._idle_timer = self.loop.call_later(
                    self.timeout_keep_alive - idle, self._idle_check
                )

        def _held_answer(self) -> tuple[bytes, bytes] | None:
            """(status line and headers, body) for a plain request of a held feed, else None;
            the key (``_request``) of a request answered is left in ``_last_key``."""
            if not self._may_answer():
                return None
            key = self._request()
            if key is None:
                return None
            answer = self._answer_for(*key)
            if answer is not None:
                self._last_key = key
            return answer

        def _may_answer(self) -> bool:
            """Whether the connection leaves its next answer to the shortcut: the server's
            settings, a client reading what it is sent, no answer under way or queued, and
            no uvicorn keep-alive timer to cancel (its ``data_received`` does that)."""
            cycle = self.cycle
            return (
                self._plain
                and not self.flow.write_paused
                and not self.pipeline
                and (cycle is None or cycle.response_complete)
                and self.timeout_keep_alive_task is None
            )

        def _request(self) -> tuple[str, bytes, bool] | None:
            """(its token's hash, ``If-None-Match`` or empty, whether a ``HEAD``) of the
            request just parsed when it is a plain feed request; None for any other. Depends
            on the request's bytes alone."""
            parser = self.parser
            target = _FEED_TARGET.fullmatch(self.url)
            if target is None:
                return None
            method = parser.get_method()
            if (
                method not in (b"GET", b"HEAD")
                or not parser.should_keep_alive()
                or parser.should_upgrade()
            ):
                return None
            wanted: bytes | None = None
            connection = False
            for name, value in self.headers:
                if name == b"if-none-match":
                    if wanted is not None:
                        return None  # two of them: let the ordinary path decide
                    wanted = value
                elif name == b"connection":
                    connection = True
                elif name in _UNUSUAL:
                    return None
            # Kept alive without a Connection header is HTTP/1.1 (llhttp keeps 1.0 alive only
            # when asked to), so the version (a string made for each call: a tenth of the
            # answer's time) is read only when there is one. uvicorn closes 1.0 connections.
            if connection and parser.get_http_version() != "1.1":
                return None
            return token_hash(target[1].decode("ascii")), wanted or b"", method == b"HEAD"

        def _answer_for(self, digest: str, wanted: bytes, head: bool) -> tuple[bytes, bytes] | None:
            """The answer to a plain request of the feed whose token hashes to ``digest``, or
            None when it is not held."""
            found = self.feed_app.held_feed(digest, wanted)
            if found is None:
                return None
            status, prepared = found
            defaults = self.server_state.default_headers
            made = _STARTS.get(status)
            if made is not None and made[0] is defaults:
                start = made[1]
            else:
                start = _start_of(defaults, status)
            if status == 304:
                return start + prepared.unchanged_head, b""
            return start + prepared.full_head, b"" if head else prepared.feed.body

    def _start_of(defaults: list[tuple[bytes, bytes]], status: int) -> bytes:
        """The status line and uvicorn's default headers (``date``, which uvicorn replaces
        with a new list every second), as ``RequestResponseCycle.send`` writes them; made
        once per list (``_held_answer`` looks in ``_STARTS`` first)."""
        start = STATUS_LINE[status] + header_lines(defaults)
        _STARTS[status] = (defaults, start)
        return start

    #: By status: (the default headers list it was made from, the bytes).
    _STARTS: dict[int, tuple[list[tuple[bytes, bytes]], bytes]] = {}

else:  # pragma: no cover - httptools is a dependency of the package
    FeedProtocol = None  # type: ignore[assignment,misc]


def header_lines(headers: list[tuple[bytes, bytes]]) -> bytes:
    """Headers as uvicorn writes them (``RequestResponseCycle.send``: ``name: value`` lines,
    names lower-case); the blank line that ends the head is the caller's."""
    return b"".join(name.lower() + b": " + value + b"\r\n" for name, value in headers)


def protocol_for(app: App) -> type[Any] | str:
    """The HTTP protocol class for serving ``app``: ``FeedProtocol`` bound to it, or
    ``"auto"`` (uvicorn's choice) when httptools is missing or uvicorn's protocol no longer
    has what ``FeedProtocol`` relies on."""
    if FeedProtocol is None:
        return "auto"
    missing = [name for name in _NEEDED if not callable(getattr(HttpToolsProtocol, name, None))]
    if missing:
        log.warning("uvicorn's protocol lacks %s; held feeds go through ASGI", missing)
        return "auto"
    return type("FeedProtocol", (FeedProtocol,), {"feed_app": app})
