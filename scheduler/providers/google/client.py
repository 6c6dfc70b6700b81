"""Calling the Google APIs: one service factory, retries with backoff, batches, plain errors.

Every call to Calendar v3 and Drive v3 goes through ``GoogleClient``:

- The services are built with ``build_from_document`` from the discovery documents packaged
  under ``discovery/`` with their ``rootUrl`` rewritten to ``[google] api_endpoint`` when one is
  set. ``client_options={"api_endpoint": ...}`` alone still sends batch requests and media
  uploads to Google's own hosts (googleapiclient takes those from ``rootUrl``), and a fetched
  discovery document would be one more request and one more thing that can change under us.
- Each service is built once per process and each request is executed with the acting
  person's own authorised HTTP object (domain-wide delegation gives every person their own
  credentials), so building services costs nothing per person.
- googleapiclient retries only with ``execute(num_retries=N)``, never batch parts, and never
  403 ``quotaExceeded`` mixed up with rate limits; so the retry loop is here: exponential
  backoff with full jitter on 403 ``rateLimitExceeded``/``userRateLimitExceeded``, 429 and 5xx
  and on connection errors, for single requests and for each failed part of a batch alike.
  (https://developers.google.com/workspace/calendar/api/guides/errors: "Implement exponential
  backoff" for 403 usageLimits, 429 and 500/503.)
- HTTP objects (httplib2) are not thread-safe; a client is used by one pass at a time.

Errors leave as ``scheduler.errors``: ``TransientError`` when retries ran out, ``ConflictError``
on 412, ``AuthError`` when a token cannot be had, ``CalendarError`` otherwise; ``GoneError`` (410)
and ``DuplicateError`` (409) are for callers that act on them.

Exports: ``GoogleClient``, ``GoogleCall``, ``BatchPart``, ``GoneError``, ``DuplicateError``,
``api_error``.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import httplib2
from google.auth.credentials import Credentials
from google.auth.exceptions import RefreshError, TransportError
from google_auth_httplib2 import AuthorizedHttp
from google_auth_httplib2 import Request as AuthRequest
from googleapiclient.discovery import Resource, build_from_document
from googleapiclient.errors import HttpError

from scheduler.errors import AuthError, CalendarError, ConflictError, TransientError

log = logging.getLogger(__name__)

# googleapiclient logs a WARNING for every answer it deems retryable, though it retries nothing
# unless asked to; the retrying is done (and said, at INFO) here, so its lines only mislead.
logging.getLogger("googleapiclient.http").setLevel(logging.ERROR)

__all__ = [
    "BatchPart",
    "DuplicateError",
    "GoneError",
    "GoogleCall",
    "GoogleClient",
    "NotFoundError",
    "api_error",
]

#: Requests per batch. Google allows up to 1000 per Calendar batch and 100 per Drive batch
#: (https://developers.google.com/workspace/calendar/api/guides/batch), but every part still
#: counts against the per-user rate limit, so a smaller batch throttles less at once and a
#: refused batch costs less to send again.
BATCH_LIMIT = 50
#: Requests per batch by API: Drive's own limit is 100 ("You're limited to 100 calls in a
#: single batch request", https://developers.google.com/workspace/drive/api/guides/
#: performance#batch-requests), and the agenda documents of a whole org go in as few as that.
BATCH_LIMITS = {"calendar": BATCH_LIMIT, "drive": 100}
RETRYABLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
TIMEOUT_SECONDS = 60


class GoneError(CalendarError):
    """410: a sync token is no longer valid (a full sync is needed) or the object was deleted."""


class NotFoundError(CalendarError):
    """404: no such object, or the acting person cannot see it."""


class DuplicateError(CalendarError):
    """409: an object with the client-supplied id exists already (a retried insert)."""


@dataclass(frozen=True)
class GoogleCall:
    """One request to run, named for messages and metrics ("calendar.events.list")."""

    method: str
    request: Any  # googleapiclient.http.HttpRequest


@dataclass(frozen=True)
class BatchPart:
    """One part of a batch: its key in the answers, whom it acts as, the call, and what it is
    about (for messages)."""

    key: str
    email: str
    call: GoogleCall
    what: str


def _discovery(api: str) -> dict[str, Any]:
    text = (
        resources.files("scheduler.providers.google") / "discovery" / f"{api}.v3.json"
    ).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def api_error(error: HttpError) -> tuple[int, str, str]:
    """(status, first reason, message) of an API error, read from Google's JSON error body."""
    status = int(getattr(error.resp, "status", 0) or 0)
    reason, message = "", ""
    try:
        body = json.loads(error.content.decode("utf-8", "replace"))
        detail = body.get("error", {})
        message = str(detail.get("message", ""))
        errors = detail.get("errors") or []
        if errors:
            reason = str(errors[0].get("reason", ""))
        elif isinstance(detail.get("status"), str):
            reason = detail["status"]
    except (ValueError, AttributeError):
        message = error.content.decode("utf-8", "replace")[:200] if error.content else ""
    return status, reason, message


