"""A real headless browser: Debian's ``chromium`` driven by selenium through Debian's
``chromium-driver`` (no browser is downloaded; ``.ci/run`` installs both). Skipped with the
reason said when either is missing.

Each test gets its own browser with a fresh profile folder under its temp folder, started by
the chromedriver process selenium launches, and ended by ``quit()``; the driver process is then
killed by its own process id if it is somehow still there.
"""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import client, quarter, server  # noqa: F401 (fixtures)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One browser at a time on a two-core machine: every browser test on one worker."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "needs Debian's chromium and chromium-driver (apt-get install chromium "
            "chromium-driver; .ci/run installs them)"
        )
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    for flag in (
        "--headless",
        "--no-sandbox",  # as root (CI), chromium refuses to start sandboxed
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--no-default-browser-check",
        # No test touches the internet: every name but the test server's address fails.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.common.exceptions import WebDriverException

    service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException:
        # A loaded machine can make chromium miss chromedriver's start-up deadline: once more.
        _stop(service)
        service = Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "again.log"))
        driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        _stop(service)


def _stop(service: Any) -> None:
    """Kill the chromedriver this fixture started, by its process id, if it still runs."""
    process = getattr(service, "process", None)
    if process is not None and process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)


def console_errors(driver: Any, allowed: tuple[str, ...] = ()) -> list[str]:
    """The browser console's errors since the last call (``allowed``: substrings of
    messages that are expected, such as the status line of a refused save)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and not any(text in entry["message"] for text in allowed)
    ]
