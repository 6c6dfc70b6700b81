"""The contract suite's marker: ``requires`` (``suite.py``) skips by declared capability."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_capabilities(**values): run only for providers declaring these Capabilities",
    )
