"""The emulator's HTTPS server: the identity platform's token endpoint and Graph v1.0 calendars.

One ``ThreadingHTTPServer`` on 127.0.0.1 (an ephemeral port) with a certificate from a CA that
``trustme`` makes for the run (msal accepts only https authorities); ``ca_file`` is that CA's
PEM, for the client's ``verify``. Request handling, in Graph's order: authenticate the bearer
token (401 ``InvalidAuthenticationToken``), check the application access policy (403
``ErrorAccessDenied``), count the call, apply injected faults and the per-mailbox limit (429 /
503 with ``Retry-After``), then run the method. ``$batch`` parts go through the same steps one
by one (a throttled part answers 429 inside the batch, as Graph does).

Control API (see :class:`GraphEmulator`)::

    emu = GraphEmulator(); emu.start() ... emu.stop()
    emu.add_user(email, time_zone="America/New_York", working_hours=..., working_days=...,
        hours_zone=...); emu.deny(email)
    emu.authority; emu.graph_url; emu.ca_file; emu.tenant; emu.client_id; emu.client_secret
    emu.faults.set(rate=0.2, seed=1, kinds=("429", "503")); emu.faults.fail_next(n, kind, applied)
    emu.expire_delta_tokens(); emu.mailbox_limit = (n, seconds)
    emu.requests_log; emu.schedules_asked; emu.reset_counts()
    emu.add_certificate(pem)  -> a certificate uploaded to the app registration
    emu.act(email)  -> a Graph client acting as that person (never faulted or counted)
"""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
import ssl
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import jwt
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from .model import GraphError, Item, Mailbox, Store, graph_time, parse_time, windows_name

__all__ = ["Faults", "GraphEmulator", "Person"]

HOST = "127.0.0.1"
#: the extended property the product keeps its UID in (``find`` looks for it)
PRODUCT_UID = "String {00020329-0000-0000-C000-000000000046} Name oneonone_uid"
BATCH_LIMIT = 20  # https://learn.microsoft.com/graph/json-batching: "limited to 20"
TOKEN_LIFETIME = 3599
DEFAULT_PAGE = 10


