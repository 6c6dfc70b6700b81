"""Calling Microsoft Graph v1.0: httpx, retries that honour ``Retry-After``, JSON batches,
errors in plain words.

- Every request carries the app's bearer token (``auth.token_source``: msal's cache, refreshed
  near expiry); a 401 is retried once with a fresh token, then it is an ``AuthError`` naming the
  person and the secret's variable.
- 429 and 503 (and 500/502/504 and connection errors) are retried: after ``Retry-After``
  seconds when the answer gives it ("wait the number of seconds specified in the Retry-After
  header", https://learn.microsoft.com/graph/throttling), else with exponential backoff and
  full jitter; at most ``ATTEMPTS`` tries, then ``TransientError``.
- ``batch`` sends up to 20 requests in one ``POST /$batch`` (https://learn.microsoft.com/graph/
  json-batching: "limited to 20"); each part is judged alone, and the throttled or failed parts
  are sent again in a later batch after the longest ``Retry-After`` among them (Graph throttles
  parts one by one: "each request in a batch is evaluated against throttling limits").

A retried POST that creates an event carries the same ``transactionId``, so Graph answers the
event the first try made instead of a second one (the provider sets it).

Errors leave as ``scheduler.errors``: ``ConflictError`` on 412 (and 409), ``GoneError`` on 410,
``NotFoundError`` on 404, ``AuthError`` on 401, ``CalendarError`` for the rest; a message never
holds a token or a secret. ``requests`` counts requests per mailbox (the bench reads it).

Exports: ``GraphClient``, ``GraphRequest``, ``GoneError``, ``NotFoundError``, ``BATCH_LIMIT``.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from scheduler.errors import AuthError, CalendarError, ConflictError, TransientError
from scheduler.providers.microsoft365.auth import TokenSource

log = logging.getLogger(__name__)

__all__ = [
    "ATTEMPTS",
    "BATCH_LIMIT",
    "GoneError",
    "GraphClient",
    "GraphRequest",
    "NotFoundError",
    "user_path",
]

BATCH_LIMIT = 20
ATTEMPTS = 8
RETRYABLE = frozenset({429, 500, 502, 503, 504})
TIMEOUT_SECONDS = 60.0
#: the longest a Retry-After is waited for; longer is a failure for this pass
MAX_WAIT = 120.0


class GoneError(CalendarError):
    """410: a delta token the service no longer knows (start a new round)."""


class NotFoundError(CalendarError):
    """404: no such event (or the app cannot see that mailbox's item)."""


def user_path(email: str) -> str:
    return f"/users/{quote(email, safe='@')}"


@dataclass(frozen=True)
class GraphRequest:
    """One Graph request: ``url`` relative to the version's base (``/users/...?...``)."""

    method: str
    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Outcome:
    status: int
    body: Any
    headers: dict[str, str]


class GraphClient:
    """Graph for one app registration within one process (httpx keeps the connections)."""

    #: the first backoff's upper bound in seconds, when an answer gives no Retry-After
    BASE_DELAY = 0.5

    def __init__(
        self,
        token: TokenSource,
        base_url: str,
        *,
        ca_file: str | None = None,
        secret_env: str = "",
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.secret_env = secret_env
        self.sleep = sleep
        self.random = random.Random(seed)
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_file) if ca_file else True
        )
        self.http = httpx.Client(verify=verify, timeout=TIMEOUT_SECONDS, trust_env=True)
        self._token: str | None = None
        #: HTTP requests sent per mailbox (a batch counts once, for its first part's mailbox)
        self.requests: Counter[str] = Counter()

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ single requests

    def call(self, who: str, request: GraphRequest, *, what: str) -> Any:
        """Send ``request`` (on ``who``'s mailbox), retrying what may work; its JSON answer."""
        outcome = self._send(who, request, what)
        return self._judge(who, outcome, what)

    def _headers(self, request: GraphRequest) -> dict[str, str]:
        if self._token is None:
            self._token = self.token()
        return {"Authorization": f"Bearer {self._token}", **request.headers}

    def _send(self, who: str, request: GraphRequest, what: str) -> _Outcome:
        refreshed = False
        for attempt in range(ATTEMPTS):
            self.requests[who] += 1
            try:
                answer = self.http.request(
                    request.method,
                    self.base_url + request.url,
                    headers=self._headers(request),
                    json=request.body if request.body is not None else None,
                )
            except httpx.HTTPError as error:
                if attempt + 1 == ATTEMPTS:
                    raise TransientError(
                        f"cannot reach Microsoft Graph for {what} ({type(error).__name__})"
                    ) from error
                self._backoff(attempt, None, what, type(error).__name__)
                continue
            if answer.status_code == 401 and not refreshed:
                refreshed = True
                self._token = None  # expired or revoked: one fresh token, then it is an answer
                continue
            if answer.status_code in RETRYABLE and attempt + 1 < ATTEMPTS:
                self._backoff(attempt, answer.headers.get("Retry-After"), what, answer.status_code)
                continue
            try:
                body = answer.json() if answer.content else None
            except ValueError:
                body = None
            return _Outcome(answer.status_code, body, dict(answer.headers))
        raise TransientError(f"Microsoft Graph kept failing for {what}")  # pragma: no cover

    def _backoff(self, attempt: int, retry_after: str | None, what: str, why: object) -> None:
        wait = _retry_after(retry_after)
        if wait is None:
            wait = self.random.uniform(0, min(32.0, self.BASE_DELAY * 2**attempt))
        log.info("Microsoft Graph answered %s for %s; again in %.1f s", why, what, wait)
        self.sleep(min(wait, MAX_WAIT))

    def _judge(self, who: str, outcome: _Outcome, what: str) -> Any:
        if outcome.status < 300:
            return outcome.body
        raise self._error(who, outcome.status, outcome.body, what)

    def _error(self, who: str, status: int, body: Any, what: str) -> CalendarError:
        error = (body or {}).get("error") if isinstance(body, dict) else None
        code = str((error or {}).get("code", "")) if isinstance(error, dict) else ""
        message = str((error or {}).get("message", "")) if isinstance(error, dict) else ""
        said = f"{status} {code}".strip() + (f": {message}" if message else "")
        if status == 401:
            return AuthError(
                f"Microsoft Graph refused the app's token for {who}'s mailbox ({said}); check "
                f"[microsoft365] tenant_id and client_id and the client secret in "
                f"{self.secret_env or 'the variable named by client_secret_env'}"
            )
        if status == 403:
            return CalendarError(
                f"the app may not reach {who}'s calendar ({said}); grant the app registration "
                "the application permission Calendars.ReadWrite with admin consent, and "
                f"include {who} in its application access policy"
            )
        if status in (409, 412):
            return ConflictError(f"{what} changed since it was read ({said})")
        if status == 410:
            return GoneError(f"{what}: {said}")
        if status == 404:
            return NotFoundError(f"{what}: not found ({said})")
        if status in RETRYABLE:
            return TransientError(f"Microsoft Graph kept answering {said} for {what}")
        return CalendarError(f"Microsoft Graph answered {said} for {what}")

    # ------------------------------------------------------------------ batches

    def batch(
        self, who: str, calls: Sequence[tuple[str, GraphRequest]], *, what: str
    ) -> dict[str, Any]:
        """Each call's JSON answer or ``CalendarError`` by key, in batches of ``BATCH_LIMIT``;
        throttled and failed parts are sent again (``Retry-After``), at most ``ATTEMPTS`` times."""
        results: dict[str, Any] = {}
        pending = list(calls)
        for attempt in range(ATTEMPTS):
            if not pending:
                break
            retry: list[tuple[str, GraphRequest]] = []
            waits: list[float] = []
            for index in range(0, len(pending), BATCH_LIMIT):
                chunk = pending[index : index + BATCH_LIMIT]
                if len(chunk) == 1:
                    key, request = chunk[0]
                    try:
                        results[key] = self.call(who, request, what=what)
                    except CalendarError as error:
                        results[key] = error
                    continue
                envelope = GraphRequest(
                    "POST",
                    "/$batch",
                    {
                        "requests": [
                            {
                                "id": str(number),
                                "method": request.method,
                                "url": request.url,
                                **({"body": request.body} if request.body is not None else {}),
                                "headers": {
                                    **(
                                        {"Content-Type": "application/json"}
                                        if request.body is not None
                                        else {}
                                    ),
                                    **request.headers,
                                },
                            }
                            for number, (_, request) in enumerate(chunk)
                        ]
                    },
                )
                try:
                    answer = self.call(who, envelope, what=what)
                except TransientError as error:
                    for key, _ in chunk:
                        results[key] = error
                    continue
                except CalendarError as error:
                    for key, _ in chunk:
                        results[key] = error
                    continue
                parts = {str(p.get("id")): p for p in (answer or {}).get("responses") or []}
                for number, (key, request) in enumerate(chunk):
                    part = parts.get(str(number))
                    if part is None:
                        retry.append((key, request))
                        continue
                    status = int(part.get("status", 500))
                    if status in RETRYABLE and attempt + 1 < ATTEMPTS:
                        retry.append((key, request))
                        headers = {k.lower(): v for k, v in (part.get("headers") or {}).items()}
                        wait = _retry_after(headers.get("retry-after"))
                        if wait is not None:
                            waits.append(wait)
                        continue
                    if status == 401:
                        self._token = None
                    if status < 300:
                        results[key] = part.get("body")
                    else:
                        results[key] = self._error(who, status, part.get("body"), what)
            pending = retry
            if pending:
                wait = (
                    max(waits)
                    if waits
                    else self.random.uniform(0, min(32.0, self.BASE_DELAY * 2**attempt))
                )
                log.info("Microsoft Graph throttled %d batch parts for %s", len(pending), what)
                self.sleep(min(wait, MAX_WAIT))
        for key, _ in pending:
            results[key] = TransientError(f"Microsoft Graph kept failing for {what}")
        return results


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
