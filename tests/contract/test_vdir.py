"""The vdir provider through the contract suite, bare and as the pass wraps it (metrics).

People edit the files as their clients do (``scheduler.clientedits``): a moved week is a
RECURRENCE-ID override in the file, a deleted series a removed file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from scheduler import clientedits
from scheduler.metrics import instrumented
from scheduler.providers.vdir import VdirProvider, uid_filename
from tests.contract import files
from tests.contract.suite import ContractCalendar, ProviderContract

pytestmark = pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")


class VdirCalendar(ContractCalendar):
    """``person``'s vdir folder; ``wrapped``: the provider counted in metrics, as the pass
    makes it (``scheduler.engine.snapshot.make_provider``)."""

    def __init__(self, folder: Path, *, wrapped: bool) -> None:
        self.folder = folder
        bare = VdirProvider(folder, self.person.zone)
        self.provider = instrumented(bare) if wrapped else bare

    def add_event(
        self,
        uid: str,
        start: datetime,
        end: datetime,
        *,
        transparent: bool = False,
        cancelled: bool = False,
    ) -> None:
        files.write_event(
            self.folder, uid, start, end, transparent=transparent, cancelled=cancelled
        )

    def add_meeting(self, uid: str, start: datetime, end: datetime, *, weekly: bool) -> None:
        files.write_meeting(
            self.folder, uid, start, end, self.person.email, self.other.email, weekly=weekly
        )

    def move_instance(self, uid: str, rid: datetime, new_start: datetime) -> None:
        clientedits.move_instance(self.folder / uid_filename(uid), rid, new_start)

    def delete_object(self, uid: str) -> None:
        (self.folder / uid_filename(uid)).unlink()


class TestVdirContract(ProviderContract):
    @pytest.fixture(params=["bare", "instrumented"])
    def cal(self, request: pytest.FixtureRequest, tmp_path: Path) -> ContractCalendar:
        folder = tmp_path / "cal" / "mia"
        folder.mkdir(parents=True)
        return VdirCalendar(folder, wrapped=request.param == "instrumented")
