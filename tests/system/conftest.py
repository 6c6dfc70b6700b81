"""The provider-neutral test world, parametrised over providers.

``make_world(root, edit=...)`` builds the example org in ``root`` on the provider of the test's
parameter: ``vdir`` folders, or Google Calendar through the emulator of Calendar v3 (started
once per test on 127.0.0.1, stopped after it). Scenarios written against the world's methods
run unchanged on each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.system.world import VdirWorld

PROVIDERS = ["vdir", "google"]


@pytest.fixture(params=PROVIDERS)
def make_world(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    made: list[Any] = []
    emulators: list[Any] = []

    def build(root: Path, *, edit: dict[str, str] | None = None) -> Any:
        if request.param == "vdir":
            world: Any = VdirWorld(root, edit=edit)
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
        for emulator in emulators:
            emulator.stop()


@pytest.fixture
def world(make_world: Callable[..., Any], tmp_path: Path) -> Any:
    return make_world(tmp_path / "org")
