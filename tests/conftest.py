"""Shared test set-up: hypothesis profiles, the example org in a temporary folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]

# A real PostgreSQL started by the tests themselves (postgres_server, postgres_url, ledger_url).
pytest_plugins = ["tests.pgserver"]

# CI is derandomized: the same examples every run, so a red CI is a change's doing, not the
# luck of the draw; the dev and long profiles keep exploring new ones.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


#: seconds a ``slow`` test may run before pytest-timeout fails it as hung
SLOW_TIMEOUT = 900

#: set on a test that xdist's loadgroup was asked to keep in a group and did not
_LOST_GROUP = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``slow`` tests first (otherwise in collection order): under ``-n`` (pyproject's
    addopts) each starts on a worker of its own while the short tests fill the others, instead
    of one of them ending the run alone. Every worker sorts the same collection the same way.

    Under ``--dist loadgroup`` a test marked ``xdist_group`` must by now carry its group in its
    node id (``...@group``), or xdist runs it on any worker (as with pytest 9.2 and
    pytest-xdist 3.8, pytest-dev/pytest-xdist#1386): such a test fails, saying so."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    # A slow test may take minutes on a loaded machine: it gets 15 of them (unless it says
    # otherwise) before pytest-timeout calls it hung; the short ones keep pyproject's 300 s.
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))
    if hasattr(config, "workerinput") and config.getvalue("loadgroup"):
        for item in items:
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid.rpartition("]")[2]:
                item.stash[_LOST_GROUP] = (
                    "marked xdist_group, but this pytest and pytest-xdist ran it outside its "
                    "group (pytest-dev/pytest-xdist#1386); see the pytest pin in pyproject.toml"
                )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _LOST_GROUP in item.stash:
        pytest.fail(item.stash[_LOST_GROUP], pytrace=False)


@pytest.fixture
def example_org_file(tmp_path: Path) -> Path:
    """The packaged example org file, copied to a fresh folder (its vdir calendars go there)."""
    target = tmp_path / "oneonone.toml"
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", target)
    return target


# --------------------------------------------------------------------------- provider worlds
#
# ``make_world(root, edit=...)`` builds the example org in ``root`` on the provider of the
# test's parameter: ``vdir`` folders, Google Calendar and Drive through the emulator (started
# on 127.0.0.1 for the test, stopped after it), or Radicale over CalDAV
# (tests/system/caldav_world.py; one server on 127.0.0.1 per test process, a calendar per
# person per world), or Microsoft 365 through the Graph emulator (tests/system/m365_world.py,
# started on 127.0.0.1 for the test, stopped after it). Scenarios written against the world's
# methods (tests/system/world.py) run unchanged on each.

# CalDAV and Microsoft 365 run with ``pytest -m slow`` (CI runs it too): their worlds are the
# slowest, and with them the README's command went past its eight minutes on two cores.
PROVIDERS = [
    "vdir",
    "google",
    pytest.param("caldav", marks=pytest.mark.slow),
    pytest.param("microsoft365", marks=pytest.mark.slow),
]


@pytest.fixture(scope="session")
def caldav_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Radicale per test process for the CalDAV worlds (each world makes calendars of its
    own on it), started when the first one needs it and stopped by its process id at the end."""
    from tests.system.caldav_world import example_users, start_server

    server = start_server(tmp_path_factory.mktemp("radicale"), example_users())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=PROVIDERS)
def make_world(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []
    emulators: list[Any] = []

    def build(root: Path, *, edit: dict[str, str] | None = None) -> Any:
        if request.param == "vdir":
            from tests.system.world import VdirWorld

            world: Any = VdirWorld(root, edit=edit)
        elif request.param == "microsoft365":
            from tests.system.m365_world import M365World
            from tests.system.m365_world import start_emulator as start_graph

            if not emulators:
                emulators.append(start_graph())
            world = M365World(root, emulators[0], edit=edit)
        elif request.param == "caldav":
            from tests.system.caldav_world import CaldavWorld

            world = CaldavWorld(root, request.getfixturevalue("caldav_server"), edit=edit)
        else:
            from tests.system.google_world import GoogleWorld, start_emulator

            if not emulators:
                emulators.append(start_emulator())
            world = GoogleWorld(root, emulators[0], edit=edit)
        made.append(world)
        return world

    try:
        yield build
    finally:
        for world in made:
            world.close()
        for world in reversed(made):  # each puts back what the one before it found
            if hasattr(world, "forget_passwords"):
                world.forget_passwords()
        for emulator in emulators:
            emulator.stop()
