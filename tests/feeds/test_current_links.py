"""Links are built from the ``public_url`` in force when they are used: a feed served, a
calendar written, an agenda page shown, a report printed. Before, each kept the host that
was configured when it was first written, so after a TLS proxy was put in front feeds mixed
both hosts and "Previous agenda" pointed at the old one."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from scheduler.feeds import build_feed, current_link, current_links_in_text
from scheduler.orgfile import Org, load_org
from scheduler.report import build_report
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass
from tests.feeds.conftest import START, copy_example

NEW = "https://oneonone.acme.example"
LINK = re.compile(rb"https?://[^/\s]+/agendas/")


def moved(org: Org) -> Org:
    return replace(org, server=replace(org.server, public_url=NEW))


def hosts(data: bytes) -> set[bytes]:
    unfolded = data.replace(b"\r\n ", b"")
    return {found.group(0) for found in LINK.finditer(unfolded)}


def test_feeds_calendars_and_reports_use_the_current_public_url(tmp_path: Path) -> None:
    org = load_org(copy_example(tmp_path))
    ledger = Ledger(org.database_url)
    for day in range(0, 9, 4):
        run_pass(org, ledger, START + timedelta(days=day), apply=True)
    old = org.server.public_url
    emails = list(org.people)
    assert any(hosts(build_feed(org, ledger, e).body) for e in emails), "agendas are linked"
    org = moved(org)
    for email in emails:
        assert hosts(build_feed(org, ledger, email).body) <= {f"{NEW}/agendas/".encode()}
    run_pass(org, ledger, START + timedelta(days=15), apply=True)
    for path in (tmp_path / "data" / "calendars").glob("*/oneonone-*.ics"):
        assert old.encode() not in path.read_bytes().replace(b"\r\n ", b""), path
    report = build_report(org, ledger, START + timedelta(days=15), 4)
    agendas = [w["agenda"] for p in report["pairs"] for w in p["weeks"] if w["agenda"]]
    assert agendas and all(a.startswith(NEW) for a in agendas if "/agendas/" in a)


def test_a_stored_link_of_any_host_is_rebased_and_other_links_are_left_alone(
    tmp_path: Path,
) -> None:
    org = moved(load_org(copy_example(tmp_path)))
    token = "0123456789abcdef0123456789abcdef"
    path = f"/agendas/{token}/marco@acme.example/ana@acme.example/2027-01-12"
    assert current_link(org, f"http://0.0.0.0:8321{path}") == NEW + path
    assert current_link(org, path) == NEW + path
    google = "https://docs.google.com/document/d/abc/edit"
    assert current_link(org, google) == google
    text = f"Previous agenda: http://127.0.0.1:8321{path}\n\nSee {google}"
    assert current_links_in_text(org, text) == f"Previous agenda: {NEW}{path}\n\nSee {google}"