def _retryable(status: int, reason: str) -> bool:
    return status in RETRYABLE_STATUS or (status == 403 and reason in RETRYABLE_REASONS)


class GoogleClient:
    """Calendar and Drive services for one org, acting as whichever person a call needs.

    ``credentials_for(email)`` gives that person's credentials (a delegated service account or
    the organizer's own OAuth token). ``sleep`` and ``rng`` are injectable so tests and
    benchmarks need not wait; ``BASE_DELAY`` is the first backoff step.
    """

    BASE_DELAY = 0.5

    def __init__(
        self,
        credentials_for: Callable[[str], Credentials],
        *,
        api_endpoint: str | None = None,
        max_attempts: int = 6,
        base_delay: float | None = None,
        max_delay: float = 32.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._credentials_for = credentials_for
        self.api_endpoint = api_endpoint
        self.max_attempts = max_attempts
        self.base_delay = self.BASE_DELAY if base_delay is None else base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._services: dict[str, Resource] = {}
        self._resources: dict[str, Any] = {}
        self._unreachable: str | None = None
        self._http: dict[str, AuthorizedHttp] = {}

    # ----------------------------------------------------------------------- plumbing

    def service(self, api: str) -> Resource:
        """The ``calendar`` or ``drive`` service, built once from the packaged document."""
        found = self._services.get(api)
        if found is None:
            document = _discovery(api)
            if self.api_endpoint:
                root = self.api_endpoint.rstrip("/") + "/"
                document["rootUrl"] = root
                document["mtlsRootUrl"] = root
            # An unauthorised placeholder: every request is executed with the person's own
            # authorised HTTP object.
            found = build_from_document(document, http=httplib2.Http(timeout=TIMEOUT_SECONDS))
            self._services[api] = found
        return found

    def calendar(self) -> Any:
        return self.service("calendar")

    def drive(self) -> Any:
        return self.service("drive")

    def resource(self, api: str, name: str) -> Any:
        """``service(api).<name>()``, made once: googleapiclient builds every method of a
        resource each time it is asked for one (about 12 ms for Calendar's events)."""
        key = f"{api}.{name}"
        found = self._resources.get(key)
        if found is None:
            found = getattr(self.service(api), name)()
            self._resources[key] = found
        return found

    def events(self) -> Any:
        return self.resource("calendar", "events")

    def http_for(self, email: str) -> AuthorizedHttp:
        found = self._http.get(email)
        if found is None:
            found = AuthorizedHttp(
                self._credentials_for(email), http=httplib2.Http(timeout=TIMEOUT_SECONDS)
            )
            self._http[email] = found
        return found

    def backoff(self, attempt: int) -> None:
        """Wait before try ``attempt + 1`` (for callers that retry by themselves)."""
        self._sleep(self._delay(attempt))

    def _delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return self._rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))

    # ----------------------------------------------------------------------- one call

    def execute(self, email: str, call: GoogleCall, *, what: str, retry: bool = True) -> Any:
        """Run ``call`` as ``email``, retrying what Google says to retry; ``what`` names the
        object for messages ("ana@example.com's calendar"). ``retry=False`` for a request that
        is not idempotent (a Drive file has no client-supplied id): the caller looks before
        trying again."""
        if self._unreachable is not None:
            raise TransientError(f"{what}: {self._unreachable}")
        attempts = self.max_attempts if retry else 1
        for attempt in range(attempts):
            try:
                return call.request.execute(http=self.http_for(email))
            except HttpError as error:
                status, reason, message = api_error(error)
                if _retryable(status, reason) and attempt + 1 < attempts:
                    delay = self._delay(attempt)
                    log.info(
                        "Google answered %s %s to %s for %s; trying again in %.1f s",
                        status,
                        reason,
                        call.method,
                        what,
                        delay,
                    )
                    self._sleep(delay)
                    continue
                raise self._translate(status, reason, message, what, email) from error
            except RefreshError as error:
                raise _auth_error(error, email) from error
            except (
                TransportError,
                OSError,
                httplib2.HttpLib2Error,
            ) as error:
                if attempt + 1 < attempts:
                    self._sleep(self._delay(attempt))
                    continue
                # Unreachable: every other call of this pass would wait out the same backoff
                # (minutes, over a large org), so they fail at once until ``reset``.
                self._unreachable = (
                    f"Google did not answer ({_plain(error)}); the next pass retries."
                )
                raise TransientError(
                    f"Google did not answer for {what}: {_plain(error)}; the next pass retries."
                ) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def reset(self) -> None:
        """A new pass: try Google again even if it did not answer during the last one."""
        self._unreachable = None

    def _translate(
        self, status: int, reason: str, message: str, what: str, email: str
    ) -> CalendarError:
        detail = f"{status} {reason}".strip() + (f" ({message})" if message else "")
        if status == 410:
            return GoneError(f"{what}: {detail}")
        if status == 409:
            return DuplicateError(f"{what}: {detail}")
        if status == 412:
            return ConflictError(f"{what} changed while oneonone was writing it ({detail}).")
        if _retryable(status, reason):
            return TransientError(
                f"Google kept refusing requests for {what} ({detail}); the next pass retries."
            )
        if status == 403 and reason == "quotaExceeded":
            return TransientError(
                f"The Google Cloud project's daily quota is used up ({detail}); raise it in the "
                "Cloud console or wait for the daily reset."
            )
        if status == 401:
            return AuthError(
                f"Google refused the credentials acting as {email} for {what} ({detail})."
            )
        if status == 403:
            return CalendarError(
                f"Google refused access to {what} acting as {email} ({detail}); check the "
                "domain-wide delegation scopes for the service account."
            )
        if status == 404:
            return NotFoundError(
                f"{what} was not found or {email} cannot see it ({detail}); check the e-mail "
                "address in the org file and that the person has a Google Calendar."
            )
        return CalendarError(f"Google answered {detail} for {what}.")

    # ----------------------------------------------------------------------- batches

    def batch(
        self, email: str, calls: Sequence[tuple[str, GoogleCall]], *, what: str
    ) -> dict[str, Any | CalendarError]:
        """Run ``calls`` (keyed) as ``email`` in batches (``BATCH_LIMITS``); each answer or
        error by key. Parts that fail with a retryable error are sent again (in a new batch)
        with backoff, which googleapiclient never does for batch parts."""
        return self.batch_parts([BatchPart(key, email, call, what) for key, call in calls])

    def batch_parts(self, parts: Sequence[BatchPart]) -> dict[str, Any | CalendarError]:
        """Run ``parts``, each as its own person, in as few batches as the limits allow: one
        batch may hold several people's calls, each part carrying its person's
        ``Authorization`` ("If you specify a given HTTP header in both the outer request and
        an individual call, then the individual call header's value overrides the outer batch
        request header's value", https://developers.google.com/workspace/drive/api/guides/
        performance#batch-requests); every part still counts against its own person's rate
        limit. A batch holds one API's calls only. Each answer or error by key; retryable
        failures are sent again part by part as ``batch`` says. A lone part goes without a
        batch envelope (which would be an HTTP request of its own)."""
        if len(parts) == 1:
            [part] = parts
            try:
                return {part.key: self.execute(part.email, part.call, what=part.what)}
            except CalendarError as error:
                return {part.key: error}
        results: dict[str, Any | CalendarError] = {}
        pending = list(parts)
        for attempt in range(self.max_attempts):
            if not pending:
                break
            retry: list[BatchPart] = []
            by_api: dict[str, list[BatchPart]] = {}
            for part in pending:
                by_api.setdefault(part.call.method.partition(".")[0], []).append(part)
            for api, group in by_api.items():
                for chunk in _chunks(group, BATCH_LIMITS.get(api, BATCH_LIMIT)):
                    self._run_batch(
                        api, chunk, results, retry, last=attempt + 1 == self.max_attempts
                    )
            pending = retry
            if pending:
                self._sleep(self._delay(attempt))
        return results

    def _usable(
        self, chunk: list[BatchPart], results: dict[str, Any | CalendarError]
    ) -> list[BatchPart]:
        """The parts whose person has a token (fetched now when needed, one person at a time,
        so that one person's refused delegation fails their parts only and not the batch)."""
        if len({part.email for part in chunk}) == 1:
            return chunk  # the batch's own credentials: refreshed by googleapiclient
        refused: dict[str, CalendarError] = {}
        for email in {part.email for part in chunk}:
            credentials = self.http_for(email).credentials
            if credentials.valid:
                continue
            try:
                credentials.refresh(AuthRequest(httplib2.Http(timeout=TIMEOUT_SECONDS)))
            except RefreshError as error:
                refused[email] = _auth_error(error, email)
            except (TransportError, OSError, httplib2.HttpLib2Error) as error:
                refused[email] = TransientError(
                    f"Google did not answer for {email}'s token: {_plain(error)}; the next "
                    "pass retries."
                )
        for part in chunk:
            if part.email in refused:
                results[part.key] = refused[part.email]
        return [part for part in chunk if part.email not in refused]

    def _run_batch(
        self,
        api: str,
        chunk: list[BatchPart],
        results: dict[str, Any | CalendarError],
        retry: list[BatchPart],
        *,
        last: bool,
    ) -> None:
        chunk = self._usable(chunk, results)
        if not chunk:
            return
        by_key = {part.key: part for part in chunk}
        outer = chunk[0].email

        def answer(request_id: str, response: Any, exception: Exception | None) -> None:
            part = by_key[request_id]
            if exception is None:
                results[request_id] = response
                return
            if isinstance(exception, HttpError):
                status, reason, message = api_error(exception)
                if _retryable(status, reason) and not last:
                    retry.append(part)
                    return
                results[request_id] = self._translate(
                    status, reason, message, part.what, part.email
                )
                return
            results[request_id] = CalendarError(f"{part.what}: {_plain(exception)}")

        service = self.service(api)
        batch = service.new_batch_http_request(callback=answer)
        for part in chunk:
            if part.email != outer:
                # googleapiclient puts the credentials of a request's own ``http`` on its part.
                part.call.request.http = self.http_for(part.email)
            batch.add(part.call.request, request_id=part.key)
        try:
            batch.execute(http=self.http_for(outer))
        except RefreshError as error:
            raise _auth_error(error, outer) from error
        except HttpError as error:
            # The whole batch was refused (e.g. 429 on the batch itself): every part retried.
            status, reason, message = api_error(error)
            if _retryable(status, reason) and not last:
                retry.extend(chunk)
                return
            for part in chunk:
                results[part.key] = self._translate(status, reason, message, part.what, part.email)
        except (TransportError, OSError, httplib2.HttpLib2Error) as error:
            if not last:
                retry.extend(part for part in chunk if part.key not in results)
                return
            for part in chunk:
                results.setdefault(
                    part.key,
                    TransientError(f"Google did not answer for {part.what}: {_plain(error)}."),
                )


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def _plain(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]


def _auth_error(error: RefreshError, email: str) -> AuthError:
    text = str(error)
    if "unauthorized_client" in text:
        return AuthError(
            f"Google refused to let the service account act as {email} (unauthorized_client): "
            "domain-wide delegation is missing for that account or for oneonone's scopes; a "
            "Workspace admin must add the service account's client id with the scopes listed "
            "in the README (Admin console > Security > API controls > Domain-wide delegation)."
        )
    if "invalid_grant" in text:
        return AuthError(
            f"Google refused the credentials for {email} (invalid_grant): the account may not "
            "exist in the Workspace, or the OAuth token was revoked; run `oneonone auth google` "
            "again for a token."
        )
    return AuthError(f"Could not get a Google access token for {email}: {_plain(error)}.")
