"""Two replicas on one PostgreSQL ledger serve the same agenda pages and dashboards: a save
made through one is what the other shows, and a stale save through the other is refused."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scheduler.agenda.editor import version_of
from scheduler.dashboard import ALL
from scheduler.dashboard_io import issue_dashboard_token
from scheduler.orgfile import load_org
from scheduler.server import App, RunningServer, ServerState, start_server
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.system.helpers import REPO
from tests.web.conftest import ANA, MARCO, START

pytestmark = pytest.mark.postgres

DAY = "2027-01-05"


@pytest.fixture
def replicas(tmp_path: Path, postgres_url: str) -> Iterator[tuple[str, str, Ledger]]:
    config = tmp_path / "oneonone.toml"
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", config)
    org = load_org(config, env={"ONEONONE_DATABASE_URL": postgres_url})
    ledger = Ledger(org.database_url)
    assert ledger.shared
    assert not run_pass(org, ledger, START, apply=True).safety
    running: list[tuple[RunningServer, Ledger]] = []
    try:
        for _ in range(2):
            served = Ledger(org.database_url)
            state = ServerState(org, served, lambda: START)
            running.append((start_server(App(state), "127.0.0.1", 0), served))
        yield running[0][0].url, running[1][0].url, ledger
    finally:
        for server, served in running:
            server.stop()
            served.close()
        ledger.close()


def test_replicas_share_agenda_saves_and_dashboards(replicas: tuple[str, str, Ledger]) -> None:
    first, second, ledger = replicas
    doc = ledger.agenda_docs([f"{MARCO}/{ANA}"])[f"{MARCO}/{ANA}"][DAY]
    assert doc.url is not None
    path = "/" + doc.url.split("/", 3)[3]
    ref = f"{MARCO}/{ANA}/{DAY}.md"
    original = ledger.agenda_text(ref)
    assert original is not None
    with httpx.Client(base_url=first) as one, httpx.Client(base_url=second) as two:
        stale = re.findall(r'name="version" value="([0-9a-f]+)"', two.get(path).text)[0]
        assert stale == version_of(original)
        saved = one.post(
            path,
            data={"form": "items", "version": stale, "add": "Send the Globex proposal"},
            headers={"Origin": first},
        )
        assert saved.status_code == 303
        assert "Send the Globex proposal" in two.get(path).text  # the other replica shows it
        refused = two.post(
            path,
            data={"form": "items", "version": stale, "add": "Book the Initech demo"},
            headers={"Origin": second},
        )
        assert refused.status_code == 409
        text = ledger.agenda_text(ref)
        assert text is not None
        assert "Send the Globex proposal" in text and "Initech" not in text
        assert [v.source for v in ledger.agenda_versions(ref)] == ["earlier", "web"]

        token = issue_dashboard_token(ledger, ALL, START)
        a, b = one.get(f"/dashboards/{token}.json"), two.get(f"/dashboards/{token}.json")
        assert a.status_code == b.status_code == 200 and a.json() == b.json()
