"""Nudges, escalations and digests through a real SMTP server (aiosmtpd on 127.0.0.1).

Marco's 1:1s with Ana (Tuesdays 10:00, New York) on the example org; Vera is the skip-level.
Make-ups are off here so a declined week stays declined. January's close window is W04,
February's W08 (last business day Fri 26 Feb).
"""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from scheduler.metrics import REGISTRY
from tests.notify.servers import HOST, Recorder, free_port, serve_webhook
from tests.system.world import VdirWorld

NY = ZoneInfo("America/New_York")
ANA = "ana@acme.example"
MARCO = "marco@acme.example"
VERA = "vera@acme.example"


def _monday(week: int) -> datetime:
    return datetime(2027, 1, 4, 8, 0, tzinfo=NY) + timedelta(weeks=week - 1)


def _tuesday_10(week: int) -> datetime:
    return datetime(2027, 1, 5, 10, 0, tzinfo=NY) + timedelta(weeks=week - 1)


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname=HOST, port=port, ready_timeout=5)
    controller.start()
    try:
        yield recorder, port
    finally:
        controller.stop()


def _smtp_org(make_world: Callable[..., Any], tmp_path: Path, port: int) -> Any:
    return make_world(
        tmp_path / "org",
        edit={
            'host = ""': f'host = "{HOST}"',
            "port = 587": f"port = {port}",
            "starttls = true": "starttls = false",
            "makeup = true": "makeup = false",
            # No agendas, so no prep notices: these tests count nudges and escalations.
            "agenda_lead_hours = 72": "agenda_lead_hours = 0",
        },
    )


def _mails(recorder: Recorder) -> list[tuple[Message, list[str]]]:
    return [(email.message_from_bytes(m.content), m.rcpt_tos) for m in recorder.messages]


def _about_ana(recorder: Recorder, words: str) -> list[tuple[Message, list[str]]]:
    return [
        (m, to)
        for m, to in _mails(recorder)
        if words in str(m["Subject"]) and "Ana" in str(m["Subject"])
    ]


def test_nudges_and_escalations_reach_the_right_people_once(
    make_world: Callable[..., Any], tmp_path: Path, smtp: tuple[Recorder, int]
) -> None:
    recorder, port = smtp
    world = _smtp_org(make_world, tmp_path, port)
    try:
        world.sync(_monday(1))
        world.decline_instance("ana", "marco", "ana", _tuesday_10(3))
        world.decline_instance("ana", "marco", "ana", _tuesday_10(5))
        for week in range(2, 6):
            world.sync(_monday(week))
        # W03 declined, then the close week W04: one miss, no escalation yet.
        assert world.statuses(_monday(5), "marco", "ana")["2027-W04"] == "close_week"
        nudges = _about_ana(recorder, "did not happen")
        assert [sorted(to) for _, to in nudges] == [[ANA, MARCO]]
        assert "2027-W03" in str(nudges[0][0]["Subject"])
        assert _about_ana(recorder, "in a row") == []

        before = REGISTRY.get_sample_value("oneonone_notices_sent_total", {"kind": "escalation"})
        world.sync(_monday(6))
        after = REGISTRY.get_sample_value("oneonone_notices_sent_total", {"kind": "escalation"})
        assert (after or 0) - (before or 0) == 1  # counted in /metrics as it went out
        # W05 declined too: two in a row, the close week neither counted nor broke the streak.
        escalations = _about_ana(recorder, "in a row")
        assert len(escalations) == 1
        message, envelope = escalations[0]
        assert sorted(envelope) == [MARCO, VERA]
        assert VERA in str(message["To"]) and MARCO in str(message["Cc"])
        parts = {part.get_content_type(): part for part in message.walk()}
        text = parts["text/plain"].get_payload(decode=True).decode()
        html = parts["text/html"].get_payload(decode=True).decode()
        for week in ("2027-W03", "2027-W04", "2027-W05"):
            assert week in text and week in html
        assert "<table" in html and "declined" in text

        # A second pass and a restarted process send nothing new.
        count = len(recorder.messages)
        world.sync(_monday(6) + timedelta(minutes=5))
        world.restart()
        world.sync(_monday(6) + timedelta(minutes=10))
        assert len(recorder.messages) == count

        # W06 held; then a fresh streak (W07, with the window of 6 holding 3 misses)
        # escalates again.
        world.decline_instance("ana", "marco", "ana", _tuesday_10(7))
        world.sync(_monday(7))
        assert len([to for _, to in _about_ana(recorder, "") if VERA in to]) == 1
        world.sync(_monday(8))
        escalated = [n for n in world.notices("escalation") if n["rep"] == ANA]
        assert sorted({n["week"] for n in escalated}) == ["2027-W03", "2027-W07"]
        assert {n["to"] for n in escalated} == {VERA, MARCO}
        assert all(n["sent_at"] for n in world.notices())
        # Each message went out once.
        ids = [str(m["Message-ID"]) for m, _ in _mails(recorder)]
        assert len(ids) == len(set(ids))
        # Weekly digests: to each manager who has a skip-level (Marco, Dana), never to Vera.
        digests = world.notices("digest")
        assert {n["to"] for n in digests} == {MARCO, "dana@acme.example"}
    finally:
        world.close()


