"""The daemon's HTTP server: ICS feeds, agenda pages, health and metrics.

An ASGI application (``App``) served by uvicorn in a background thread (``start_server``):

- ``GET /feeds/<token>.ics``: a person's feed (``scheduler.feeds``), with a strong ``ETag``;
  ``If-None-Match`` answers ``304``. ``Cache-Control: private``: the address is a secret.
- ``GET /agendas/<token>/<manager>/<rep>/<YYYY-MM-DD>``: the Markdown agenda
  ``<data_dir>/agendas/<manager>/<rep>/<date>.md`` as an HTML page (on a shared ledger, the
  document of that name in the database, so every replica serves every agenda). Raw HTML in
  the file is shown as text, never passed through; ``- [ ]`` / ``- [x]`` items are checkboxes.
- ``GET /healthz``: the last pass's time and result as JSON; ``503`` when no pass has succeeded
  within three poll intervals (a safety stop keeps a pass from succeeding, so it shows here).
- ``GET /metrics``: Prometheus text format (``scheduler.metrics``).

Anything else, an unknown token or a path that leaves the agendas folder gets a bare ``404``
(no body, the same headers every time). ``HEAD`` works wherever ``GET`` does.

I/O: reads the ledger and agenda files; network on the bound socket. Handlers run in worker
threads (``asyncio.to_thread``) so a slow ledger never stalls the event loop; the ledger's
engine is thread-safe and no handler opens a ledger transaction.

Exports: App, ServerState, RunningServer, start_server, health, render_agenda.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from markdown_it import MarkdownIt
from markdown_it.token import Token
from sqlalchemy.exc import SQLAlchemyError

from scheduler import feeds, metrics
from scheduler.errors import UserError
from scheduler.orgfile import Org
from scheduler.store.ledger import Ledger

__all__ = ["App", "RunningServer", "ServerState", "health", "render_agenda", "start_server"]

log = logging.getLogger(__name__)

#: An agenda is a page of notes; anything larger is not one and is not rendered.
MAX_AGENDA_BYTES = 1024 * 1024

#: A pass counts as stale after this many poll intervals without a good one.
STALE_INTERVALS = 3

_FEED_PATH = re.compile(r"^/feeds/([^/]+)\.ics$")
_AGENDA_PATH = re.compile(r"^/agendas/([^/]+)/([^/]+)/([^/]+)/([^/]+)$")


@dataclass
class ServerState:
    """What the handlers read. The daemon replaces ``org`` after reloading the org file, so
    names, titles and the poll interval follow the file without a restart."""

    org: Org
    ledger: Ledger
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    #: this replica's name, role and own last pass (the daemon's ``ReplicaStatus.view``)
    replica: Callable[[], dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


_NOT_FOUND = _Response(404, (("cache-control", "no-store"),))


# --------------------------------------------------------------------------- health


def health(
    org: Org,
    ledger: Ledger,
    now: datetime,
    replica: Callable[[], dict[str, Any]] | None = None,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of ``/healthz``.

    Reads the ledger state the daemon keeps: ``last_pass_at``, ``last_pass_result``,
    ``last_good_pass`` and ``last_pass_safety`` (a JSON list of safety-stop sentences), and
    the last pass begun (``pass_runs``), whichever replica ran it: ``last_pass`` says who ran
    it, when, how it ended and ``failed`` (an error, or never finished because its replica
    died). ``replica`` (from the daemon) adds this replica's name, ``role`` (``holder`` runs
    the passes, ``standby`` waits for the lease) and its own last pass.
    """
    last_at = ledger.get_state("last_pass_at")
    result = ledger.get_state("last_pass_result")
    last_good = ledger.get_state("last_good_pass")
    try:
        safety = json.loads(ledger.get_state("last_pass_safety") or "[]")
    except ValueError:
        safety = []
    limit = timedelta(minutes=STALE_INTERVALS * max(1, org.schedule.poll_minutes))
    body: dict[str, Any] = {
        "status": "ok",
        "last_pass_at": last_at,
        "last_pass_result": result,
        "last_good_pass": last_good,
        "safety_stops": safety if isinstance(safety, list) else [],
        "stale_after_minutes": int(limit.total_seconds() // 60),
    }
    runs = ledger.pass_runs(1)
    if runs:
        run = runs[0]
        body["last_pass"] = {
            "id": run.id,
            "replica": run.replica,
            "lease_token": run.token,
            "at": run.pass_now.isoformat(),
            "started_at": run.started_at.isoformat(),
            "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
            "result": run.result or "running",
            # "abandoned": its replica died mid-pass (the next holder finished it)
            "failed": run.result in ("error", "abandoned"),
            "finishes_pass": run.resumes,
        }
    if replica is not None:
        body["replica"] = replica()
        body["role"] = body["replica"]["role"]
    reason = None
    if last_good is None:
        reason = "no pass has succeeded yet"
    else:
        age = now - datetime.fromisoformat(last_good)
        if age > limit:
            minutes = int(age.total_seconds() // 60)
            reason = (
                f"the last good pass was {minutes} minutes ago, more than {STALE_INTERVALS} "
                f"poll intervals ({int(limit.total_seconds() // 60)} minutes)"
            )
    if reason is not None and result == "safety_stop":
        reason += "; the last pass stopped for safety: " + " ".join(body["safety_stops"])
    elif reason is not None and result and result != "ok":
        reason += f"; the last pass ended with {result}"
    if reason is not None:
        body["status"] = "stale"
        body["reason"] = reason
        return 503, body
    if result == "error":
        body["reason"] = "the last pass failed; the next one tries again"
    if result == "safety_stop":
        body["status"] = "safety_stop"
    elif result == "error":
        body["status"] = "last_pass_failed"
    return 200, body


# --------------------------------------------------------------------------- agendas


def _markdown() -> MarkdownIt:
    # "commonmark" with html=False: raw HTML in an agenda is text, never markup (people and
    # templates write these files; a page must not run what they typed). Tables on.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


_TASK = re.compile(r"^\[([ xX])\]\s")


def _task_items(tokens: list[Token]) -> None:
    """Turn ``- [ ] item`` / ``- [x] item`` list items into disabled checkboxes, in place."""
    for index, token in enumerate(tokens):
        if (
            token.type != "inline"
            or index < 2
            or tokens[index - 1].type != "paragraph_open"
            or tokens[index - 2].type != "list_item_open"
            or not token.children
            or token.children[0].type != "text"
        ):
            continue
        first = token.children[0]
        match = _TASK.match(first.content)
        if match is None:
            continue
        first.content = first.content[match.end() :]
        checked = " checked" if match[1] in "xX" else ""
        box = Token("html_inline", "", 0)
        box.content = f'<input type="checkbox" disabled{checked}> '
        token.children.insert(0, box)
        tokens[index - 2].attrSet("class", "task")


def render_agenda(markdown: MarkdownIt, text: str, title: str) -> bytes:
    """A clean HTML page of the Markdown ``text``; everything the file says is escaped."""
    env: dict[str, Any] = {}
    tokens = markdown.parse(text, env)
    _task_items(tokens)
    content = markdown.renderer.render(tokens, markdown.options, env)
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)}</title>
<style>
body {{ font: 16px/1.55 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
  padding: 0 1rem; color: #1d1d1f; }}
h1, h2, h3 {{ line-height: 1.25; }}
h2 {{ margin-top: 2rem; border-bottom: 1px solid #ddd; }}
li.task {{ list-style: none; margin-left: -1.3rem; }}
input[type=checkbox] {{ margin-right: .45em; }}
code, pre {{ background: #f4f4f5; border-radius: 3px; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: .25em .6em; }}
footer {{ color: #777; font-size: .85em; margin-top: 3rem; }}
</style>
</head>
<body>
<main>
{content}</main>
<footer>Kept by oneonone. Edit the agenda document itself; this page shows it read-only.</footer>
</body>
</html>
"""
    return page.encode("utf-8")


# --------------------------------------------------------------------------- the app


class App:
    """The ASGI application. ``state.org`` may be replaced at any time (see ``ServerState``)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.feeds = feeds.FeedCache()
        self.markdown = _markdown()

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Any],
        send: Callable[[dict[str, Any]], Any],
    ) -> None:
        if scope["type"] != "http":
            return  # no websockets; lifespan is off
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        method = scope["method"]
        try:
            response = await asyncio.to_thread(self.handle, method, scope["path"], headers)
        except Exception:  # one bad request never takes the server down
            log.exception("request %s %s failed", method, scope["path"])
            response = _Response(500, (("cache-control", "no-store"),))
        raw_headers = [(b"content-length", str(len(response.body)).encode())]
        raw_headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        start = {"type": "http.response.start", "status": response.status, "headers": raw_headers}
        await send(start)
        body = b"" if method == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})

    def handle(self, method: str, path: str, headers: dict[str, str]) -> _Response:
        """The response to one request (runs in a worker thread)."""
        route: Callable[[], _Response] | None = None
        if path == "/healthz":
            route = self._health
        elif path == "/metrics":
            route = self._metrics
        elif match := _FEED_PATH.match(path):
            token = match[1]
            route = lambda: self._feed(token, headers)  # noqa: E731
        elif match := _AGENDA_PATH.match(path):
            parts = match.groups()
            route = lambda: self._agenda(*parts)  # noqa: E731
        if route is None:
            return _NOT_FOUND
        if method not in ("GET", "HEAD"):
            return _Response(405, (("allow", "GET, HEAD"), ("cache-control", "no-store")))
        try:
            return route()
        except SQLAlchemyError as error:
            log.error("the ledger cannot be read: %s", error)
            return _Response(503, (("cache-control", "no-store"), ("retry-after", "30")))

    def _health(self) -> _Response:
        status, body = health(
            self.state.org, self.state.ledger, self.state.clock(), self.state.replica
        )
        return _json(status, body)

    def _metrics(self) -> _Response:
        body, content_type = metrics.exposition()
        return _Response(200, (("content-type", content_type), ("cache-control", "no-store")), body)

    def _feed(self, token: str, headers: dict[str, str]) -> _Response:
        email = feeds.find_feed(self.state.ledger, token)
        if email is None:
            metrics.record_feed_request(404)
            return _NOT_FOUND
        org = self.state.org
        feed = self.feeds.get(org, self.state.ledger, email)
        max_age = max(60, org.schedule.poll_minutes * 60)
        common = (
            ("etag", feed.etag),
            # private: the address is a secret, no shared cache may keep it. max-age of one
            # poll interval: nothing changes between passes.
            ("cache-control", f"private, max-age={max_age}"),
            ("referrer-policy", "no-referrer"),
            ("x-robots-tag", "noindex"),
        )
        if _etag_matches(headers.get("if-none-match", ""), feed.etag):
            metrics.record_feed_request(304)
            return _Response(304, common)
        metrics.record_feed_request(200)
        return _Response(
            200,
            (
                ("content-type", "text/calendar; charset=utf-8"),
                ("content-disposition", 'inline; filename="oneonone.ics"'),
                *common,
            ),
            feed.body,
        )

    def _agenda(self, token: str, manager: str, rep: str, day: str) -> _Response:
        org = self.state.org
        path = feeds.agenda_file(org, manager, rep, day)
        allowed = feeds.check_agenda_token(self.state.ledger, token, manager, rep, day)
        if path is None or not allowed:
            return _NOT_FOUND
        data: bytes | None = None
        if self.state.ledger.shared:
            # Several replicas: the document is in the database (``DatabaseAgendaStore``).
            kept = self.state.ledger.agenda_text(f"{manager.lower()}/{rep.lower()}/{day}.md")
            data = None if kept is None else kept.encode("utf-8")
        if data is None:
            try:
                with path.open("rb") as handle:
                    data = handle.read(MAX_AGENDA_BYTES + 1)
            except OSError:
                return _NOT_FOUND
        if len(data) > MAX_AGENDA_BYTES:
            log.warning("agenda %s is larger than %d bytes; not shown", path, MAX_AGENDA_BYTES)
            return _Response(413, (("cache-control", "no-store"),))
        title = f"1:1 agenda: {manager} / {rep}, {day}"
        # "Previous agenda" and other agenda links in the text, on the public_url in force now.
        text = feeds.current_links_in_text(org, data.decode("utf-8", "replace"))
        body = render_agenda(self.markdown, text, title)
        return _Response(
            200,
            (
                ("content-type", "text/html; charset=utf-8"),
                ("cache-control", "private, no-cache"),
                ("referrer-policy", "no-referrer"),
                ("x-content-type-options", "nosniff"),
                ("x-robots-tag", "noindex"),
                # Nothing on the page runs or loads: no scripts, no images, inline style only.
                ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'"),
            ),
            body,
        )


def _etag_matches(header: str, etag: str) -> bool:
    """RFC 9110 13.1.2: weak comparison, a list of tags or ``*``."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(_strip_weak(tag) == etag for tag in _split_tags(header))


def _split_tags(header: str) -> Iterable[str]:
    return (part.strip() for part in header.split(","))


def _strip_weak(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _json(status: int, body: dict[str, Any]) -> _Response:
    data = (json.dumps(body, indent=2) + "\n").encode()
    return _Response(
        status, (("content-type", "application/json"), ("cache-control", "no-store")), data
    )


# --------------------------------------------------------------------------- running it


@dataclass
class RunningServer:
    """A server running in a background thread; ``stop()`` ends it and waits for it."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start_server(app: App, host: str, port: int, *, timeout: float = 10.0) -> RunningServer:
    """Listen on ``host:port`` (port 0: any free port) and serve ``app`` until ``stop()``.

    The socket is bound here, before the thread starts, so a port in use is a ``UserError``
    naming the setting, not a thread dying in the background.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        shown = f"[{host}]" if ":" in host else host
        raise UserError(
            f"cannot listen on {shown}:{port} ({error.strerror or error}); change [server] bind "
            "in the org file or stop what uses that port"
        ) from error
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,  # the daemon's logging stays as the CLI set it up
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="oneonone-http", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout)
            sock.close()
            raise UserError(f"the HTTP server on {host}:{bound_port} did not start")
        time.sleep(0.01)
    return RunningServer(server, thread, host, bound_port)
