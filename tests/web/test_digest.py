"""The weekly digest carries the manager's heatmap (an HTML part with inline SVG, a
plain-text fallback) and a link of its own to their dashboard."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import httpx
import pytest

from scheduler.cli import main
from tests.web.conftest import MARCO, START, Quarter


def digests_to(quarter: Quarter, who: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((quarter.org.data_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        if str(message["Subject"]).startswith("Your 1:1s: digest") and who in str(message["To"]):
            found.append(message)
    return found


def test_the_digest_shows_the_heatmap_and_links_the_dashboard(
    quarter: Quarter, client: httpx.Client, capsys: pytest.CaptureFixture[str]
) -> None:
    quarter.run_until(START + timedelta(weeks=2))
    found = digests_to(quarter, MARCO)
    assert [str(m["Subject"]) for m in found] == [
        "Your 1:1s: digest of 2027-W01",
        "Your 1:1s: digest of 2027-W02",
    ]
    digest = found[-1]
    assert digest.get_content_type() == "multipart/alternative"
    plain = digest.get_body(("plain",))
    rich = digest.get_body(("html",))
    assert plain is not None and rich is not None
    text, page = plain.get_content(), rich.get_content()
    assert "<svg" in page and "<rect" in page and "2027-W01: held" in page
    assert re.search(r"Ana Alvarez\s+-+✓", text), text
    assert "✓ held" in text and "C close week (not counted)" in text
    links = re.findall(r"http://127\.0\.0\.1:8321(/dashboards/[A-Za-z0-9_-]+)", text)
    assert len(links) == 1 and links[0] in page
    # Each digest has a link of its own.
    older = found[0].get_body(("plain",))
    assert older is not None and links[0] not in older.get_content()
    # The link opens Marco's part of the org, and only that.
    shown = client.get(links[0])
    assert shown.status_code == 200
    pairs = set(re.findall(r'<td class="cell[^"]*" data-pair="([^"]+)"', shown.text))
    assert pairs == {f"{MARCO}/{rep}@acme.example" for rep in ("ana", "liam", "sam")}
    # Rotating Marco's dashboard revokes the links in his digests too.
    assert main(["dashboard", "rotate", MARCO, "--config", str(quarter.org.path)]) == 0
    assert "digests sent to" in capsys.readouterr().err
    assert client.get(links[0]).status_code == 404
