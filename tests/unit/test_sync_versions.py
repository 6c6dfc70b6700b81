"""Which of the product's own earlier versions of a series may still be on a calendar."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

from scheduler.engine.observe import lagging as _lagging
from scheduler.engine.series import superseded as _superseded
from scheduler.store.ledger import SeriesRecord

NOW = datetime(2027, 1, 4, tzinfo=UTC)
ANCHOR = SeriesRecord(
    pair_key="m@x/r@x",
    uid="oneonone-1",
    organizer="m@x",
    dtstart=NOW,
    weekday=0,
    at_time=time(10),
    timezone="UTC",
    duration=timedelta(minutes=30),
    until=None,
    sequence=0,
    fingerprint="v1",
    dtstamp=NOW,
    created_at=NOW,
    updated_at=NOW,
)


def test_a_written_version_is_the_only_one_superseded() -> None:
    assert _superseded(ANCHOR) == "v1"


def test_versions_of_several_killed_passes_all_stay_recognisable() -> None:
    # pass 1 decided v2 and was killed before writing: files may hold v1 or v2
    second = replace(
        ANCHOR, fingerprint="v2", previous_fingerprint=_superseded(ANCHOR), pending=True
    )
    assert _lagging(second) == {"v1"}
    # pass 2 saw a changed world, decided v3 and was killed too: files may hold v1, v2 or v3
    third = replace(
        second, fingerprint="v3", previous_fingerprint=_superseded(second), pending=True
    )
    assert _lagging(third) == {"v1", "v2"}


def test_nothing_lags_for_a_brand_new_series() -> None:
    assert _superseded(replace(ANCHOR, fingerprint="")) is None
