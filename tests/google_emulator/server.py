"""The emulator: one loopback HTTP server for the token endpoint, Calendar v3 and Drive v3, and
the Python control API tests use to set it up and to play the people using Google.

Request handling, in Google's order: find the method (routes come from the packaged discovery
documents), authenticate the bearer token (401), check its scopes against the method's
(``scopes`` in the discovery document; 403 ``insufficientPermissions``), count the call, apply
injected faults and the per-user rate limit, then run the method.  Batch parts go through the
same steps one by one.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google.oauth2.credentials
from googleapiclient.discovery import Resource

from . import batch as batchlib
from . import fields as fieldsel
from .calendar_api import CalendarBackend, User
from .client import build_service, discovery_document
from .drive_api import DriveBackend
from .errors import ApiError, OAuthError, fault, insufficient_scopes, not_found, unauthenticated
from .faults import Faults
from .oauth import FULL_SCOPES, TOKEN_LIFETIME, Grant, OAuthServer
from .wire import Call, Reply

HOST = "127.0.0.1"
CONSOLE_CLIENT = "emulator-console.apps.googleusercontent.com"

#: What a person's sign-in grants when a test does not say (``write_authorized_user_file``,
#: ``issue_authorization_code``): broad and narrow Calendar and Drive scopes, so a client may
#: ask for any of them when it refreshes.
USER_SCOPES = (
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
)


@dataclass(frozen=True)
class Route:
    api: str
    method_id: str
    http_method: str
    pattern: re.Pattern[str]
    literal: int
    scopes: frozenset[str]
    upload: bool


def _routes() -> list[Route]:
    routes: list[Route] = []
    for api in ("calendar", "drive"):
        document = discovery_document(api)
        service_path = document["servicePath"]

        def walk(resources: dict[str, Any]) -> Iterator[dict[str, Any]]:
            for resource in resources.values():
                yield from resource.get("methods", {}).values()
                yield from walk(resource.get("resources", {}))

        for method in walk(document.get("resources", {})):
            path = method.get("flatPath") or method["path"]
            paths = [("/" + service_path + path, False)]
            if method.get("supportsMediaUpload"):
                simple = method["mediaUpload"]["protocols"]["simple"]["path"]
                paths.append((simple, True))
            for full, upload in paths:
                regex = "".join(
                    f"(?P<{part[1:-1].lstrip('+')}>[^/]+)"
                    if part.startswith("{")
                    else re.escape(part)
                    for part in re.split(r"(\{[^}]+\})", full)
                )
                literal = len(re.sub(r"\{[^}]+\}", "", full))
                routes.append(
                    Route(
                        api,
                        method["id"],
                        method["httpMethod"],
                        re.compile("^" + regex + "$"),
                        literal,
                        frozenset(method.get("scopes", [])),
                        upload,
                    )
                )
    return routes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A reply's headers and body are two writes: with Nagle's algorithm on a kept-alive
    # connection the body waits for the client's delayed ACK of the headers, 40 ms a request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        self.server.emulator._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: GoogleEmulator) -> None:
        self.emulator = emulator
        self._open: dict[socket.socket, threading.Thread] = {}
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._work, args=(request, client_address), daemon=True, name="google-emulator"
        )
        with self._open_lock:
            self._open[request] = thread
        thread.start()

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            pass
        finally:
            self.shutdown_request(request)
            with self._open_lock:
                self._open.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    def close_connections(self) -> None:
        with self._open_lock:
            open_ = list(self._open.items())
        for sock, _ in open_:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for _, thread in open_:
            thread.join(timeout=5)


class GoogleEmulator:
    """Google Calendar v3, Drive v3 and the OAuth token endpoint on a free loopback port.

    ``emu = GoogleEmulator(); emu.start()`` (or ``with GoogleEmulator() as emu:``);
    ``emu.stop()`` closes every connection and joins the server's threads.
    """

    def __init__(self, host: str = HOST, port: int = 0) -> None:
        self._address = (host, port)
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.users: dict[str, User] = {}
        self.oauth = OAuthServer("")
        self.calendar = CalendarBackend(self.users)
        self.drive = DriveBackend("", lambda: set(self.users))
        self.faults = Faults()
        #: calls per method id ("calendar.events.list", "oauth.token", ...); "batch" counts
        #: batch envelopes (HTTP requests) and "batch.parts" the calls they held (also counted
        #: by method)
        self.counts: collections.Counter[str] = collections.Counter()
        #: (method id, user, HTTP status) of every call, console calls included
        self.requests_log: list[tuple[str, str, int]] = []
        #: (calls, seconds): more calls by one user within the window answer 403
        #: userRateLimitExceeded
        self.user_rate_limit: tuple[int, float] | None = None
        self._recent: dict[str, collections.deque[float]] = collections.defaultdict(
            collections.deque
        )
        self._routes = _routes()
        self._handlers: dict[str, Callable[[Call], Reply]] = {
            "calendar.events.insert": self.calendar.insert,
            "calendar.events.import": lambda call: self.calendar.insert(call, imported=True),
            "calendar.events.get": self.calendar.get,
            "calendar.events.list": self.calendar.list_events,
            "calendar.events.patch": lambda call: self.calendar.write(call, replace=False),
            "calendar.events.update": lambda call: self.calendar.write(call, replace=True),
            "calendar.events.delete": self.calendar.delete,
            "calendar.events.instances": self.calendar.instances,
            "calendar.freebusy.query": self.calendar.freebusy,
            "drive.files.create": self.drive.create,
            "drive.files.get": self.drive.get,
            "drive.files.list": self.drive.list_files,
            "drive.files.update": self.drive.update,
            "drive.files.delete": self.drive.delete,
            "drive.files.export": self.drive.export,
            "drive.permissions.create": self.drive.create_permission,
            "drive.permissions.list": self.drive.list_permissions,
            "drive.permissions.get": self.drive.get_permission,
            "drive.permissions.delete": self.drive.delete_permission,
        }

    # ------------------------------------------------------------------ life cycle

    def start(self) -> GoogleEmulator:
        if self._server is not None:
            return self
        server = _Server(self._address, self)
        host, port = server.server_address[:2]
        assert isinstance(host, str)
        self.url = f"http://{host}:{port}/"
        self.oauth.token_uri = self.url + "token"
        self.drive.base_url = self.url
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="google-emulator-accept",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> GoogleEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ control API: people

    def add_user(self, email: str, time_zone: str = "Europe/Berlin") -> None:
        """A Workspace user with a primary calendar whose id is the e-mail address."""
        email = email.lower()
        with self._lock:
            user = User(email, time_zone)
            self.users[email] = user
            self.oauth.users.add(email)
            self.calendar.add_calendar(user)

    def write_service_account_key(
        self,
        path: str | os.PathLike[str],
        client_email: str = "oneonone@demo-project.iam.gserviceaccount.com",
    ) -> Path:
        """A service-account JSON key with a fresh RSA key; ``token_uri`` is this emulator."""
        self._require_started()
        with self._lock:
            info = self.oauth.new_service_account_key(client_email)
        return _write_private(Path(path), info)

    def service_account_client_id(
        self, client_email: str = "oneonone@demo-project.iam.gserviceaccount.com"
    ) -> str:
        return self.oauth.service_accounts[client_email].client_id

    def deny_delegation(self, email: str) -> None:
        """Refuse service-account tokens for ``sub=email`` (401 ``unauthorized_client``)."""
        with self._lock:
            self.oauth.denied.add(email.lower())

    def allow_delegation(self, email: str) -> None:
        with self._lock:
            self.oauth.denied.discard(email.lower())

    def oauth_client(self) -> tuple[str, str]:
        """(client_id, client_secret) of the installed-app OAuth client people sign in with."""
        with self._lock:
            client = self.oauth.client()
        return client.client_id, client.client_secret

    def write_oauth_client_file(self, path: str | os.PathLike[str]) -> Path:
        """The OAuth client JSON (type Desktop app) as Google Cloud console downloads it."""
        self._require_started()
        client_id, client_secret = self.oauth_client()
        info = {
            "installed": {
                "client_id": client_id,
                "project_id": "demo-project",
                "auth_uri": self.url + "o/oauth2/auth",
                "token_uri": self.url + "token",
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_secret": client_secret,
                "redirect_uris": ["http://localhost"],
            }
        }
        return _write_private(Path(path), info)

    def write_authorized_user_file(
        self,
        path: str | os.PathLike[str],
        email: str,
        scopes: tuple[str, ...] | list[str] | None = None,
    ) -> Path:
        """An installed-app token file (client_id, client_secret, refresh_token, token_uri)."""
        self._require_started()
        email = email.lower()
        with self._lock:
            client = self.oauth.client()
            grant = Grant(email, frozenset(scopes or USER_SCOPES), client.client_id)
            refresh = self.oauth.issue_refresh_token(grant)
        info: dict[str, Any] = {
            "type": "authorized_user",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "refresh_token": refresh,
            "token_uri": self.url + "token",
            "universe_domain": "googleapis.com",
        }
        if scopes is not None:
            info["scopes"] = list(scopes)
        return _write_private(Path(path), info)

    def issue_authorization_code(
        self, email: str, scopes: tuple[str, ...] | list[str] | None = None
    ) -> str:
        """A one-time code the token endpoint exchanges for tokens (``authorization_code``).

        Without ``scopes`` the answer carries no ``scope`` field (oauthlib then keeps what it
        asked for) and grants :data:`USER_SCOPES`.
        """
        with self._lock:
            grant = Grant(email.lower(), frozenset(scopes or USER_SCOPES), "")
            return self.oauth.issue_code(grant, with_scope=scopes is not None)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on."""
        with self._lock:
            self.oauth.expire_access_tokens()

    def expire_sync_tokens(self, email: str | None = None) -> None:
        """The next incremental sync of that calendar (or every one) answers 410."""
        with self._lock:
            self.calendar.expire_sync_tokens(email.lower() if email else None)

    def service(self, api: str, as_user: str) -> Resource:
        """A googleapiclient service acting as ``as_user`` with full scopes: a person.

        Its calls are not counted, never fail by injection or rate limit, and its token does
        not expire with :meth:`expire_access_tokens`.
        """
        self._require_started()
        email = as_user.lower()
        with self._lock:
            client = self.oauth.client(CONSOLE_CLIENT)
            grant = Grant(email, frozenset(FULL_SCOPES), client.client_id, console=True)
            token = self.oauth.issue_access_token(grant)
            refresh = self.oauth.issue_refresh_token(grant)
        import datetime as _dt

        credentials = google.oauth2.credentials.Credentials(
            token=token,
            refresh_token=refresh,
            token_uri=self.url + "token",
            client_id=client.client_id,
            client_secret=client.client_secret,
            scopes=list(FULL_SCOPES),
            expiry=_dt.datetime.utcnow() + _dt.timedelta(seconds=TOKEN_LIFETIME - 60),
        )
        return build_service(api, self.url, credentials)

    # ------------------------------------------------------------------ control API: state

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()

    def events(self, email: str) -> list[dict[str, Any]]:
        """That calendar's stored events (series, exceptions, deleted ones), with details."""
        with self._lock:
            return self.calendar.stored(email)

    @property
    def sent_updates(self) -> list[dict[str, Any]]:
        """One entry per event write: method, calendar, eventId, sendUpdates, recipients."""
        return self.calendar.sent_updates

    @property
    def freebusy_overflow(self) -> str:
        return self.calendar.freebusy_overflow

    @freebusy_overflow.setter
    def freebusy_overflow(self, value: str) -> None:
        if value not in ("per_calendar", "400"):
            raise ValueError("freebusy_overflow is 'per_calendar' or '400'")
        self.calendar.freebusy_overflow = value

    def drive_files(self) -> list[dict[str, Any]]:
        """Every Drive file as its owner sees it (all fields)."""
        with self._lock:
            return [
                self.drive.render(f, f.owner)
                for f in sorted(self.drive.files.values(), key=lambda f: f.order)
            ]

    def doc_text(self, file_id: str) -> str:
        """A Google Doc's text."""
        with self._lock:
            return self.drive.files[file_id].text

    def edit_doc(self, file_id: str, text: str, editor: str | None = None) -> None:
        """A person replaces a Google Doc's text (as typing in Docs would)."""
        with self._lock:
            self.drive.edit_doc(file_id, text, editor)

    def grant_file_to_app(self, file_id: str, client_id: str) -> None:
        """A person opens ``file_id`` with an app (``drive.file`` access for that client)."""
        with self._lock:
            self.drive.files[file_id].apps.add(client_id)

    @property
    def drive_notifications(self) -> list[dict[str, Any]]:
        """permissions.create calls that had Google e-mail the person shared with."""
        return self.drive.notifications

    # ------------------------------------------------------------------ HTTP

    def _require_started(self) -> None:
        if not self.url:
            raise RuntimeError("start() the emulator first: its URL goes into the files it writes")

    def _handle(self, handler: _Handler) -> None:
        parsed = urlsplit(handler.path)
        query = parse_qs(parsed.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        method = handler.command.upper()
        path = parsed.path
        try:
            if path == "/token" and method == "POST":
                status, out_headers, data = self._token(headers, body)
            elif path == "/o/oauth2/auth" and method == "GET":
                status, out_headers, data = self._authorize(query)
            elif path in ("/batch/calendar/v3", "/batch/drive/v3") and method == "POST":
                status, out_headers, data = self._batch(path.split("/")[2], headers, body)
            elif path.startswith("/upload/") and "upload_id" in query and method == "PUT":
                status, out_headers, data = self._resume(query["upload_id"][0], headers, body)
            else:
                status, out_headers, data = self._call(method, path, query, headers, body)
        except Exception as error:  # a bug here must answer, not hang the client
            message = f"emulator error: {type(error).__name__}: {error}"
            status, out_headers, data = _json(500, {"error": {"code": 500, "message": message}})
        handler.send_response(status)
        for name, value in out_headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if method != "HEAD" and data:
            handler.wfile.write(data)

    def _token(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        with self._lock:
            self.counts["oauth.token"] += 1
            drawn = self.faults.draw(token_endpoint=True)
            if drawn is not None:
                code = 503 if drawn[0] == "503" else 500
                error = "temporarily_unavailable" if code == 503 else "internal_failure"
                self.requests_log.append(("oauth.token", "", code))
                return _json(code, {"error": error, "error_description": "Backend Error"})
            try:
                answer = self.oauth.token(form, headers.get("authorization"))
            except OAuthError as error:
                self.requests_log.append(("oauth.token", "", error.status))
                return _json(error.status, error.body())
        self.requests_log.append(("oauth.token", "", 200))
        status, out, data = _json(200, answer)
        out["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
        return status, out, data

    def _authorize(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        flat = {k: v[0] for k, v in query.items()}
        with self._lock:
            try:
                location = self.oauth.authorize(flat)
            except OAuthError as error:
                return _json(error.status, error.body())
        return 302, {"Location": location, "Content-Type": "text/html"}, b""

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        best: tuple[Route, dict[str, str]] | None = None
        for route in self._routes:
            if route.http_method != method:
                continue
            match = route.pattern.match(path)
            if match and (best is None or route.literal > best[0].literal):
                best = (route, {k: _unquote(v) for k, v in match.groupdict().items()})
        return best

    def _authenticate(
        self, headers: dict[str, str], query: dict[str, list[str]]
    ) -> tuple[Grant | None, bool]:
        value = headers.get("authorization", "")
        token = value[7:].strip() if value.lower().startswith("bearer ") else None
        if token is None and query.get("access_token"):
            token = query["access_token"][0]
        if not token:
            return None, True
        return self.oauth.lookup(token), False

    def _call(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[int, dict[str, str], bytes]:
        found = self._route(method, path)
        if found is None:
            return _error(not_found(f"No such method: {method} {path}"))
        route, params = found
        with self._lock:
            grant, missing = self._authenticate(headers, query)
            console = grant is not None and grant.console
            user = grant.user if grant is not None else ""
            if not console:
                self.counts[route.method_id] += 1
            try:
                if grant is None:
                    raise unauthenticated(missing)
                if not grant.scopes & route.scopes:
                    raise insufficient_scopes()
                drawn = None if console else self.faults.draw(method_id=route.method_id)
                if drawn is not None and not drawn[1]:
                    raise fault(drawn[0])
                if not console:
                    self._check_rate(user)
                handler = self._handlers.get(route.method_id)
                if handler is None:
                    raise ApiError(501, "notImplemented", f"{route.method_id} is not emulated.")
                call = Call(
                    route.method_id, method, user, grant, params, query, headers, body, route.upload
                )
                if route.upload and call.q("uploadType") == "resumable":
                    reply, _ = self.drive.start_resumable(call)
                else:
                    reply = handler(call)
                if drawn is not None:
                    raise fault(drawn[0])  # the call took effect; the answer is lost
            except ApiError as error:
                self.requests_log.append((route.method_id, user, error.code))
                return _error(error)
            self.requests_log.append((route.method_id, user, reply.status))
            return _render(reply, query)

    def _check_rate(self, user: str) -> None:
        if self.user_rate_limit is None:
            return
        limit, window = self.user_rate_limit
        now = time.monotonic()
        recent = self._recent[user]
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) >= limit:
            raise fault("userRateLimitExceeded")
        recent.append(now)

    def _batch(
        self, api: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            parts = batchlib.read(headers.get("content-type", ""), body)
        except (ApiError, ValueError):
            return _error(ApiError(400, "badRequest", "Invalid batch request."))
        outer_auth = headers.get("authorization")
        with self._lock:
            grant, _ = self._authenticate(headers, {})
            console = grant is not None and grant.console
            if not console:
                self.counts["batch"] += 1
                self.counts["batch.parts"] += len(parts)
            self.requests_log.append(("batch", grant.user if grant else "", 200))
        if len(parts) > batchlib.LIMITS[api]:
            return (
                400,
                {"Content-Type": "application/json; charset=UTF-8"},
                batchlib.too_many(api, len(parts)),
            )
        answers = []
        for part in parts:
            target = urlsplit(part.target)
            part_headers = dict(part.headers)
            if "authorization" not in part_headers and outer_auth:
                part_headers["authorization"] = outer_auth
            if not target.path.startswith(f"/{api}/v3/"):
                status, out, data = _error(
                    ApiError(400, "badRequest", "All the inner requests must go to the same API.")
                )
            else:
                status, out, data = self._call(
                    part.method,
                    target.path,
                    parse_qs(target.query, keep_blank_values=True),
                    part_headers,
                    part.body,
                )
            answers.append((part.content_id, status, out, data))
        content_type, data = batchlib.write(answers)
        return 200, {"Content-Type": content_type}, data

    def _resume(
        self, upload_id: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            grant, missing = self._authenticate(headers, {})
            if grant is None:
                return _error(unauthenticated(missing))
            try:
                reply = self.drive.resume(upload_id, headers, body)
            except ApiError as error:
                return _error(error)
            return _render(reply, {})


# --------------------------------------------------------------------------- helpers


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _json(status: int, value: Any) -> tuple[int, dict[str, str], bytes]:
    return (
        status,
        {"Content-Type": "application/json; charset=UTF-8"},
        json.dumps(value, indent=1).encode(),
    )


def _error(error: ApiError) -> tuple[int, dict[str, str], bytes]:
    status, headers, data = _json(error.code, error.body())
    headers.update(error.headers)
    return status, headers, data


def _render(reply: Reply, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
    headers = dict(reply.headers)
    if reply.status in (204, 304) or reply.body is None:
        if reply.content_type:
            headers["Content-Type"] = reply.content_type
        return reply.status, headers, b""
    if isinstance(reply.body, bytes | bytearray):
        headers["Content-Type"] = reply.content_type or "application/octet-stream"
        return reply.status, headers, bytes(reply.body)
    value = reply.body
    if not reply.raw and query.get("fields"):
        value = fieldsel.apply(value, fieldsel.parse(query["fields"][0]))
    if isinstance(reply.body, dict) and isinstance(reply.body.get("etag"), str):
        headers["ETag"] = reply.body["etag"]
    headers["Content-Type"] = "application/json; charset=UTF-8"
    return reply.status, headers, json.dumps(value, indent=1).encode()


def _write_private(path: Path, info: dict[str, Any]) -> Path:
    """JSON to ``path``, readable by its owner only (mode 0600), like a downloaded key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=2)
        handle.write("\n")
    os.chmod(path, 0o600)
    return path
