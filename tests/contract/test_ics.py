"""The ics provider (a published feed, read-only) through the contract suite.

The person's calendar is a folder of their objects that their calendar app publishes as one
feed file; each change publishes it again. The product's own 1:1 gets into the feed the way
it does in life: the person imported their oneonone feed, and their calendar publishes it with
the rest. The provider reads the feed from the file, keeping its last good copy in a cache.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from scheduler import ical
from scheduler.domain.series import SeriesSpec
from scheduler.providers.ics import IcsProvider
from scheduler.providers.vdir import uid_filename
from tests.contract import files
from tests.contract.suite import STAMP, ContractCalendar, ProviderContract

pytestmark = pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")


class IcsCalendar(ContractCalendar):
    def __init__(self, root: Path) -> None:
        self.objects = root / "published"
        self.objects.mkdir(parents=True)
        self.feed = root / "feed.ics"
        self.provider = IcsProvider(self.feed, root / "cache", self.person.zone)
        self._publish()

    def _publish(self) -> None:
        self.feed.write_bytes(files.publish(self.objects))

    def put_product_object(self, spec: SeriesSpec) -> None:
        (self.objects / uid_filename(spec.uid)).write_bytes(ical.render(spec, STAMP))
        self._publish()

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
            self.objects, uid, start, end, transparent=transparent, cancelled=cancelled
        )
        self._publish()

    def add_meeting(self, uid: str, start: datetime, end: datetime, *, weekly: bool) -> None:
        files.write_meeting(
            self.objects, uid, start, end, self.person.email, self.other.email, weekly=weekly
        )
        self._publish()


class TestIcsContract(ProviderContract):
    @pytest.fixture
    def cal(self, tmp_path: Path) -> ContractCalendar:
        return IcsCalendar(tmp_path / "ics")
