"""Prometheus metrics of the daemon, served at ``GET /metrics``.

No I/O of its own: counters live in this process's memory (one ``REGISTRY``, not
prometheus-client's global one, so importing this module never mixes our series with a host
application's). The daemon records passes, ``make_provider`` wraps every calendar provider in
``InstrumentedProvider`` so each request and error is counted at one place, and the notice
code calls ``record_notice``.

The series (names follow the Prometheus naming guide: a unit suffix, ``_total`` on counters):

- ``oneonone_passes_total{result}``: passes run; ``result`` is ``ok``, ``problems``,
  ``safety_stop`` or ``error``.
- ``oneonone_pass_seconds``: histogram of pass durations.
- ``oneonone_last_pass_timestamp_seconds``, ``oneonone_last_good_pass_timestamp_seconds``.
- ``oneonone_provider_requests_total{provider,operation}``: calls to calendars (``read``,
  ``write``, ``delete``, ``check``).
- ``oneonone_provider_errors_total{provider}``: calls that failed, and reads that reported a
  problem (an unreadable object, a feed that is down).
- ``oneonone_notices_sent_total{kind}``: nudges, escalations, digests, ... sent.
- ``oneonone_occurrences{status}``: the ledger's occurrences by report status, after the last
  pass.
- ``oneonone_feed_requests_total{result}``: feed fetches answered ``200``, ``304`` or ``404``.
- ``oneonone_lease_holder``: 1 while this replica holds the pass lease, 0 on standby.

A daemon labels every series with ``replica`` (``set_replica``): each replica counts only its
own passes, requests and notices, and the label keeps them apart where several are scraped.

Exports: REGISTRY, InstrumentedProvider, instrumented, record_pass, record_notice,
record_occurrences, record_feed_request, exposition, set_replica, set_lease_holder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric

from scheduler.domain import LedgerStatus, Person
from scheduler.domain.series import CalendarRead
from scheduler.errors import CalendarError
from scheduler.providers.base import CalendarProvider, WriteJob, Written
from scheduler.store.ledger import Ledger

__all__ = [
    "REGISTRY",
    "InstrumentedProvider",
    "exposition",
    "instrumented",
    "record_feed_request",
    "record_notice",
    "record_occurrences",
    "record_pass",
    "set_lease_holder",
    "set_replica",
]

REGISTRY = CollectorRegistry(auto_describe=True)

PASS_RESULTS = ("ok", "problems", "safety_stop", "error")

PASSES = Counter(
    "oneonone_passes",
    "Reconcile passes run, by result (ok, problems, safety_stop, error).",
    ["result"],
    registry=REGISTRY,
)
PASS_SECONDS = Histogram(
    "oneonone_pass_seconds",
    "How long one reconcile pass took.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
LAST_PASS = Gauge(
    "oneonone_last_pass_timestamp_seconds",
    "When the last pass ran (on the daemon's clock), as a Unix time.",
    registry=REGISTRY,
)
LAST_GOOD_PASS = Gauge(
    "oneonone_last_good_pass_timestamp_seconds",
    "When the last pass without problems ran (on the daemon's clock), as a Unix time.",
    registry=REGISTRY,
)
PROVIDER_REQUESTS = Counter(
    "oneonone_provider_requests",
    "Calls to calendars, by provider and operation (read, write, delete, check).",
    ["provider", "operation"],
    registry=REGISTRY,
)
PROVIDER_ERRORS = Counter(
    "oneonone_provider_errors",
    "Calendar calls that failed or reported a problem, by provider.",
    ["provider"],
    registry=REGISTRY,
)
NOTICES_SENT = Counter(
    "oneonone_notices_sent",
    "Notices sent, by kind (nudge, escalation, digest, prep, series_recreated).",
    ["kind"],
    registry=REGISTRY,
)
OCCURRENCES = Gauge(
    "oneonone_occurrences",
    "The ledger's occurrences by report status, after the last pass.",
    ["status"],
    registry=REGISTRY,
)
FEED_REQUESTS = Counter(
    "oneonone_feed_requests",
    "ICS feed requests, by answer (200, 304, 404).",
    ["result"],
    registry=REGISTRY,
)

# Every label value a dashboard expects is present from the start, at zero, so a rate() over
# a series that has never moved is 0 rather than "no data".
for _result in PASS_RESULTS:
    PASSES.labels(_result)
for _status in LedgerStatus:
    OCCURRENCES.labels(_status.value)
#: The feed counter's children by status, looked up once: a held feed's answer costs a few
#: microseconds in all, and ``labels()`` (a lock, a tuple, a dict) was a good part of them.
_FEED_ANSWERS = {int(answer): FEED_REQUESTS.labels(answer) for answer in ("200", "304", "404")}


def record_pass(result: str, seconds: float, now: datetime) -> None:
    """One pass ended with ``result`` (one of ``PASS_RESULTS``) after ``seconds``."""
    PASSES.labels(result).inc()
    PASS_SECONDS.observe(seconds)
    LAST_PASS.set(now.timestamp())
    if result == "ok":
        LAST_GOOD_PASS.set(now.timestamp())


def record_notice(kind: str) -> None:
    """One notice of ``kind`` was sent (called by the notice code after delivery)."""
    NOTICES_SENT.labels(kind).inc()


def record_feed_request(status: int) -> None:
    counter = _FEED_ANSWERS.get(status)
    if counter is None:
        counter = _FEED_ANSWERS[status] = FEED_REQUESTS.labels(str(status))
    counter.inc()


def record_occurrences(ledger: Ledger) -> None:
    """Set ``oneonone_occurrences`` from the ledger (once per pass, not per scrape: the
    ledger grows every week and a scrape should cost nothing)."""
    counts = ledger.status_counts()
    for status in {*(s.value for s in LedgerStatus), *counts}:
        OCCURRENCES.labels(status).set(counts.get(status, 0))


LEASE_HOLDER = Gauge(
    "oneonone_lease_holder",
    "1 while this replica holds the pass lease (runs the passes), 0 while it stands by.",
    registry=REGISTRY,
)

#: Labels added to every series this process exposes (``replica``, set by the daemon), so
#: the series of several replicas behind one load balancer stay apart.
_CONST_LABELS: dict[str, str] = {}


def set_replica(name: str) -> None:
    """Label every series of this process with ``replica="<name>"``."""
    _CONST_LABELS["replica"] = name


def set_lease_holder(holding: bool) -> None:
    LEASE_HOLDER.set(1 if holding else 0)


class _Labelled:
    """``REGISTRY`` with ``_CONST_LABELS`` added to every sample (a collector's view)."""

    def collect(self) -> Iterator[Metric]:
        for metric in REGISTRY.collect():
            copy = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            for sample in metric.samples:
                copy.add_sample(
                    sample.name,
                    {**sample.labels, **_CONST_LABELS},
                    sample.value,
                    sample.timestamp,
                    sample.exemplar,
                )
            yield copy


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    if _CONST_LABELS:
        return generate_latest(_Labelled()), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


_T = TypeVar("_T")


class InstrumentedProvider:
    """A provider that counts its calls and failures; otherwise exactly the provider it wraps.

    Attributes it does not define (``path`` of a vdir provider, say) are the wrapped one's.
    """

    def __init__(self, inner: CalendarProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self.where = inner.where
        self.capabilities = inner.capabilities

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _call(self, operation: str, call: Callable[[], _T]) -> _T:
        PROVIDER_REQUESTS.labels(self.name, operation).inc()
        try:
            return call()
        except CalendarError:
            PROVIDER_ERRORS.labels(self.name).inc()
            raise

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        result = self._call("read", lambda: self.inner.read(person, start, end))
        if result.problems:
            PROVIDER_ERRORS.labels(self.name).inc()
        return result

    def write_many(self, jobs: Sequence[WriteJob]) -> list[Written | CalendarError]:
        """Each job counts as one ``write`` (batched or not), each failed one as an error."""
        if not jobs:
            return []
        PROVIDER_REQUESTS.labels(self.name, "write").inc(len(jobs))
        try:
            outcomes = self.inner.write_many(jobs)
        except CalendarError:
            PROVIDER_ERRORS.labels(self.name).inc(len(jobs))
            raise
        failed = sum(1 for outcome in outcomes if isinstance(outcome, CalendarError))
        if failed:
            PROVIDER_ERRORS.labels(self.name).inc(failed)
        return outcomes

    def delete(self, uid: str, owner: Person, *, expect: str) -> bool:
        return self._call("delete", lambda: self.inner.delete(uid, owner, expect=expect))

    def check(self, person: Person) -> list[str]:
        problems = self._call("check", lambda: self.inner.check(person))
        if problems:
            PROVIDER_ERRORS.labels(self.name).inc()
        return problems


def instrumented(provider: CalendarProvider) -> CalendarProvider:
    """``provider`` with its calls counted in ``oneonone_provider_*``."""
    return InstrumentedProvider(provider)