@dataclass
class Faults:
    """Injected failures: ``rate`` of requests (seeded) answer one of ``kinds`` ("429",
    "503", "500", "504"); ``fail_next`` fails the next n. ``applied``: the request is carried
    out and only its answer is lost (a 503/504 after the write, as a gateway timeout gives)."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "503")
    applied: float = 0.0
    retry_after: int = 1
    _random: random.Random = field(default_factory=random.Random)
    _next: deque[tuple[str, bool]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    injected: int = 0

    def set(
        self,
        *,
        rate: float,
        seed: int = 0,
        kinds: tuple[str, ...] = ("429", "503"),
        applied: float = 0.0,
    ) -> None:
        with self._lock:
            self.rate, self.kinds, self.applied = rate, kinds, applied
            self._random = random.Random(seed)

    def fail_next(self, count: int, kind: str = "503", applied: bool = False) -> None:
        with self._lock:
            self._next.extend([(kind, applied)] * count)

    def clear(self) -> None:
        with self._lock:
            self.rate = 0.0
            self._next.clear()

    def draw(self) -> tuple[str, bool] | None:
        with self._lock:
            if self._next:
                self.injected += 1
                return self._next.popleft()
            if self.rate and self._random.random() < self.rate:
                self.injected += 1
                kind = self._random.choice(self.kinds)
                # A throttled request was refused before it ran; a 5xx may come after it ran.
                return kind, kind != "429" and self._random.random() < self.applied
        return None


@dataclass
class _Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, code: str, message: str, **headers: str) -> _Answer:
    inner = {
        "code": code,
        "message": message,
        "innerError": {"request-id": str(uuid.uuid4()), "date": _now()},
    }
    return _Answer(status, {"error": inner}, dict(headers))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


_EXPAND = re.compile(r"id eq '([^']*)'", re.IGNORECASE)


def _expand(query: dict[str, str]) -> list[str] | None:
    text = query.get("$expand", "")
    if "singlevalueextendedproperties" not in text.lower():
        return None
    ids = [found.lower() for found in _EXPAND.findall(text)]
    return ids or ["*"]


def _prefer(headers: dict[str, str]) -> tuple[str, bool, int | None]:
    """(zone, text body, page size) from ``Prefer`` (outlook.timezone, outlook.body-content-type,
    odata.maxpagesize)."""
    prefer = headers.get("prefer", "")
    zone = re.search(r'outlook\.timezone="([^"]+)"', prefer)
    size = re.search(r"odata\.maxpagesize=(\d+)", prefer)
    return (
        zone.group(1) if zone else "UTC",
        'outlook.body-content-type="text"' in prefer,
        int(size.group(1)) if size else None,
    )


class GraphEmulator:
    """The emulator's state and server (module docstring)."""

    def __init__(self) -> None:
        self.store = Store()
        self.tenant = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
        self.client_secret = secrets.token_urlsafe(24)
        self.faults = Faults()
        self.lock = threading.RLock()
        self.tokens: dict[str, float] = {}
        #: uploaded certificates by their thumbprints (x5t and x5t#S256, base64url)
        self.certificates: dict[str, x509.Certificate] = {}
        self.denied: set[str] = set()
        self.requests_log: list[tuple[str, str, str]] = []
        #: every address getSchedule was asked about (cleared by ``reset_counts``)
        self.schedules_asked: list[str] = []
        self.token_requests = 0
        self.mailbox_limit: tuple[int, float] | None = None
        self._calls: dict[str, deque[float]] = {}
        self._skip: dict[str, tuple[list[dict[str, Any]], str, dict[str, str], int]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="graph-emulator-")
        self._ca = trustme.CA()
        self.ca_file = Path(self._folder.name) / "ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        self.port = 0

    # ------------------------------------------------------------------ life

    def start(self) -> GraphEmulator:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(HOST).configure_cert(context)
        emulator = self

        class Handler(_Handler):
            owner = emulator

        server = ThreadingHTTPServer((HOST, 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._folder.cleanup()

    def __enter__(self) -> GraphEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.base}/{self.tenant}"

    @property
    def graph_url(self) -> str:
        return f"{self.base}/v1.0"

    # ------------------------------------------------------------------ control

    def add_user(
        self,
        email: str,
        *,
        time_zone: str = "UTC",
        working_hours: tuple[clock, clock] = (clock(9), clock(17)),
        working_days: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday"),
        hours_zone: str | None = None,
    ) -> None:
        """A mailbox; ``time_zone`` and ``hours_zone`` (the working hours' own, default the
        mailbox's) are IANA names, answered as Windows ones."""
        with self.lock:
            self.store.mailboxes.setdefault(
                email.lower(),
                Mailbox(email.lower(), time_zone, working_hours, working_days, hours_zone),
            )

    def deny(self, email: str) -> None:
        """An application access policy that leaves ``email`` out of the app's reach."""
        self.denied.add(email.lower())

    def expire_delta_tokens(self) -> None:
        with self.lock:
            for box in self.store.mailboxes.values():
                box.delta_states.clear()
            self._skip.clear()

    def reset_counts(self) -> None:
        with self.lock:
            self.requests_log.clear()
            self.schedules_asked.clear()
            self.token_requests = 0

    def items(self, email: str) -> list[Item]:
        with self.lock:
            return list(self.store.mailbox(email).items.values())

    def act(self, email: str) -> Person:
        return Person(self, email.lower())

    # ------------------------------------------------------------------ the token endpoint

    def _token(self, path: str, form: dict[str, str]) -> _Answer:
        tenant = path.strip("/").split("/")[0]
        if tenant != self.tenant:
            return _Answer(
                400,
                {
                    "error": "invalid_request",
                    "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
                },
            )
        self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            return _Answer(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != self.client_id:
            return _Answer(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": f"AADSTS700016: Application with identifier "
                    f"'{form.get('client_id')}' was not found in the directory.",
                },
            )
        if "client_assertion" in form or "client_assertion_type" in form:
            refused = self._check_assertion(form)
            if refused is not None:
                return _Answer(401, {"error": "invalid_client", "error_description": refused})
        elif form.get("client_secret") != self.client_secret:
            return _Answer(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. "
                    "Ensure the secret being sent in the request is the client secret value, "
                    "not the client secret ID.",
                },
            )
        if "https://graph.microsoft.com/.default" not in form.get("scope", "").split():
            return _Answer(400, {"error": "invalid_scope"})
        token = secrets.token_urlsafe(32)
        self.tokens[token] = time.monotonic() + TOKEN_LIFETIME
        return _Answer(
            200,
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": token,
            },
        )

    def add_certificate(self, pem: bytes) -> None:
        """Upload a certificate (PEM) to the app registration: client assertions signed by
        its key (``x5t``, SHA-1, or ``x5t#S256``) are accepted from then on."""
        certificate = x509.load_pem_x509_certificate(pem)
        with self.lock:
            for algorithm in (hashes.SHA1(), hashes.SHA256()):
                self.certificates[_b64url(certificate.fingerprint(algorithm))] = certificate

    def _check_assertion(self, form: dict[str, str]) -> str | None:
        """Why the client assertion of a token request is refused (AADSTS wording), or None
        (https://learn.microsoft.com/entra/identity-platform/certificate-credentials: a JWT
        signed RS256 or PS256 with the certificate's key, its thumbprint in ``x5t`` or
        ``x5t#S256``; ``aud`` the token endpoint, ``iss`` and ``sub`` the client id)."""
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return "AADSTS50027: Invalid client_assertion_type; expected " + ASSERTION_TYPE
        assertion = form.get("client_assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return "AADSTS50027: JWT token is invalid or malformed."
        algorithm = header.get("alg")
        if algorithm not in ("RS256", "PS256"):
            return (
                f"AADSTS5002738: Invalid JWT token. '{algorithm}' is not a supported "
                "signature algorithm."
            )
        thumbprint = str(header.get("x5t#S256") or header.get("x5t") or "")
        # msal pads its base64url thumbprints ("="); RFC 7515 does not: either is taken.
        certificate = self.certificates.get(thumbprint.rstrip("="))
        if certificate is None:
            return (
                "AADSTS700027: The certificate with identifier used to sign the client "
                f"assertion is not registered on application. [Reason - The key was not "
                f"found., Thumbprint of key used by client: '{thumbprint}']"
            )
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),  # type: ignore[arg-type]
                algorithms=[algorithm],
                audience=f"{self.authority}/oauth2/v2.0/token",
                issuer=self.client_id,
                options={"require": ["exp", "aud", "iss", "sub", "jti"]},
            )
        except jwt.InvalidSignatureError:
            return (
                "AADSTS700027: Client assertion contains an invalid signature. [Reason - The "
                "provided signature value did not match the expected signature value., "
                f"Thumbprint of key used by client: '{thumbprint}']"
            )
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError):
            return "AADSTS700024: Client assertion is not within its valid time range."
        except jwt.PyJWTError as error:
            return f"AADSTS50027: JWT token is invalid or malformed ({error})."
        if claims.get("sub") != self.client_id:
            return "AADSTS700023: Client assertion subject does not match the client id."
        return None

    def expire_access_tokens(self) -> None:
        self.tokens.clear()

    def _openid(self) -> _Answer:
        return _Answer(
            200,
            {
                "token_endpoint": f"{self.authority}/oauth2/v2.0/token",
                "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
                "issuer": f"{self.base}/{self.tenant}/v2.0",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                ],
                "response_types_supported": ["code", "id_token", "token"],
            },
        )

    # ------------------------------------------------------------------ Graph

    def graph(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any,
        *,
        person: str | None = None,
        in_batch: bool = False,
    ) -> _Answer:
        """One Graph request (``url`` relative to /v1.0, with its query)."""
        parts = urlsplit(url)
        path = unquote(parts.path).rstrip("/")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if person is None:
            token = headers.get("authorization", "").removeprefix("Bearer ").strip()
            expiry = self.tokens.get(token)
            if expiry is None or expiry < time.monotonic():
                return _error(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token is empty."
                    if not token
                    else "Lifetime validation failed, the token is expired.",
                )
        match = re.match(r"^/users/([^/]+)(/.*)?$", path)
        if path == "/$batch" and not in_batch and method == "POST":
            return self._batch(headers, body)
        if match is None:
            return _error(400, "BadRequest", f"Resource not found for the segment '{path}'.")
        user = match.group(1).lower()
        rest = match.group(2) or ""
        if person is None:
            if user in self.denied:
                return _error(
                    403,
                    "ErrorAccessDenied",
                    "Access to OData is disabled: [RAOP] : Blocked by tenant configured "
                    "AppOnly AccessPolicy settings.",
                )
            with self.lock:
                self.requests_log.append((user, method, _kind(rest)))
            limited = self._limited(user)
            if limited is not None:
                return limited
            fault = self.faults.draw()
            if fault is not None and not fault[1]:
                return _fault(fault[0], self.faults.retry_after)
        else:
            fault = None
        try:
            with self.lock:
                answer = self._route(method, user, rest, query, headers, body)
        except GraphError as error:
            answer = _error(error.status, error.code, error.message)
        if fault is not None:  # applied: the change was made, its answer is lost
            return _fault(fault[0], self.faults.retry_after)
        return answer

    def _limited(self, user: str) -> _Answer | None:
        if self.mailbox_limit is None:
            return None
        count, seconds = self.mailbox_limit
        now = time.monotonic()
        calls = self._calls.setdefault(user, deque())
        while calls and calls[0] < now - seconds:
            calls.popleft()
        if len(calls) >= count:
            wait = max(1, int(calls[0] + seconds - now) + 1)
            return _error(
                429,
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
                **{"Retry-After": str(wait)},
            )
        calls.append(now)
        return None

    def _batch(self, headers: dict[str, str], body: Any) -> _Answer:
        requests = (body or {}).get("requests")
        if not isinstance(requests, list) or not requests:
            return _error(400, "BadRequest", "Invalid batch payload format.")
        if len(requests) > BATCH_LIMIT:
            return _error(400, "BadRequest", "Number of batch requests exceeds the maximum of 20.")
        with self.lock:
            first = str(requests[0].get("url", ""))
            self.requests_log.append((_user_of(first), "POST", "$batch"))
        responses = []
        for request in requests:
            part_headers = {k.lower(): str(v) for k, v in (request.get("headers") or {}).items()}
            part_headers["authorization"] = headers.get("authorization", "")
            url = str(request.get("url", ""))
            if not url.startswith("/"):
                url = "/" + url
            answer = self.graph(
                str(request.get("method", "GET")).upper(),
                url,
                part_headers,
                request.get("body"),
                in_batch=True,
            )
            entry: dict[str, Any] = {
                "id": request.get("id"),
                "status": answer.status,
                "headers": answer.headers,
            }
            if answer.body is not None:
                entry["body"] = answer.body
            responses.append(entry)
        return _Answer(200, {"responses": responses})

    def _route(
        self,
        method: str,
        user: str,
        rest: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: Any,
    ) -> _Answer:
        store = self.store
        box = store.mailbox(user)
        zone, text, size = _prefer(headers)
        expand = _expand(query)
        rest = rest.replace("/calendar/events", "/events", 1)
        if rest == "/mailboxSettings" and method == "GET":
            return _Answer(
                200,
                {
                    "timeZone": windows_name(box.time_zone),
                    "workingHours": box.working_hours_resource(),
                },
            )
        if rest == "/events" and method == "POST":
            item = store.create(user, body or {})
            return _Answer(201, store.render(item, zone=zone, expand=expand, text_body=text))
        if rest == "/events" and method == "GET":
            items = sorted(box.items.values(), key=lambda i: i.created)
            top = int(query.get("$top", "10"))
            return _Answer(
                200,
                {
                    "value": [
                        store.render(i, zone=zone, expand=expand, text_body=text)
                        for i in items[:top]
                    ]
                },
            )
        if rest == "/calendarView/delta" and method == "GET":
            return self._delta(box, query, zone, text, size)
        if rest == "/calendarView" and method == "GET":
            start, end = _window(query)
            found = sorted(store.view(box, start, end), key=lambda p: p[0].id)
            return _Answer(
                200,
                {
                    "value": [
                        store.render(i, o, zone=zone, expand=expand, text_body=text)
                        for i, o in found
                    ]
                },
            )
        if rest == "/calendar/getSchedule" and method == "POST":
            return self._schedule(body or {})
        match = re.match(r"^/events/([^/]+)(/[A-Za-z]+)?$", rest)
        if match is None:
            return _error(400, "BadRequest", f"Resource not found for the segment '{rest}'.")
        event_id, action = match.group(1), match.group(2) or ""
        if_match = headers.get("if-match")
        if action == "" and method == "GET":
            item, original = store.find(box, event_id)
            return _Answer(
                200, store.render(item, original, zone=zone, expand=expand, text_body=text)
            )
        if action == "" and method == "PATCH":
            item, original = store.update(user, event_id, body or {}, if_match)
            return _Answer(
                200, store.render(item, original, zone=zone, expand=expand, text_body=text)
            )
        if action == "" and method == "DELETE":
            store.delete(user, event_id, if_match)
            return _Answer(204)
        if action == "/instances" and method == "GET":
            item, original = store.find(box, event_id)
            if original is not None:
                raise GraphError(400, "ErrorInvalidRequest", "Not a series master.")
            start, end = _window(query)
            found = store.instances(item, start, end)
            return self._page(
                [store.render(i, o, zone=zone, text_body=text) for i, o in found],
                query,
                size or int(query.get("$top", "0") or 0) or DEFAULT_PAGE,
                f"/users/{user}/events/{event_id}/instances",
            )
        if method == "POST" and action in ("/accept", "/decline", "/tentativelyAccept"):
            response = {
                "/accept": "accepted",
                "/decline": "declined",
                "/tentativelyAccept": "tentativelyAccepted",
            }[action]
            store.answer(user, event_id, response)
            return _Answer(202)
        if method == "POST" and action == "/cancel":
            store.cancel(user, event_id)
            return _Answer(202)
        return _error(405, "ErrorInvalidRequest", f"{method} {rest} is not supported.")

    def _page(
        self, values: list[dict[str, Any]], query: dict[str, str], size: int, path: str
    ) -> _Answer:
        offset = int(query.get("$skip", "0") or 0)
        page = values[offset : offset + size]
        answer: dict[str, Any] = {"value": page}
        if offset + size < len(values):
            rest = {k: v for k, v in query.items() if k != "$skip"}
            rest["$skip"] = str(offset + size)
            answer["@odata.nextLink"] = f"{self.graph_url}{path}?" + "&".join(
                f"{k}={quote(v)}" for k, v in rest.items()
            )
        return _Answer(200, answer)

    # ------------------------------------------------------------------ delta

    def _delta(
        self, box: Mailbox, query: dict[str, str], zone: str, text: bool, size: int | None
    ) -> _Answer:
        page = size or DEFAULT_PAGE
        if "$skiptoken" in query:
            held = self._skip.pop(query["$skiptoken"], None)
            if held is None:
                return _gone()
            rest, state, snapshot, page = held
            return self._delta_page(box, rest, state, snapshot, page)
        if "$deltatoken" in query:
            previous = box.delta_states.get(query["$deltatoken"])
            if previous is None:
                return _gone()
            start, end = _window(
                {"startDateTime": previous["@start"], "endDateTime": previous["@end"]}
            )
        else:
            previous = None
            start, end = _window(query)
        snapshot: dict[str, str] = {"@start": _iso(start), "@end": _iso(end)}
        changes: list[dict[str, Any]] = []
        for item, original in sorted(self.store.view(box, start, end), key=lambda p: p[0].id):
            resource = self.store.render(item, original, zone=zone, text_body=text)
            resource.pop("recurrence", None)
            snapshot[resource["id"]] = resource["@odata.etag"]
            if previous is None or previous.get(resource["id"]) != resource["@odata.etag"]:
                changes.append(resource)
        if previous is not None:
            for event_id in previous:
                if not event_id.startswith("@") and event_id not in snapshot:
                    changes.append({"id": event_id, "@removed": {"reason": "deleted"}})
        return self._delta_page(box, changes, "", snapshot, page)

    def _delta_page(
        self,
        box: Mailbox,
        changes: list[dict[str, Any]],
        state: str,
        snapshot: dict[str, str],
        page: int,
    ) -> _Answer:
        head, rest = changes[:page], changes[page:]
        path = f"{self.graph_url}/users/{quote(box.email)}/calendarView/delta"
        if rest:
            skip = secrets.token_urlsafe(16)
            self._skip[skip] = (rest, state, snapshot, page)
            return _Answer(200, {"value": head, "@odata.nextLink": f"{path}?$skiptoken={skip}"})
        token = secrets.token_urlsafe(16)
        box.delta_states[token] = snapshot
        while len(box.delta_states) > 4:  # Exchange keeps a few sync states per folder
            box.delta_states.pop(next(iter(box.delta_states)))
        return _Answer(200, {"value": head, "@odata.deltaLink": f"{path}?$deltatoken={token}"})

    # ------------------------------------------------------------------ free/busy

    def _schedule(self, body: dict[str, Any]) -> _Answer:
        schedules = [str(s).lower() for s in body.get("schedules") or []]
        self.schedules_asked.extend(schedules)
        if not schedules or len(schedules) > 100:
            return _error(400, "ErrorInvalidParameter", "Between 1 and 100 schedules expected.")
        start = parse_time(body.get("startTime"))
        end = parse_time(body.get("endTime"))
        zone = str((body.get("startTime") or {}).get("timeZone") or "UTC")
        values = []
        for email in schedules:
            box = self.store.mailboxes.get(email)
            if box is None or email in self.denied:
                values.append(
                    {
                        "scheduleId": email,
                        "error": {
                            "message": "The requested user is invalid or not found.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            items = []
            for item, original in self.store.view(box, start, end):
                resource = self.store.render(item, original)
                status = resource.get("showAs", "busy")
                declined = resource["responseStatus"]["response"] == "declined"
                if status == "free" or resource.get("isCancelled") or declined:
                    continue
                items.append(
                    {
                        "isPrivate": False,
                        "status": status,
                        "subject": resource.get("subject", ""),
                        "location": "",
                        "start": graph_time(parse_time(resource["start"]), zone),
                        "end": graph_time(parse_time(resource["end"]), zone),
                    }
                )
            items.sort(key=lambda i: i["start"]["dateTime"])
            values.append(
                {
                    "scheduleId": email,
                    "availabilityView": "",
                    "scheduleItems": items,
                    "workingHours": box.working_hours_resource(),
                }
            )
        return _Answer(200, {"value": values})


def _gone() -> _Answer:
    # https://learn.microsoft.com/graph/delta-query-overview: a token the service no longer
    # knows answers 410 Gone; the client starts a new round without a token.
    return _error(410, "SyncStateNotFound", "The sync state could not be found; resync.")


def _fault(kind: str, retry_after: int) -> _Answer:
    if kind == "429":
        return _error(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
            **{"Retry-After": str(retry_after)},
        )
    if kind == "503":
        return _error(
            503,
            "ServiceUnavailable",
            "Service is temporarily unavailable.",
            **{"Retry-After": str(retry_after)},
        )
    if kind == "504":
        return _error(504, "UnknownError", "Gateway timeout.")
    return _error(500, "UnknownError", "An internal server error occurred.")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _window(query: dict[str, str]) -> tuple[datetime, datetime]:
    try:
        start = datetime.fromisoformat(query["startDateTime"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(query["endDateTime"].replace("Z", "+00:00"))
    except (KeyError, ValueError) as error:
        raise GraphError(
            400,
            "ErrorInvalidParameters",
            "This request requires a time window specified by the query string parameters "
            "StartDateTime and EndDateTime.",
        ) from error
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return start.astimezone(UTC), end.astimezone(UTC)


ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _kind(rest: str) -> str:
    if rest.startswith("/calendarView/delta"):
        return "delta"
    if rest.startswith("/calendar/getSchedule"):
        return "getSchedule"
    if rest.endswith("/instances"):
        return "instances"
    return "events" if rest.startswith(("/events", "/calendar/events")) else rest.strip("/")


def _user_of(url: str) -> str:
    match = re.match(r"^/?users/([^/?]+)", url)
    return unquote(match.group(1)).lower() if match else ""


class _Handler(BaseHTTPRequestHandler):
    owner: GraphEmulator
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, answer: _Answer) -> None:
        data = b"" if answer.body is None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        if answer.body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        raw = self._body()
        path = urlsplit(self.path).path
        emulator = self.owner
        if path.endswith("/oauth2/v2.0/token") and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                client, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                form.setdefault("client_id", unquote(client))
                form.setdefault("client_secret", unquote(secret))
            with emulator.lock:
                self._send(emulator._token(path, form))
            return
        if path.endswith("/v2.0/.well-known/openid-configuration"):
            self._send(emulator._openid())
            return
        if not path.startswith("/v1.0/"):
            self._send(_error(404, "NotFound", f"{path} is not served here."))
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(_error(400, "BadRequest", "Unable to read JSON request payload."))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._send(emulator.graph(method, self.path.removeprefix("/v1.0"), headers, body))

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class Person:
    """A person acting in their own mailbox through Graph (as Outlook would): never faulted,
    throttled or counted. ``call`` answers the JSON body and raises on an error."""

    def __init__(self, emulator: GraphEmulator, email: str) -> None:
        self.emulator = emulator
        self.email = email

    def call(
        self, method: str, rest: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        wanted = {"prefer": 'outlook.body-content-type="text"', **(headers or {})}
        answer = self.emulator.graph(
            method, f"/users/{self.email}{rest}", wanted, body, person=self.email
        )
        if answer.status >= 400:
            raise GraphError(answer.status, answer.body["error"]["code"], str(answer.body))
        return answer.body

    def create(self, body: dict[str, Any], *, ical_uid: str | None = None) -> dict[str, Any]:
        """A new event; ``ical_uid`` gives it that iCalendar UID, as Outlook keeps the UID of
        an .ics file it imports (Graph's POST cannot set ``iCalUId``)."""
        if ical_uid is None:
            found: dict[str, Any] = self.call("POST", "/events", body)
            return found
        with self.emulator.lock:
            item = self.emulator.store.create(self.email, body, ical_uid=ical_uid)
            return self.emulator.store.render(item)

    def find(self, uid: str) -> str:
        """The Graph id of the event with the product's UID (or iCalendar UID) ``uid``."""
        with self.emulator.lock:
            for item in self.emulator.store.mailbox(self.email).items.values():
                stored = {k.lower(): v for k, v in item.props.items()}
                mine = stored.get(PRODUCT_UID.lower())
                if mine == uid or (mine is None and item.ical_uid == uid):
                    return item.id
        raise KeyError(f"no event {uid} in {self.email}'s mailbox")

    def view(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        query = f"?startDateTime={_iso(start)}&endDateTime={_iso(end)}"
        found: list[dict[str, Any]] = self.call("GET", "/calendarView" + query)["value"]
        return found

    def instances(self, event_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        query = f"?startDateTime={_iso(start)}&endDateTime={_iso(end)}&$top=1000"
        found: list[dict[str, Any]] = self.call("GET", f"/events/{event_id}/instances{query}")[
            "value"
        ]
        return found

    def instance(self, event_id: str, original: datetime) -> dict[str, Any]:
        start = original - timedelta(days=1)
        for found in self.instances(event_id, start, original + timedelta(days=1)):
            if parse_time({"dateTime": found["originalStart"], "timeZone": "UTC"}) == original:
                return found
        raise KeyError(f"no instance of {event_id} at {original.isoformat()}")
