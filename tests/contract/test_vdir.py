"""The vdir provider through the contract suite, bare and as the pass wraps it (metrics).

People edit the files as their clients do (``scheduler.clientedits``): a moved week is a
RECURRENCE-ID override in the file, a deleted series a removed file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from scheduler import clientedits
from scheduler.errors import ConflictError
from scheduler.metrics import REGISTRY, instrumented
from scheduler.providers.base import WriteJob, Written
from scheduler.providers.vdir import VdirProvider, uid_filename
from tests.contract import files
from tests.contract.suite import STAMP, ContractCalendar, ProviderContract, series

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


def _counted(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_metrics_count_each_batched_write_and_each_one_that_failed(tmp_path: Path) -> None:
    """The pass's writes all go through ``write_many``: each job is one ``write`` in
    ``oneonone_provider_requests`` and each refused one an error (the wrapper once counted
    none of them)."""
    folder = tmp_path / "cal" / "mia"
    folder.mkdir(parents=True)
    cal = VdirCalendar(folder, wrapped=True)
    writes = {"provider": "vdir", "operation": "write"}
    errors = {"provider": "vdir"}
    before = (
        _counted("oneonone_provider_requests_total", writes),
        _counted("oneonone_provider_errors_total", errors),
    )
    first = [WriteJob(series(cal, n), cal.person, STAMP, None) for n in range(2)]
    assert all(isinstance(o, Written) for o in cal.provider.write_many(first))
    # Three more: one new, two creates where an object now is (conflicts).
    again = [WriteJob(series(cal, n), cal.person, STAMP, None) for n in range(3)]
    outcomes = cal.provider.write_many(again)
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 2
    assert _counted("oneonone_provider_requests_total", writes) == before[0] + 5
    assert _counted("oneonone_provider_errors_total", errors) == before[1] + 2
