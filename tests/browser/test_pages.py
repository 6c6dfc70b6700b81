"""The dashboard and the agenda page in a real headless chromium: every dashboard cell
checked against ``report --json``; an agenda edited (tick, add, save); a save from a stale
copy refused with nothing lost, then merged; the next week's agenda carrying the new item.
Screenshots go to the test's temp folder (``ONEONONE_DOCS_SCREENSHOT``: also copied there,
which is how the README's picture is made); the console must show no errors."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from scheduler.agenda.editor import version_of
from scheduler.cli import main
from scheduler.clientedits import decline_instance, exdate_instance, week_instance
from scheduler.dashboard import ALL
from scheduler.dashboard_io import issue_dashboard_token
from scheduler.server import RunningServer
from tests.browser.conftest import console_errors
from tests.system.helpers import series_file
from tests.web.conftest import ANA, MARCO, START, Quarter

SAM, DANA, RAJ, LUCIA = (f"{name}@acme.example" for name in ("sam", "dana", "raj", "lucia"))
DAY = "2027-01-05"


def report_json(quarter: Quarter) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "report",
                "--json",
                "--config",
                str(quarter.org.path),
                "--now",
                quarter.now.isoformat(),
            ]
        )
    assert code == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_every_dashboard_cell_is_the_reports_status(
    quarter: Quarter, server: RunningServer, browser: Any, tmp_path: Path
) -> None:
    calendars = quarter.folder / "data" / "calendars"
    monday = START.date()
    # People at work: a deleted week (the product books a make-up), a declined week.
    marco_sam = series_file(calendars / "marco", MARCO, SAM)
    exdate_instance(marco_sam, week_instance(marco_sam, monday + timedelta(weeks=1)))
    raj_copy = series_file(calendars / "raj", DANA, RAJ)
    decline_instance(raj_copy, week_instance(raj_copy, monday + timedelta(weeks=2)), RAJ)
    # Two 1:1s deleted after the week was over (too late for a make-up): a missed streak.
    dana_lucia = series_file(calendars / "dana", DANA, LUCIA)
    for week in (4, 5):
        quarter.run_until(START + timedelta(weeks=week, days=4))
        exdate_instance(dana_lucia, week_instance(dana_lucia, monday + timedelta(weeks=week)))
    quarter.run_until(START + timedelta(weeks=6))

    token = issue_dashboard_token(quarter.ledger, ALL, quarter.now)
    browser.get(f"{server.url}/dashboards/{token}")
    assert "1:1 adherence" in browser.title
    cells = browser.execute_script(
        "return Array.from(document.querySelectorAll('td[data-pair]')).map("
        "td => [td.dataset.pair, td.dataset.week, td.dataset.status])"
    )
    report = report_json(quarter)
    weeks = sorted({week for _, week, _ in cells})
    # The last 12 weeks and the horizon, both counting the current week.
    assert len(weeks) == 12 + quarter.org.schedule.horizon_weeks - 1
    assert len(cells) == len(report["pairs"]) * len(weeks)
    recorded = {
        (f"{p['manager']}/{p['rep']}", w["week"]): w["status"]
        for p in report["pairs"]
        for w in p["weeks"]
    }
    for pair, week, status in cells:
        assert status == recorded.get((pair, week), "none"), (pair, week)
    for (pair, week), status in recorded.items():
        if weeks[0] <= week <= weeks[-1]:
            assert [pair, week, status] in cells
    statuses = {status for _, _, status in cells}
    assert {"held", "close_week", "upcoming"} <= statuses
    assert statuses & {"made_up", "cancelled", "declined"}
    # The legend, the trend chart, no script anywhere.
    legend = browser.find_element(By.ID, "legend").text
    assert "close week (not counted)" in legend and "time off (not counted)" in legend
    assert browser.find_elements(By.CSS_SELECTOR, "svg#trend circle.dot")
    assert not browser.find_elements(By.TAG_NAME, "script")
    # The whole page in one picture: a viewport as tall as the page.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1400, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    shot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(shot))
    if os.environ.get("ONEONONE_DOCS_SCREENSHOT"):
        shutil.copy(shot, os.environ["ONEONONE_DOCS_SCREENSHOT"])
    assert console_errors(browser) == []

    # Printable: in print, the links are left out and the cells keep their colours and
    # marks; chromium prints it to a PDF.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.CSS_SELECTOR, "nav").is_displayed()
    held = browser.find_element(By.CSS_SELECTOR, 'td[data-status="held"]')
    assert held.value_of_css_property("background-color") == "rgba(0, 158, 115, 1)"
    assert held.value_of_css_property("print-color-adjust") == "exact"
    assert held.text == "✓"
    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"landscape": True})
    printed = base64.b64decode(pdf["data"])
    assert printed.startswith(b"%PDF")
    (tmp_path / "dashboard.pdf").write_bytes(printed)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert console_errors(browser) == []

    # The same data as JSON and CSV.
    with httpx.Client(base_url=server.url) as http:
        data = http.get(f"/dashboards/{token}.json").json()
        assert [p["rep"] for p in data["pairs"]] == [p["rep"] for p in report["pairs"]]
        csv_text = http.get(f"/dashboards/{token}.csv").text
        assert len(csv_text.strip().splitlines()) == 1 + len(cells)


def submit(browser: Any, button: str) -> None:
    """Click a form's button and wait for the page it leads to (a click does not wait)."""
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, button).click()
    WebDriverWait(browser, 30).until(lambda _driver: _replaced(old))
    WebDriverWait(browser, 30).until(
        lambda driver: driver.execute_script("return document.readyState") == "complete"
    )


