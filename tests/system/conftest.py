"""The system tests' world: the example org on each provider (``make_world`` lives in
``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def world(make_world: Callable[..., Any], tmp_path: Path) -> Any:
    return make_world(tmp_path / "org")