class _Stalling(Recorder):
    """Stalls the first message in DATA until released, then refuses it (as a server whose
    client died mid-transfer would never have accepted it)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        #: the stalled DATA is over: refused, or dropped with its connection
        self.over = threading.Event()
        self.stalled = False

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if not self.stalled:
            self.stalled = True
            self.entered.set()
            try:
                while not self.release.is_set():
                    await asyncio.sleep(0.05)
            finally:
                self.over.set()
            return "451 the client went away"
        return await super().handle_DATA(server, session, envelope)


def test_a_pass_killed_between_deciding_and_sending_sends_each_notice_exactly_once(
    make_world: Callable[..., Any], tmp_path: Path
) -> None:
    recorder = _Stalling()
    port = free_port()
    controller = Controller(recorder, hostname=HOST, port=port, ready_timeout=5)
    controller.start()
    world = _smtp_org(make_world, tmp_path, port)
    try:
        world.sync(_monday(1))
        world.decline_instance("ana", "marco", "ana", _tuesday_10(2))
        world.close()
        command = [
            sys.executable,
            "-m",
            "scheduler",
            "sync",
            "--config",
            str(world.config),
            "--now",
            _monday(3).isoformat(),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONEONONE_")}
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert recorder.entered.wait(60), "the pass never reached the SMTP server"
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        recorder.release.set()
        assert recorder.over.wait(10), "the server is still in the stalled message"
        assert recorder.messages == []
        world.restart()
        decided = {n["kind"] for n in world.notices()}
        assert "nudge" in decided  # decided and recorded by the killed pass ...
        assert all(n["sent_at"] is None for n in world.notices())
        world.sync(_monday(3))  # ... and sent by the next one
        ids = [str(m["Message-ID"]) for m, _ in _mails(recorder)]
        assert len(ids) == len(set(ids))
        assert all(n["sent_at"] for n in world.notices())
        nudges = _about_ana(recorder, "did not happen")
        assert len(nudges) == 1 and sorted(nudges[0][1]) == [ANA, MARCO]
        world.sync(_monday(3) + timedelta(minutes=5))
        assert len(recorder.messages) == len(ids)
    finally:
        world.close()
        controller.stop()


def test_nudges_and_escalations_also_go_to_slack_once(
    make_world: Callable[..., Any], tmp_path: Path
) -> None:
    with serve_webhook() as slack:
        world = make_world(
            tmp_path / "org",
            edit={
                'webhook_url_env = ""': 'webhook_url_env = "ACME_SLACK_URL"',
                "makeup = true": "makeup = false",
            },
        )
        world.env["ACME_SLACK_URL"] = slack.url("/services/T0/B0/OKSECRET")
        try:
            world.sync(_monday(1))
            world.decline_instance("ana", "marco", "ana", _tuesday_10(2))
            world.decline_instance("ana", "marco", "ana", _tuesday_10(3))
            world.sync(_monday(3))
            world.sync(_monday(4))
            world.restart()
            world.env["ACME_SLACK_URL"] = slack.url("/services/T0/B0/OKSECRET")
            world.sync(_monday(4) + timedelta(minutes=5))
            texts = [body["text"] for body in slack.bodies]
            assert len(texts) == len(set(texts)) == 3  # two nudges, one escalation
            assert sum("2 missed 1:1s in a row" in text for text in texts) == 1
            assert all("Ana" in text for text in texts)
            assert len(world.outbox()) >= 3  # the mail went to the outbox folder as well
        finally:
            world.close()


def test_check_names_a_missing_smtp_password_variable(tmp_path: Path) -> None:
    from tests.system.helpers import oneonone

    world = VdirWorld(
        tmp_path / "org",
        edit={'host = ""': 'host = "mail.acme.example"', 'username = ""': 'username = "ops"'},
    )
    world.close()
    done = oneonone(world.config, "check")
    assert done.returncode == 1
    assert "ONEONONE_SMTP_PASSWORD" in done.stderr and "Traceback" not in done.stderr