def _replaced(element: Any) -> bool:
    """Whether ``element``'s page is gone (``expected_conditions.staleness_of``, and more)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        # While the old page is being replaced, chromium may answer with an inspector error
        # ("Node with given id does not belong to the document") instead of a stale reference
        # (CI met it once): the page is going, which is what is waited for.
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def items_on_page(browser: Any) -> list[tuple[str, bool]]:
    boxes = browser.find_elements(By.CSS_SELECTOR, "#items li")
    return [(li.text.strip(), li.find_element(By.NAME, "done").is_selected()) for li in boxes]


def test_an_agenda_edited_in_the_browser_and_a_stale_save_refused(
    quarter: Quarter, server: RunningServer, browser: Any, tmp_path: Path
) -> None:
    path = quarter.agenda_path(MARCO, ANA, DAY)
    url = server.url + quarter.agenda_address(MARCO, ANA, DAY)

    browser.get(url)
    browser.find_element(By.ID, "add-1").send_keys("Send the Globex proposal")
    browser.find_element(By.ID, "add-2").send_keys("Book a demo with Initech")
    browser.find_element(By.ID, "note").send_keys("Ana leads the Globex renewal.")
    submit(browser, "save-items")
    assert "Saved: version 2" in browser.find_element(By.ID, "saved").text
    assert items_on_page(browser) == [
        ("Send the Globex proposal", False),
        ("Book a demo with Initech", False),
    ]
    browser.find_elements(By.NAME, "done")[0].click()  # tick
    submit(browser, "save-items")
    assert "Saved: version 3" in browser.find_element(By.ID, "saved").text
    assert items_on_page(browser)[0] == ("Send the Globex proposal", True)
    text = path.read_text()
    assert "- [x] Send the Globex proposal\n- [ ] Book a demo with Initech" in text
    assert "Ana leads the Globex renewal." in text
    browser.save_screenshot(str(tmp_path / "agenda-saved.png"))
    assert console_errors(browser) == []

    # Marco saves from his own copy while Ana's page is open and stale.
    with httpx.Client(base_url=server.url) as http:
        theirs = text + "\nMarco: pricing approved.\n"
        answer = http.post(
            quarter.agenda_address(MARCO, ANA, DAY),
            data={"form": "text", "version": version_of(text), "text": theirs},
            headers={"Origin": server.url},
        )
        assert answer.status_code == 303
    browser.find_element(By.ID, "add-1").send_keys("Call Hooli about the renewal")
    submit(browser, "save-items")
    assert "your save was not made" in browser.find_element(By.ID, "conflict").text
    assert path.read_text() == theirs  # Marco's save stands
    assert "Marco: pricing approved." in browser.find_element(By.ID, "theirs").text
    assert "Call Hooli about the renewal" in browser.find_element(By.ID, "yours").text
    merged = browser.find_element(By.ID, "text").get_attribute("value")
    assert "Marco: pricing approved." in merged and "- [ ] Call Hooli about the renewal" in merged
    browser.save_screenshot(str(tmp_path / "agenda-conflict.png"))
    # A refused save is a 409, which chromium logs as a failed load: that one is expected.
    assert console_errors(browser, allowed=("409",)) == []
    submit(browser, "save-merged")
    assert "Saved: version" in browser.find_element(By.ID, "saved").text
    final = path.read_text()
    assert "Marco: pricing approved." in final and "Call Hooli about the renewal" in final
    kept = quarter.ledger.agenda_versions(f"{MARCO}/{ANA}/{DAY}.md")
    assert [v.text for v in kept][-2:] == [theirs, final]
    assert console_errors(browser) == []

    # The 1:1 takes place; the next week's agenda carries the open items.
    quarter.run_until(quarter.now + timedelta(days=7))
    docs = quarter.ledger.agenda_docs([f"{MARCO}/{ANA}"])[f"{MARCO}/{ANA}"]
    following = min(day for day in docs if day > DAY)
    browser.get(server.url + quarter.agenda_address(MARCO, ANA, following))
    carried = [text for text, _ in items_on_page(browser)]
    assert "Book a demo with Initech" in carried
    assert "Call Hooli about the renewal" in carried
    assert "Send the Globex proposal" not in carried  # done
    browser.save_screenshot(str(tmp_path / "agenda-next-week.png"))
    assert console_errors(browser) == []
