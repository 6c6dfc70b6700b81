"""One Radicale per test module (each test makes calendars of its own on it), stopped by its
process id when the module is done."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scheduler.providers.caldav import forget_sessions
from tests.caldav.servers import DavServer, start_radicale

ACCOUNTS = {"mia": "mia-secret-1", "ana": "ana-secret-2"}


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    server = start_radicale(tmp_path_factory.mktemp("radicale"), ACCOUNTS)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    """Each test a new process as far as CalDAV sessions go (no mirror carried over)."""
    forget_sessions()
    yield
    forget_sessions()
