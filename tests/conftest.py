"""Shared test set-up: hypothesis profiles, the example org in a temporary folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def example_org_file(tmp_path: Path) -> Path:
    """The packaged example org file, copied to a fresh folder (its vdir calendars go there)."""
    target = tmp_path / "oneonone.toml"
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", target)
    return target
