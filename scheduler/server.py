"""The daemon's HTTP server: ICS feeds, agenda pages, health and metrics.

An ASGI application (``App``) served by uvicorn in a background thread (``start_server``):

- ``GET /feeds/<token>.ics``: a person's feed (``scheduler.feeds``), with a strong ``ETag``;
  ``If-None-Match`` answers ``304``. ``Cache-Control: private``: the address is a secret.
- ``GET /``: a short page saying what the service is, with no data; ``/static/``: its one
  stylesheet and icon.
- ``GET /agendas/<token>/<manager>/<rep>/<YYYY-MM-DD>``: the Markdown agenda
  ``<data_dir>/agendas/<manager>/<rep>/<date>.md`` as an editable HTML page (on a shared
  ledger, the document of that name in the database, so every replica serves every agenda).
  Raw HTML in the file is shown as text, never passed through. ``POST`` to the same address
  saves the page's form (tick items, add items, a note, or the whole text) only on the version
  the page showed (a hidden field or ``If-Match``): a save that crosses another is refused
  with ``409`` and a merge view showing both texts; every version is kept in the ledger
  (``scheduler.agenda.documents``). A ``POST`` must come from the page's own origin (the
  ``Origin`` header, else ``Sec-Fetch-Site``) besides knowing the address's token; bodies are
  limited in size. A pair on Google gets a page linking to its Google Doc.
- ``GET /dashboards/<token>`` (``.json``, ``.csv``): a leader's adherence dashboard
  (``scheduler.dashboard``).
- ``GET /healthz``: the last pass's time and result as JSON; ``503`` when no pass has succeeded
  within three poll intervals (a safety stop keeps a pass from succeeding, so it shows here).
- ``GET /metrics``: Prometheus text format (``scheduler.metrics``).

Anything else, an unknown token or a path that leaves the agendas folder gets a bare ``404``
(no body, the same headers every time). ``HEAD`` works wherever ``GET`` does. Every HTML page
carries a strict Content-Security-Policy: no script, nothing loaded but ``/static/``, forms
posted only to the page's own origin, no framing.

I/O: reads the ledger and agenda files; network on the bound socket. Handlers run in worker
threads (``asyncio.to_thread``) so a slow ledger never stalls the event loop; the ledger's
engine is thread-safe and no handler opens a ledger transaction. One exception: a feed held
current in memory (``feeds.FeedCache.cached``, no I/O) is answered on the event loop itself,
its answers made once per feed (``PreparedFeed``): a ``200`` or a ``304`` without a ledger
read or a worker thread (issue 17). A plain ``GET``/``HEAD`` of such a feed does not even
reach this application: uvicorn's httptools protocol, subclassed in ``scheduler.feedwire``,
writes the prepared bytes itself (the same bytes as through ASGI; anything unusual about the
request, and every other request, comes here). uvicorn uses httptools and uvloop
(dependencies of the package) and writes no access log.

Exports: App, PreparedFeed, ServerState, RunningServer, start_server, health.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import uvicorn
from markdown_it import MarkdownIt
from sqlalchemy.exc import SQLAlchemyError

from scheduler import dashboard as dashboards
from scheduler import feeds, feedwire, metrics, pages
from scheduler.agenda import page as agenda_page
from scheduler.agenda.documents import TooLarge, open_document
from scheduler.agenda.editor import version_of
from scheduler.dashboard_io import find_dashboard, load_dashboard, viewer_of
from scheduler.errors import UserError
from scheduler.orgfile import Org
from scheduler.store.ledger import Ledger

__all__ = ["App", "PreparedFeed", "RunningServer", "ServerState", "health", "start_server"]

log = logging.getLogger(__name__)

#: An agenda is a page of notes; anything larger is not one and is not rendered.
MAX_AGENDA_BYTES = 1024 * 1024

#: A pass counts as stale after this many poll intervals without a good one.
STALE_INTERVALS = 3

#: A form post is an agenda's text, its items and a note: a little over two documents.
MAX_BODY_BYTES = 2 * MAX_AGENDA_BYTES + 64 * 1024

_FEED_PATH = re.compile(r"^/feeds/([^/]+)\.ics$")
_AGENDA_PATH = re.compile(r"^/agendas/([^/]+)/([^/]+)/([^/]+)/([^/]+)$")
_DASHBOARD_PATH = re.compile(r"^/dashboards/([A-Za-z0-9_-]+?)(\.json|\.csv)?$")
_STATIC_PATH = re.compile(r"^/static/([a-z0-9.-]+)$")

#: The pages run no script and load nothing but the server's own stylesheet and icon.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_PAGE_HEADERS = (
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", "private, no-cache"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("x-robots-tag", "noindex"),
    ("content-security-policy", PAGE_CSP),
)


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

_RawHeaders = list[tuple[bytes, bytes]]
#: Feeds whose answer headers the fast path keeps ready (far more than any org's people).
_MAX_PREPARED = 100_000


@dataclass(frozen=True, slots=True)
class PreparedFeed:
    """A held feed's answers with their headers made once: as ASGI headers (``full`` for the
    ``200``, ``unchanged`` for the ``304``) and as the bytes uvicorn writes for them
    (``full_head``, ``unchanged_head``: each header line, then the blank line), which the
    protocol (``scheduler.feedwire``) writes itself. Both come from the same lists, so the two
    paths give the same bytes."""

    feed: feeds.Feed
    #: the org file it was made for (``max-age`` is its poll interval)
    org: Org
    etag: bytes
    full: _RawHeaders
    unchanged: _RawHeaders
    full_head: bytes
    unchanged_head: bytes

    @classmethod
    def of(cls, feed: feeds.Feed, org: Org) -> PreparedFeed:
        full = _raw_headers(_feed_response(feed, org, "", record=False))
        unchanged = _raw_headers(_feed_response(feed, org, feed.etag, record=False))
        return cls(
            feed,
            org,
            feed.etag.encode("latin-1"),
            full,
            unchanged,
            feedwire.header_lines(full) + b"\r\n",
            feedwire.header_lines(unchanged) + b"\r\n",
        )


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
    return agenda_page.markdown()


# --------------------------------------------------------------------------- the app


@dataclass(frozen=True, slots=True)
class Request:
    """What a handler sees of a request (headers lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    query: str = ""
    body: bytes = b""


class _TooLarge(Exception):
    pass


async def _read_body(receive: Callable[[], Any], limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class App:
    """The ASGI application. ``state.org`` may be replaced at any time (see ``ServerState``)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.feeds = feeds.FeedCache()
        #: each held feed's answers, headers made once, by e-mail (the fast paths')
        self._prepared: dict[str, PreparedFeed] = {}
        self.markdown = _markdown()

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Any],
        send: Callable[[dict[str, Any]], Any],
    ) -> None:
        if scope["type"] != "http":
            return  # no websockets; lifespan is off
        if scope["method"] in ("GET", "HEAD") and await self._cached_feed(scope, send):
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        method = scope["method"]
        body = b""
        response: _Response | None = None
        if method == "POST":
            declared = headers.get("content-length", "0")
            if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
                response = _Response(413, (("cache-control", "no-store"),))
            else:
                try:
                    body = await _read_body(receive, MAX_BODY_BYTES)
                except _TooLarge:
                    response = _Response(413, (("cache-control", "no-store"),))
        if response is None:
            request = Request(
                method,
                scope["path"],
                headers,
                scope.get("query_string", b"").decode("latin-1"),
                body,
            )
            try:
                response = await asyncio.to_thread(self.respond, request)
            except Exception:  # one bad request never takes the server down
                log.exception("request %s %s failed", method, scope["path"])
                response = _Response(500, (("cache-control", "no-store"),))
        start = {
            "type": "http.response.start",
            "status": response.status,
            "headers": _raw_headers(response),
        }
        await send(start)
        body_out = b"" if method == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body_out})

    async def _cached_feed(
        self, scope: dict[str, Any], send: Callable[[dict[str, Any]], Any]
    ) -> bool:
        """Answer a feed request from memory when its feed is held and known current (no
        ledger read, no worker thread); False when ``respond`` must. Requests the protocol
        (``scheduler.feedwire``) did not answer itself come here: a pipelined one behind a
        slow answer, one with a query string, an HTTP/1.0 one, and so on."""
        match = _FEED_PATH.match(scope["path"])
        if match is None:
            return False
        wanted = b""
        for name, value in scope.get("headers", ()):
            if name.lower() == b"if-none-match":
                wanted = value
                break
        answer = self.held_feed(feeds.token_hash(match[1]), wanted)
        if answer is None:
            return False
        status, prepared = answer
        headers = prepared.full if status == 200 else prepared.unchanged
        await send({"type": "http.response.start", "status": status, "headers": headers})
        body = b"" if status != 200 or scope["method"] == "HEAD" else prepared.feed.body
        await send({"type": "http.response.body", "body": body})
        return True

    def held_feed(self, digest: str, if_none_match: bytes) -> tuple[int, PreparedFeed] | None:
        """The status (``200``, or ``304`` when ``if_none_match`` names the ETag) and the
        prepared answer of the feed whose token hashes to ``digest`` (``feeds.token_hash``),
        when that feed is held and known current (``feeds.FeedCache.cached``); ``None`` when
        ``respond`` must decide. Counted in the metrics. Reads nothing but memory: safe on
        the event loop."""
        org = self.state.org
        feed = self.feeds.cached(org, digest)
        if feed is None:
            return None
        prepared = self._prepared.get(feed.email)
        if prepared is None or prepared.feed is not feed or prepared.org is not org:
            prepared = PreparedFeed.of(feed, org)
            if len(self._prepared) > _MAX_PREPARED:
                self._prepared.clear()  # people who left the org file, feeds long replaced
            self._prepared[feed.email] = prepared
        if if_none_match == prepared.etag or _etag_matches(
            if_none_match.decode("latin-1"), feed.etag
        ):
            status = 304
        else:
            status = 200
        metrics.record_feed_request(status)
        return status, prepared

    def handle(self, method: str, path: str, headers: dict[str, str]) -> _Response:
        """The response to a request without a body (runs in a worker thread)."""
        return self.respond(Request(method, path, headers))

    def respond(self, request: Request) -> _Response:
        """The response to one request (runs in a worker thread)."""
        path, headers = request.path, request.headers
        route: Callable[[], _Response] | None = None
        methods: tuple[str, ...] = ("GET", "HEAD")
        if path == "/":
            route = self._index
        elif path == "/healthz":
            route = self._health
        elif path == "/metrics":
            route = self._metrics
        elif path == "/favicon.ico":
            route = lambda: _Response(204, (("cache-control", "max-age=86400"),))  # noqa: E731
        elif match := _STATIC_PATH.match(path):
            name = match[1]
            route = lambda: self._static(name)  # noqa: E731
        elif match := _FEED_PATH.match(path):
            token = match[1]
            route = lambda: self._feed(token, headers)  # noqa: E731
        elif match := _AGENDA_PATH.match(path):
            parts = match.groups()
            methods = ("GET", "HEAD", "POST")
            route = lambda: self._agenda(request, *parts)  # noqa: E731
        elif match := _DASHBOARD_PATH.match(path):
            token, kind = match[1], match[2] or ""
            route = lambda: self._dashboard(token, kind)  # noqa: E731
        if route is None:
            return _NOT_FOUND
        if request.method not in methods:
            allow = ", ".join(methods)
            return _Response(405, (("allow", allow), ("cache-control", "no-store")))
        try:
            return route()
        except SQLAlchemyError as error:
            log.error("the ledger cannot be read: %s", error)
            return _Response(503, (("cache-control", "no-store"), ("retry-after", "30")))

    def _index(self) -> _Response:
        body = pages.render("index.html.j2", title="oneonone")
        headers = tuple(
            (k, "public, max-age=3600" if k == "cache-control" else v) for k, v in _PAGE_HEADERS
        )
        return _Response(200, headers, body)

    def _static(self, name: str) -> _Response:
        found = pages.static_file(name)
        if found is None:
            return _NOT_FOUND
        data, kind = found
        return _Response(
            200,
            (
                ("content-type", kind),
                ("cache-control", "public, max-age=3600"),
                ("x-content-type-options", "nosniff"),
            ),
            data,
        )

    def _health(self) -> _Response:
        status, body = health(
            self.state.org, self.state.ledger, self.state.clock(), self.state.replica
        )
        return _json(status, body)

    def _metrics(self) -> _Response:
        body, content_type = metrics.exposition()
        return _Response(200, (("content-type", content_type), ("cache-control", "no-store")), body)

    def _feed(self, token: str, headers: dict[str, str]) -> _Response:
        org = self.state.org
        feed = self.feeds.open(org, self.state.ledger, token)
        if feed is None:
            metrics.record_feed_request(404)
            return _NOT_FOUND
        return _feed_response(feed, org, headers.get("if-none-match", ""))

    # ------------------------------------------------------------------ agendas

    def _agenda(self, request: Request, token: str, manager: str, rep: str, day: str) -> _Response:
        org = self.state.org
        ledger = self.state.ledger
        path = feeds.agenda_file(org, manager, rep, day)
        allowed = feeds.check_agenda_token(ledger, token, manager, rep, day)
        if path is None or not allowed:
            return _NOT_FOUND
        document = open_document(org, ledger, manager, rep, day)
        text = document.read()
        title = f"1:1 agenda: {self._name(manager)} / {self._name(rep)}, {day}"
        if text is None:
            found = self._elsewhere(manager, rep, day, title, path)
            if request.method == "POST" and found.status == 200:
                # A Google Doc is edited in Google Docs, not here.
                return _Response(405, (("allow", "GET, HEAD"), ("cache-control", "no-store")))
            return found
        if request.method == "POST":
            return self._save_agenda(request, document, text, title)
        query = parse_qs(request.query)
        kept = self._kept(document)
        wanted = query.get("version", [""])[0]
        if wanted:
            chosen = [v for v in kept if str(v.version) == wanted]
            if not chosen:
                return _NOT_FOUND
            body = agenda_page.render_version(
                title=title,
                kept=chosen[0],
                count=len(kept),
                action=request.path,
                saved_at=f"{chosen[0].saved_at:%a %d %b %Y %H:%M %Z}",
            )
            return _Response(200, _PAGE_HEADERS, body)
        # "Previous agenda" and other agenda links in the text, on the public_url in force now.
        shown = feeds.current_links_in_text(org, text)
        version = version_of(text)
        saved = query.get("saved", [""])[0]
        body = agenda_page.render_editor(
            self.markdown,
            title=title,
            text=shown,
            version=version,
            action=request.path,
            versions=kept,
            saved=int(saved) if saved.isdigit() else None,
        )
        return _Response(200, (*_PAGE_HEADERS, ("etag", f'"{version}"')), body)

    def _kept(self, document: Any) -> list[Any]:
        """The document's kept versions, their times in the organizer's zone."""
        zone = self._zone_of(document.pair_key.partition("/")[0])
        return [replace(v, saved_at=v.saved_at.astimezone(zone)) for v in document.versions()]

    def _zone_of(self, manager: str) -> Any:
        """The organizer's zone (times on an agenda page are in it), else the org's."""
        person = self.state.org.people.get(manager.lower())
        try:
            return person.zone if person is not None else self.state.org.zone
        except (ValueError, KeyError):
            return self.state.org.zone

    def _name(self, email: str) -> str:
        """A person's name from the org file, else their address (one who left it)."""
        person = self.state.org.people.get(email)
        return person.name if person is not None and person.name else email

    def _elsewhere(self, manager: str, rep: str, day: str, title: str, path: Any) -> _Response:
        """No document here: a Google Doc's page links to it; anything else is a 404 (a
        document too large to show is a 413)."""
        try:
            if path.stat().st_size > MAX_AGENDA_BYTES:
                log.warning("agenda %s is larger than %d bytes; not shown", path, MAX_AGENDA_BYTES)
                return _Response(413, (("cache-control", "no-store"),))
        except OSError:
            pass
        pair_key = f"{manager.lower()}/{rep.lower()}"
        doc = self.state.ledger.agenda_docs([pair_key]).get(pair_key, {}).get(day)
        if doc is None or not doc.url or "/agendas/" in doc.url:
            return _NOT_FOUND
        body = pages.render("google_doc.html.j2", title=title, url=doc.url)
        return _Response(200, _PAGE_HEADERS, body)

    def _same_origin(self, headers: dict[str, str]) -> bool:
        """Whether a POST comes from a page of this server (CSRF). A browser says where a
        request comes from in ``Sec-Fetch-Site`` (``same-origin`` only passes) and in
        ``Origin``, which must then be this server's (as the request reached it, or its
        ``public_url``); under a no-referrer policy it sends ``Origin: null``, and then
        ``Sec-Fetch-Site`` alone decides. A client that sends neither is no browser, and so
        no forged cross-site request: the address's token is its credential."""
        site = headers.get("sec-fetch-site")
        if site is not None and site != "same-origin":
            return False
        origin = headers.get("origin")
        if origin is None or origin == "null":
            return site == "same-origin" or (origin is None and site is None)
        parts = urlsplit(origin)
        public = urlsplit(self.state.org.server.public_url)
        if (parts.scheme, parts.netloc) == (public.scheme, public.netloc):
            return True
        return bool(parts.netloc) and parts.netloc == headers.get("host")

    def _save_agenda(self, request: Request, document: Any, text: str, title: str) -> _Response:
        if not self._same_origin(request.headers):
            return _Response(403, (("cache-control", "no-store"),))
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/x-www-form-urlencoded":
            return _Response(415, (("cache-control", "no-store"),))
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        version = version_of(text)
        try:
            submitted = agenda_page.parse_form(form, request.headers.get("if-match", ""))
            if submitted.version != version:
                result = None
            else:
                new_text = agenda_page.apply_edit(text, submitted.edit)
                if new_text == text:
                    return _see_other(request.path)
                now = self.state.clock()
                result = document.save(submitted.version, new_text, now)
        except (agenda_page.FormProblem, TooLarge) as problem:
            body = agenda_page.render_editor(
                self.markdown,
                title=title,
                text=text,
                version=version,
                action=request.path,
                versions=self._kept(document),
                problem=f"Not saved: {problem}.",
            )
            status = 413 if isinstance(problem, TooLarge) else 400
            return _Response(status, _PAGE_HEADERS, body)
        if result is not None and result.saved:
            return _see_other(f"{request.path}?saved={result.version}")
        theirs = text if result is None else result.current
        body = agenda_page.render_conflict(
            title=title,
            theirs=theirs,
            base=document.base_text(submitted.version),
            edit=submitted.edit,
            version=version_of(theirs),
            action=request.path,
        )
        return _Response(409, (*_PAGE_HEADERS, ("etag", f'"{version_of(theirs)}"')), body)

    # ------------------------------------------------------------------ dashboards

    def _dashboard(self, token: str, kind: str) -> _Response:
        ledger = self.state.ledger
        scope = find_dashboard(ledger, token)
        if scope is None:
            return _NOT_FOUND
        org = self.state.org
        report, dash = load_dashboard(org, ledger, scope, self.state.clock())
        private = (
            ("cache-control", "private, no-cache"),
            ("referrer-policy", "no-referrer"),
            ("x-content-type-options", "nosniff"),
            ("x-robots-tag", "noindex"),
        )
        if kind == ".json":
            data = (json.dumps(dashboards.scope_json(report, dash), indent=2) + "\n").encode()
            return _Response(200, (("content-type", "application/json"), *private), data)
        if kind == ".csv":
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerows(dashboards.csv_rows(dash))
            return _Response(
                200,
                (
                    ("content-type", "text/csv; charset=utf-8"),
                    ("content-disposition", 'attachment; filename="oneonone-dashboard.csv"'),
                    *private,
                ),
                out.getvalue().encode("utf-8"),
            )
        viewer = viewer_of(scope)
        if viewer == dashboards.ALL:
            title = f"1:1 adherence: {org.name}"
        else:
            person = org.people.get(viewer)
            title = f"1:1 adherence: {person.name if person and person.name else viewer}'s org"
        legend = [
            (status, dashboards.STATUS_LABELS[status], dashboards.STATUS_MARKS[status])
            for status in dashboards.STATUS_ORDER
        ]
        body = pages.render(
            "dashboard.html.j2",
            title=title,
            dash=dash,
            legend=legend,
            trend=pages.trend_svg(dash.trend),
            base=f"/dashboards/{token}",
        )
        return _Response(200, _PAGE_HEADERS, body)


def _max_age(org: Org) -> int:
    return max(60, org.schedule.poll_minutes * 60)


def _feed_response(
    feed: feeds.Feed, org: Org, if_none_match: str, *, record: bool = True
) -> _Response:
    """A feed's ``200``, or ``304`` when ``if_none_match`` names its ETag (counted in the
    metrics when ``record``)."""
    max_age = _max_age(org)
    common = (
        ("etag", feed.etag),
        # private: the address is a secret, no shared cache may keep it. max-age of one
        # poll interval: nothing changes between passes.
        ("cache-control", f"private, max-age={max_age}"),
        ("referrer-policy", "no-referrer"),
        ("x-robots-tag", "noindex"),
    )
    if _etag_matches(if_none_match, feed.etag):
        if record:
            metrics.record_feed_request(304)
        return _Response(304, common)
    if record:
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


def _raw_headers(response: _Response) -> _RawHeaders:
    raw = [(b"content-length", str(len(response.body)).encode())]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    return raw


def _see_other(location: str) -> _Response:
    return _Response(303, (("location", location), ("cache-control", "no-store")))


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


def start_server(
    app: App,
    host: str,
    port: int,
    *,
    timeout: float = 10.0,
    keep_alive: int = 5,
    shortcut: bool = True,
) -> RunningServer:
    """Listen on ``host:port`` (port 0: any free port) and serve ``app`` until ``stop()``.

    Held feeds are answered by the protocol itself (``scheduler.feedwire``) unless not
    ``shortcut`` (then everything goes through ASGI, as the tests compare). A connection idle
    for ``keep_alive`` seconds is closed.

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
        timeout_keep_alive=keep_alive,
        timeout_graceful_shutdown=5,
        http=feedwire.protocol_for(app) if shortcut and isinstance(app, App) else "auto",
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
