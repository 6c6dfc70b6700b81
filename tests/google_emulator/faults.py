"""Injected failures: random at a rate (seeded, so a run repeats), the next n calls, the
next n writes (reads go through: a test fails the product's writes after it read), or the
next n calls of one method (``drive.permissions.create``: one part of a batch, the others
answered).

Each kind answers with the body the Calendar errors guide documents
(https://developers.google.com/workspace/calendar/api/guides/errors): 403
``rateLimitExceeded``/``userRateLimitExceeded``/``quotaExceeded``, 429 ``rateLimitExceeded``,
500 ``backendError`` and 503.

``applied`` makes a share of the injected 500/503 answers come *after* the call took effect,
as a backend error can ("500: Backend Error ... An unexpected error occurred while processing
the request", errors guide): a retried insert then meets its own event (409 ``duplicate``).
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable

from .errors import FAULTS

KINDS = tuple(FAULTS)

#: The methods that change something (the last part of a method id such as
#: ``calendar.events.patch``); ``fail_next_writes`` fails only these.
WRITE_METHODS = frozenset({"insert", "import", "update", "patch", "delete", "move", "create"})


def is_write(method_id: str) -> bool:
    return method_id.rpartition(".")[2] in WRITE_METHODS


class Faults:
    def __init__(self) -> None:
        self.rate = 0.0
        self.kinds: tuple[str, ...] = KINDS
        self.include_token = False
        self.applied = 0.0
        self._random = random.Random(0)
        self._queue: deque[tuple[str, bool]] = deque()
        self._writes: deque[tuple[str, bool]] = deque()
        self._methods: dict[str, deque[tuple[str, bool]]] = {}

    def set(
        self,
        rate: float,
        seed: int = 0,
        kinds: Iterable[str] | None = None,
        *,
        include_token: bool = False,
        applied: float = 0.0,
    ) -> None:
        """Fail about ``rate`` of API calls (and token requests with ``include_token``).

        ``applied``: the share of injected 500/503 failures answered after the call ran.
        """
        chosen = tuple(kinds) if kinds is not None else KINDS
        for kind in chosen:
            if kind not in FAULTS:
                raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate is a fraction between 0 and 1")
        self.rate = rate
        self.kinds = chosen
        self.include_token = include_token
        self.applied = applied
        self._random = random.Random(seed)

    def fail_next(self, n: int, kind: str, *, applied: bool = False) -> None:
        """The next ``n`` API calls fail with ``kind`` (after taking effect, if ``applied``)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if applied and kind not in ("500", "503"):
            raise ValueError("only 500 and 503 can come after the call took effect")
        self._queue.extend([(kind, applied)] * n)

    def fail_next_writes(self, n: int, kind: str = "503", *, applied: bool = False) -> None:
        """The next ``n`` write calls (insert, update, patch, delete, ...; batch parts one by
        one) fail with ``kind``; reads are answered as usual and do not use them up."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if applied and kind not in ("500", "503"):
            raise ValueError("only 500 and 503 can come after the call took effect")
        self._writes.extend([(kind, applied)] * n)

    def fail_method(self, method_id: str, n: int, kind: str, *, applied: bool = False) -> None:
        """The next ``n`` calls of ``method_id`` (``drive.permissions.create``) fail with
        ``kind``; other methods are answered as usual and do not use them up."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if applied and kind not in ("500", "503"):
            raise ValueError("only 500 and 503 can come after the call took effect")
        self._methods.setdefault(method_id, deque()).extend([(kind, applied)] * n)

    @property
    def pending_writes(self) -> int:
        """Write failures still to come (``fail_next_writes``)."""
        return len(self._writes)

    def clear(self) -> None:
        self.rate = 0.0
        self.kinds = KINDS
        self.include_token = False
        self.applied = 0.0
        self._queue.clear()
        self._writes.clear()
        self._methods.clear()

    def draw(self, *, token_endpoint: bool = False, method_id: str = "") -> tuple[str, bool] | None:
        """The failure for this call, if any: (kind, whether the call runs first)."""
        if token_endpoint and not self.include_token:
            return None
        if self._queue and not token_endpoint:
            return self._queue.popleft()
        if self._writes and not token_endpoint and is_write(method_id):
            return self._writes.popleft()
        if self._methods.get(method_id) and not token_endpoint:
            return self._methods[method_id].popleft()
        if self.rate and self._random.random() < self.rate:
            kind = self._random.choice(self.kinds)
            applied = (
                not token_endpoint
                and kind in ("500", "503")
                and self.applied > 0
                and self._random.random() < self.applied
            )
            return kind, applied
        return None
