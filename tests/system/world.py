"""A test world: the example org on the embedded default, passes run in-process.

People's edits are made on the vdir files the way calendar clients make them
(``scheduler.clientedits``); ``statuses``/``report`` read the ledger back the way
``oneonone report --json`` does. Scenarios written against this class are provider-neutral:
a world on another provider offers the same methods.
"""

from __future__ import annotations

import email
import shutil
from datetime import datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

from scheduler.domain import makeup_uid, series_uid
from scheduler.orgfile import Org, load_org
from scheduler.report import build_report
from scheduler.store.ledger import Ledger
from scheduler.sync import PassResult, run_pass
from tests.system.helpers import REPO


class VdirWorld:
    def __init__(self, root: Path, *, edit: dict[str, str] | None = None) -> None:
        """The example org in ``root``, with each ``old: new`` of ``edit`` applied to it."""
        self.root = root
        self.config = root / "oneonone.toml"
        root.mkdir(parents=True, exist_ok=True)
        if edit is not None or not self.config.exists():
            text = (REPO / "scheduler" / "examples" / "oneonone.toml").read_text()
            for old, new in (edit or {}).items():
                assert old in text, old
                text = text.replace(old, new, 1)
            self.config.write_text(text)
        self.env: dict[str, str] = {}
        self.org: Org = load_org(self.config, env=self.env)
        self.ledger = Ledger(self.org.database_url)

    @classmethod
    def from_file(cls, config: Path) -> VdirWorld:
        """A world on an org file already written at ``config`` (named oneonone.toml)."""
        assert config.name == "oneonone.toml"
        return cls(config.parent)

    def close(self) -> None:
        self.ledger.close()

    def restart(self) -> None:
        """A new process: the org file and the ledger read afresh."""
        self.ledger.close()
        self.org = load_org(self.config, env=self.env)
        self.ledger = Ledger(self.org.database_url)

    # ------------------------------------------------------------------ passes

    def sync(self, now: datetime, **options: Any) -> PassResult:
        result = run_pass(self.org, self.ledger, now, apply=True, env=self.env, **options)
        assert not result.safety, result.safety
        return result

    def plan(self, now: datetime) -> PassResult:
        return run_pass(self.org, self.ledger, now, apply=False, env=self.env)

    # ------------------------------------------------------------------ calendars

    def folder(self, person: str) -> Path:
        path = self.org.calendars[self.email(person)].path
        assert path is not None
        return path

    def email(self, person: str) -> str:
        return person if "@" in person else f"{person}@acme.example"

    def series(self, owner: str, manager: str, rep: str) -> Path:
        return self.folder(owner) / f"{series_uid(self.email(manager), self.email(rep))}.ics"

    def makeup(self, owner: str, manager: str, rep: str, week: str) -> Path:
        uid = makeup_uid(self.email(manager), self.email(rep), week)
        return self.folder(owner) / f"{uid}.ics"

    # ------------------------------------------------------------------ the ledger

    def report(self, now: datetime, weeks: int = 20) -> dict[str, Any]:
        return build_report(self.org, self.ledger, now, weeks)

    def pair(self, now: datetime, manager: str, rep: str) -> dict[str, Any]:
        report = self.report(now)
        return next(
            p
            for p in report["pairs"]
            if p["manager"] == self.email(manager) and p["rep"] == self.email(rep)
        )

    def statuses(self, now: datetime, manager: str, rep: str) -> dict[str, str]:
        return {w["week"]: w["status"] for w in self.pair(now, manager, rep)["weeks"]}

    def outbox(self) -> list[Message]:
        folder = self.org.data_dir / "outbox"
        if not folder.exists():
            return []
        return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]

    def notices(self, kind: str | None = None) -> list[dict[str, Any]]:
        report = self.report(datetime(2000, 1, 1).astimezone())
        return [n for n in report["notices"] if kind is None or n["kind"] == kind]


def copy_example(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", target / "oneonone.toml")
    return target / "oneonone.toml"


def hours(count: float) -> timedelta:
    return timedelta(hours=count)
