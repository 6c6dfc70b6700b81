"""The vdir provider: reading a folder of .ics files, atomic idempotent writes, khal, hostile files.

The corpus test reads every real-world file under ``../shared/data/ics-corpus`` (relative to the
repository; skipped where absent) through the provider; the generated broken cases below cover
the same ground on machines without it.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler import ical
from scheduler.domain import Person
from scheduler.domain.series import InstanceOverride, SeriesSpec, utc
from scheduler.errors import CalendarError
from scheduler.providers import vdir
from scheduler.providers.base import write_one
from scheduler.providers.vdir import VdirProvider, uid_filename
from tests.ics_text import calendar, vevent
from tests.system.helpers import khal_list

# Production silences this icalendar warning at import (scheduler.ical); pytest resets the
# warning filters per test, so the tests say it again.
pytestmark = pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")

NY = ZoneInfo("America/New_York")
STAMP = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2027, 1, 8, 8, 0, tzinfo=UTC)
MIA = Person("mia@example.com", "Mia Manager", "America/New_York")
ANA = Person("ana@example.com", "Ana Rep", "America/New_York")
WINDOW = (datetime(2027, 1, 4, tzinfo=NY), datetime(2027, 1, 11, tzinfo=NY))
CORPUS = Path(__file__).parents[2].parent / "shared" / "data" / "ics-corpus"
#: Seconds one read of one corpus file may take; the slowest real file takes well under one.
READ_BUDGET = 5.0


def make_spec(**changes: object) -> SeriesSpec:
    spec = SeriesSpec(
        uid="oneonone-test-series",
        pair_key=f"{MIA.email}/{ANA.email}",
        summary="1:1 Mia / Ana",
        description="Weekly 1:1",
        organizer_email=MIA.email,
        organizer_name=MIA.name,
        attendee_email=ANA.email,
        attendee_name=ANA.name,
        dtstart=datetime(2027, 1, 5, 10, 0, tzinfo=NY),
        duration=timedelta(minutes=30),
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def version_of(provider: VdirProvider, uid: str) -> str | None:
    """The version of the file holding ``uid`` now, as a read would give it."""
    if not provider.path.is_dir():
        return None
    found = provider._find(uid)
    return found[2] if found is not None else None


def put(provider: VdirProvider, spec: SeriesSpec, owner: Person, dtstamp: datetime) -> bool:
    """Write conditional on whatever the folder holds now (as a pass does right after its
    read); whether it changed anything."""
    expect = version_of(provider, spec.uid)
    return write_one(provider, spec, owner, dtstamp=dtstamp, expect=expect).changed


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "cal" / "mia"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def provider(folder: Path) -> VdirProvider:
    return VdirProvider(folder, NY)


def tue(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2027, month, day, hour, tzinfo=NY)


# --------------------------------------------------------------------------- reading


def test_read_sorts_owned_series_adoption_candidates_and_busy_time(
    provider: VdirProvider, folder: Path
) -> None:
    put(provider, make_spec(), MIA, STAMP)
    (folder / "apple-1.ics").write_bytes(
        calendar(
            vevent(
                "weekly-with-ana",
                ";TZID=America/New_York:20261201T150000",
                ";TZID=America/New_York:20261201T153000",
                "RRULE:FREQ=WEEKLY",
                "ORGANIZER:mailto:mia@example.com",
                "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ana@example.com",
            )
        )
    )
    (folder / "standup.ics").write_bytes(
        calendar(
            vevent(
                "team-standup",
                ";TZID=America/New_York:20261201T090000",
                ";TZID=America/New_York:20261201T091500",
                "RRULE:FREQ=WEEKLY;BYDAY=MO",
                "ORGANIZER:mailto:mia@example.com",
                "ATTENDEE:mailto:ana@example.com",
                "ATTENDEE:mailto:bob@example.com",
            )
        )
    )
    read = provider.read(MIA, *WINDOW)
    assert read.object_count == 3
    assert read.problems == []
    assert set(read.owned) == {"oneonone-test-series"}
    assert read.owned["oneonone-test-series"].href == str(folder / "oneonone-test-series.ics")
    assert [c.uid for c in read.weekly_candidates] == ["weekly-with-ana"]
    # The product's own series is never busy time; the standup is. The candidate's busy time
    # is kept aside: if it is adopted it is the 1:1 itself, else the pass adds it back.
    assert sorted(read.busy) == [
        (datetime(2027, 1, 4, 9, tzinfo=NY), datetime(2027, 1, 4, 9, 15, tzinfo=NY)),
    ]
    assert read.candidate_busy == {
        "weekly-with-ana": [(tue(1, 5, 15), datetime(2027, 1, 5, 15, 30, tzinfo=NY))]
    }


def test_both_copies_of_a_series_share_the_texts_they_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read memo keeps what every copy gave; the e-mail addresses, answers and
    descriptions the two copies of a series repeat are one object each (issue 17: memory at
    10,000 pairs), whether a copy was known from its write or parsed from its file."""
    mia = VdirProvider(tmp_path / "mia", NY)
    ana = VdirProvider(tmp_path / "ana", NY)
    spec = make_spec(
        overrides=(
            InstanceOverride(
                tue(1, 12),
                tue(1, 13, 11),
                tue(1, 13, 11) + timedelta(minutes=30),
                description="Moved for the QBR",
            ),
        )
    )
    assert put(mia, spec, MIA, STAMP) and put(ana, spec, ANA, STAMP)
    for parsed in (False, True):
        if parsed:  # a new process: both files are parsed
            monkeypatch.setattr(vdir, "_MEMO", vdir.Memo(vdir.MEMO_BYTES))
        mine = mia.read(MIA, *WINDOW).owned[spec.uid]
        theirs = ana.read(ANA, *WINDOW).owned[spec.uid]
        assert mine.organizer is theirs.organizer is not None
        assert mine.pair_key is theirs.pair_key
        pairs = zip(sorted(mine.partstats.items()), sorted(theirs.partstats.items()), strict=True)
        for (email, answer), (same_email, same_answer) in pairs:
            assert email is same_email and answer is same_answer
        [override] = mine.overrides.values()
        [same] = theirs.overrides.values()
        assert override.description == "Moved for the QBR"
        assert override.description is same.description


def test_read_skips_transparent_cancelled_declined_and_collects_all_day_out_days(
    provider: VdirProvider, folder: Path
) -> None:
    slot = (";TZID=America/New_York:20270106T130000", ";TZID=America/New_York:20270106T140000")
    (folder / "t.ics").write_bytes(calendar(vevent("t", *slot, "TRANSP:TRANSPARENT")))
    (folder / "c.ics").write_bytes(calendar(vevent("c", *slot, "STATUS:CANCELLED")))
    (folder / "d.ics").write_bytes(
        calendar(vevent("d", *slot, "ATTENDEE;PARTSTAT=DECLINED:mailto:mia@example.com"))
    )
    (folder / "v.ics").write_bytes(
        calendar(vevent("v", ";VALUE=DATE:20270107", ";VALUE=DATE:20270109"))
    )
    read = provider.read(MIA, *WINDOW)
    assert read.busy == []
    assert read.out_days == {date(2027, 1, 7), date(2027, 1, 8)}
    assert read.object_count == 4


def test_read_treats_a_product_uid_that_lost_its_tag_as_owned_not_busy(
    provider: VdirProvider, folder: Path
) -> None:
    data = ical.render(make_spec(), STAMP)
    stripped = b"\r\n".join(
        line for line in data.split(b"\r\n") if not line.startswith(b"X-ONEONONE-")
    )
    (folder / "copy.ics").write_bytes(stripped)
    read = provider.read(ANA, *WINDOW)
    assert read.busy == []
    assert read.owned["oneonone-test-series"].pair_key is None


def test_read_ignores_dotfiles_temp_files_and_other_extensions(
    provider: VdirProvider, folder: Path
) -> None:
    busy = calendar(vevent("b", ":20270105T150000Z", ":20270105T160000Z"))
    (folder / ".hidden.ics").write_bytes(busy)
    (folder / ".oneonone-x.tmp").write_bytes(busy)
    (folder / "notes.txt").write_bytes(busy)
    (folder / "sub.ics").mkdir()
    read = provider.read(MIA, *WINDOW)
    assert read.object_count == 0
    assert read.busy == []


def test_read_reports_an_unreadable_file_and_keeps_reading_the_rest(
    provider: VdirProvider, folder: Path
) -> None:
    (folder / "a-broken.ics").write_bytes(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTA")
    (folder / "b-fine.ics").write_bytes(
        calendar(vevent("b", ":20270105T150000Z", ":20270105T160000Z"))
    )
    read = provider.read(MIA, *WINDOW)
    assert read.object_count == 2
    assert len(read.busy) == 1
    assert read.problems == [
        f"{folder / 'a-broken.ics'}: cannot read calendar object: "
        "no complete VCALENDAR (the file may be truncated)."
    ]


def test_read_of_a_missing_folder_raises_a_calendar_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(CalendarError, match=str(missing)):
        VdirProvider(missing, NY).read(MIA, *WINDOW)


def test_read_reports_two_files_holding_the_same_product_uid(
    provider: VdirProvider, folder: Path
) -> None:
    put(provider, make_spec(), MIA, STAMP)
    shutil.copy(folder / "oneonone-test-series.ics", folder / "z-copy.ics")
    read = provider.read(MIA, *WINDOW)
    assert len(read.owned) == 1
    assert len(read.problems) == 1
    assert "oneonone-test-series" in read.problems[0]


# --------------------------------------------------------------------------- writing


def test_write_is_atomic_and_a_second_identical_write_changes_nothing(
    provider: VdirProvider, folder: Path
) -> None:
    assert put(provider, make_spec(), MIA, STAMP) is True
    target = folder / "oneonone-test-series.ics"
    first = target.read_bytes()
    assert first == ical.render(make_spec(), STAMP)
    assert sorted(p.name for p in folder.iterdir()) == ["oneonone-test-series.ics"]
    # A later pass with the same spec: not rewritten, not even to bump DTSTAMP.
    assert put(provider, make_spec(), MIA, LATER) is False
    assert target.read_bytes() == first
    assert sorted(p.name for p in folder.iterdir()) == ["oneonone-test-series.ics"]


def test_write_rewrites_when_the_spec_or_the_sequence_changes(
    provider: VdirProvider, folder: Path
) -> None:
    put(provider, make_spec(), MIA, STAMP)
    moved = make_spec(
        overrides=(
            InstanceOverride(tue(1, 12), tue(1, 13, 11), tue(1, 13, 11) + timedelta(minutes=30)),
        )
    )
    assert put(provider, moved, MIA, LATER) is True
    assert put(provider, moved, MIA, LATER) is False
    assert put(provider, replace(moved, sequence=1), MIA, LATER) is True
    observed = provider.read(MIA, *WINDOW).owned["oneonone-test-series"]
    assert observed.sequence == 1
    assert set(observed.overrides) == {tue(1, 12).astimezone(UTC)}
    assert sorted(p.name for p in folder.iterdir()) == ["oneonone-test-series.ics"]


def test_write_keeps_the_existing_file_mode(provider: VdirProvider, folder: Path) -> None:
    put(provider, make_spec(), MIA, STAMP)
    target = folder / "oneonone-test-series.ics"
    target.chmod(0o640)
    put(provider, make_spec(sequence=2), MIA, STAMP)
    assert target.stat().st_mode & 0o777 == 0o640


def test_write_never_overwrites_another_object_under_the_product_file_name(
    provider: VdirProvider, folder: Path
) -> None:
    foreign = calendar(vevent("someone-else", ":20270105T150000Z", ":20270105T160000Z"))
    (folder / "oneonone-test-series.ics").write_bytes(foreign)
    with pytest.raises(CalendarError, match="left alone"):
        put(provider, make_spec(), MIA, STAMP)
    assert (folder / "oneonone-test-series.ics").read_bytes() == foreign


def test_write_adopts_an_untagged_event_in_place_in_the_file_that_holds_its_uid(
    provider: VdirProvider, folder: Path
) -> None:
    (folder / "Thunderbird-7f3a.ics").write_bytes(
        calendar(
            vevent(
                "tb-7f3a",
                ";TZID=America/New_York:20261201T100000",
                ";TZID=America/New_York:20261201T103000",
                "RRULE:FREQ=WEEKLY",
                "ORGANIZER:mailto:mia@example.com",
                "ATTENDEE:mailto:ana@example.com",
            )
        )
    )
    other = calendar(vevent("unrelated", ":20270105T150000Z", ":20270105T160000Z"))
    (folder / "unrelated.ics").write_bytes(other)
    read = provider.read(MIA, *WINDOW)
    assert [c.uid for c in read.weekly_candidates] == ["tb-7f3a"]

    assert put(provider, make_spec(uid="tb-7f3a"), MIA, STAMP) is True
    assert sorted(p.name for p in folder.iterdir()) == ["Thunderbird-7f3a.ics", "unrelated.ics"]
    assert (folder / "unrelated.ics").read_bytes() == other
    read = provider.read(MIA, *WINDOW)
    assert set(read.owned) == {"tb-7f3a"}
    assert read.weekly_candidates == []


def test_write_creates_a_missing_folder_and_names_one_it_cannot_create(tmp_path: Path) -> None:
    fresh = VdirProvider(tmp_path / "data" / "cal" / "ana", NY)
    assert put(fresh, make_spec(), ANA, STAMP) is True
    assert (tmp_path / "data" / "cal" / "ana" / "oneonone-test-series.ics").is_file()
    (tmp_path / "file").write_text("x")
    blocked = VdirProvider(tmp_path / "file" / "ana", NY)
    with pytest.raises(CalendarError, match="file/ana"):
        put(blocked, make_spec(), ANA, STAMP)


def test_uid_file_names_are_sanitised() -> None:
    assert uid_filename("oneonone-abc") == "oneonone-abc.ics"
    assert uid_filename("a/b c:d@x.y") == "a_b_c_d@x.y.ics"
    assert uid_filename("../../etc/passwd") == "_.._.._etc_passwd.ics"
    assert uid_filename(".hidden") == "_.hidden.ics"
    assert uid_filename("") == "_.ics"


def test_delete_removes_an_owned_object_and_reports_a_missing_one(
    provider: VdirProvider, folder: Path
) -> None:
    put(provider, make_spec(), MIA, STAMP)
    assert (
        provider.delete(
            "oneonone-test-series", MIA, expect=version_of(provider, "oneonone-test-series")
        )
        is True
    )
    assert list(folder.iterdir()) == []
    assert provider.delete("oneonone-test-series", MIA, expect="") is False


def test_delete_refuses_an_object_the_product_does_not_own(
    provider: VdirProvider, folder: Path
) -> None:
    (folder / "mine.ics").write_bytes(
        calendar(vevent("persons-own", ":20270105T150000Z", ":20270105T160000Z"))
    )
    with pytest.raises(CalendarError, match="does not own"):
        provider.delete("persons-own", MIA, expect=version_of(provider, "persons-own"))
    assert (folder / "mine.ics").exists()


# --------------------------------------------------------------------------- check


def test_check_creates_a_missing_folder_silently(tmp_path: Path) -> None:
    provider = VdirProvider(tmp_path / "data" / "cal" / "ana", NY)
    assert provider.check(ANA) == []
    assert (tmp_path / "data" / "cal" / "ana").is_dir()


def test_check_reports_a_folder_it_cannot_create_or_a_file_in_its_place(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("x")
    problems = VdirProvider(tmp_path / "blocker" / "ana", NY).check(ANA)
    assert len(problems) == 1
    assert "does not exist and cannot be created" in problems[0]
    assert "ana@example.com" in problems[0]
    (tmp_path / "file").write_text("x")
    assert "is a file" in VdirProvider(tmp_path / "file", NY).check(ANA)[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_check_reports_an_unwritable_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        problems = VdirProvider(locked, NY).check(ANA)
    finally:
        locked.chmod(0o755)
    assert any("not writable" in problem for problem in problems)


# --------------------------------------------------------------------------- khal


def test_khal_lists_the_written_series_on_the_right_days(tmp_path: Path) -> None:
    khal = shutil.which("khal")
    if khal is None:
        pytest.skip("the khal executable is not installed")
    folder = tmp_path / "vdir"
    folder.mkdir()
    spec = make_spec(
        exdates=(tue(1, 12),),
        overrides=(
            InstanceOverride(tue(1, 19), tue(1, 20, 14), tue(1, 20, 14) + timedelta(minutes=30)),
            InstanceOverride(
                tue(1, 26), tue(1, 26), tue(1, 26) + timedelta(minutes=30), cancelled=True
            ),
        ),
    )
    put(VdirProvider(folder, NY), spec, MIA, STAMP)
    lines = khal_list(
        khal, folder, tmp_path, "2027-01-01", "30d", "{start-date} {start-time} {status}{title}"
    )
    assert lines == [
        "2027-01-05 10:00 1:1 Mia / Ana",
        "2027-01-20 14:00 1:1 Mia / Ana",
        "2027-01-26 10:00 CANCELLED 1:1 Mia / Ana",
    ]


# --------------------------------------------------------------------------- robustness


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(CORPUS.rglob("*.ics"))


@pytest.mark.parametrize(
    "source", corpus_files() or [None], ids=lambda p: p.name if p else "no-corpus"
)
def test_every_corpus_file_reads_without_crash_in_bounded_time(
    source: Path | None, tmp_path: Path
) -> None:
    if source is None:
        pytest.skip(f"no iCalendar corpus at {CORPUS}")
    folder = tmp_path / "vdir"
    folder.mkdir()
    shutil.copy(source, folder / "object.ics")
    provider = VdirProvider(folder, NY)
    began = time.perf_counter()
    # A window the corpus's own dates fall in, and one years after them.
    for window in [
        (datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 3, 1, tzinfo=UTC)),
        (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 15, tzinfo=UTC)),
    ]:
        read = provider.read(MIA, *window)
        assert read.object_count == 1
        for problem in read.problems:
            assert problem.startswith(f"{folder / 'object.ics'}: cannot read calendar object: ")
            assert problem.endswith(".")
            assert "\n" not in problem
        if read.problems:
            assert read.busy == [] and read.owned == {}
    assert time.perf_counter() - began < READ_BUDGET


GENERATED_BROKEN = {
    "empty.ics": b"",
    "truncated.ics": ical.render(make_spec(), STAMP)[:500],
    "garbage.ics": bytes(range(256)) * 16,
    "bad-date.ics": calendar(vevent("b", ":20270230T250000", ":20270105T110000")),
    "bad-rule.ics": calendar(vevent("r", ":20270105T100000Z", ":20270105T110000Z", "RRULE:FREQ=")),
    "minutely.ics": calendar(
        vevent("m", ":20200105T100000Z", ":20200105T100100Z", "RRULE:FREQ=MINUTELY")
    ),
}
#: Damaged but readable: a Latin-1 byte where UTF-8 belongs still gives its busy time.
GENERATED_ODD = {
    "latin1.ics": calendar(
        vevent("l", ":20270105T100000Z", ":20270105T110000Z", "LOCATION:Caf\xe9")
    ).replace(b"Caf\xc3\xa9", b"Caf\xe9"),
}


def test_generated_broken_files_become_problems_and_the_good_one_still_counts(
    provider: VdirProvider, folder: Path
) -> None:
    for name, data in {**GENERATED_BROKEN, **GENERATED_ODD}.items():
        (folder / name).write_bytes(data)
    (folder / "zz-good.ics").write_bytes(
        calendar(vevent("g", ":20270105T150000Z", ":20270105T160000Z"))
    )
    began = time.perf_counter()
    read = provider.read(MIA, *WINDOW)
    assert time.perf_counter() - began < READ_BUDGET
    assert read.object_count == len(GENERATED_BROKEN) + len(GENERATED_ODD) + 1
    assert sorted((utc(s), utc(e)) for s, e in read.busy) == [
        (datetime(2027, 1, 5, 10, tzinfo=UTC), datetime(2027, 1, 5, 11, tzinfo=UTC)),
        (datetime(2027, 1, 5, 15, tzinfo=UTC), datetime(2027, 1, 5, 16, tzinfo=UTC)),
    ]
    assert sorted(problem.split(": ", 1)[0] for problem in read.problems) == sorted(
        str(folder / name) for name in GENERATED_BROKEN
    )
    for problem in read.problems:
        assert ": cannot read calendar object: " in problem


# --------------------------------------------------------------------------- the read memo


def test_a_warm_read_parses_nothing_and_a_rewritten_file_replaces_its_entry(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17's cache cliff: entries were capped by count and stale parses of rewritten
    files stayed; past ~10k files a warm pass stopped hitting the memo at all."""
    from scheduler.providers import vdir

    memo = vdir.Memo(vdir.MEMO_BYTES)
    monkeypatch.setattr(vdir, "_MEMO", memo)
    provider = VdirProvider(folder, NY)
    for index in range(30):
        hour = 9 + index % 8
        event = vevent(f"busy-{index}", f":20270105T{hour:02d}0000Z", f":20270105T{hour:02d}3000Z")
        (folder / f"busy-{index}.ics").write_bytes(calendar(event))
    put(provider, make_spec(), MIA, STAMP)
    parses = 0
    real_parse = ical.parse_object

    def counted(data: bytes, href: str = "") -> list[object]:
        nonlocal parses
        parses += 1
        return real_parse(data, href)

    monkeypatch.setattr(ical, "parse_object", counted)
    # The product's own file is known from its write (``ical.observed_written``): not parsed.
    cold = provider.read(MIA, *WINDOW)
    assert parses == 30 and len(cold.busy) == 30 and len(cold.owned) == 1
    entries = len(memo)
    parses = 0
    warm = provider.read(MIA, *WINDOW)
    assert parses == 0 and warm.busy == cold.busy and warm.owned == cold.owned
    # Rewritten by the product: still known, its entry replaced rather than added to.
    put(provider, make_spec(summary="1:1 Mia / Ana (renamed)"), MIA, LATER)
    parses = 0
    renamed = provider.read(MIA, *WINDOW)
    assert parses == 0 and len(memo) == entries
    (known,) = cold.owned.values()
    assert renamed.owned[known.uid].href is known.href  # one text kept, not one per rewrite
    assert {uid: replace(observed, version=None) for uid, observed in renamed.owned.items()} == {
        uid: ical.observe((folder / f"{uid}.ics").read_bytes(), observed.href, NY)
        for uid, observed in renamed.owned.items()
    }
    # Rewritten by someone else: parsed once more, its entries replaced.
    busy = folder / "busy-3.ics"
    busy.write_bytes(busy.read_bytes().replace(b"T1200", b"T1300"))
    parses = 0
    provider.read(MIA, *WINDOW)
    assert parses == 1 and len(memo) == entries


def test_a_past_meetings_file_is_parsed_once_not_every_week(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: a pass costs the same in a year as in a month. Every meeting that is over
    stays in a person's calendar, and the read window moves every week: its file was parsed
    again every week for as long as it stayed (``ical.reach_from_parsed``)."""
    memo = vdir.Memo(vdir.MEMO_BYTES)
    monkeypatch.setattr(vdir, "_MEMO", memo)
    monkeypatch.setattr(vdir, "RACY_SECONDS", 0.0)  # as if the files were older
    provider = VdirProvider(folder, NY)
    past = folder / "past.ics"
    past.write_bytes(calendar(vevent("past", ":20270105T150000Z", ":20270105T160000Z")))
    weekly = vevent("weekly", ":20270104T170000Z", ":20270104T173000Z", "RRULE:FREQ=WEEKLY")
    (folder / "weekly.ics").write_bytes(calendar(weekly))
    parsed: list[str] = []
    real_parse = ical.parse_object

    def counted(data: bytes, href: str = "") -> list[object]:
        parsed.append(Path(href).name)
        return real_parse(data, href)

    monkeypatch.setattr(ical, "parse_object", counted)
    weeks = [(WINDOW[0] + timedelta(weeks=n), WINDOW[1] + timedelta(weeks=n)) for n in range(4)]
    assert len(provider.read(MIA, *weeks[0]).busy) == 2
    assert sorted(parsed) == ["past.ics", "weekly.ics"]
    for start, end in weeks[1:]:
        parsed.clear()
        read = provider.read(MIA, start, end)
        # The weekly meeting is read for its new week; the past one is not parsed again.
        assert parsed == ["weekly.ics"] and len(read.busy) == 1
        # Once its meeting is over, all the memo keeps of the file is when it ended.
        kept = [slot for slot in memo._items if slot[1] == str(past)]
        assert kept == [("past", str(past), NY.key)]
    # Moved by its owner into the week read: parsed, and busy again.
    past.write_bytes(calendar(vevent("past", ":20270126T150000Z", ":20270126T160000Z")))
    parsed.clear()
    read = provider.read(MIA, *weeks[3])
    assert parsed == ["past.ics"] and len(read.busy) == 2


def test_reading_a_corpus_file_week_after_week_gives_what_one_fresh_read_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every real-world file read first where its events are, then before and after all of
    them: what a reader that kept its reach gives (no parse) is what a fresh reader parsing
    it gives, busy time, days out and problems alike."""
    sources = corpus_files()
    if not sources:
        pytest.skip(f"no iCalendar corpus at {CORPUS}")
    folder = tmp_path / "vdir"
    folder.mkdir()
    reached = 0
    for source in sources:
        (folder / "object.ics").write_bytes(source.read_bytes())
        warm = vdir.Memo(vdir.MEMO_BYTES)
        monkeypatch.setattr(vdir, "_MEMO", warm)
        try:
            parsed = ical.parse_object(source.read_bytes(), source.name)
        except ValueError:
            continue
        reach = ical.reach_from_parsed(parsed)
        if reach is None:
            continue
        low, high = (datetime.fromtimestamp(second, UTC) for second in reach)
        windows = [
            (low, high) if high - low < timedelta(days=400) else (low, low + timedelta(days=90)),
            (low - timedelta(days=30), low),
            (high, high + timedelta(days=30)),
        ]
        kept = [_read_as_seen(VdirProvider(folder, NY), window) for window in windows]
        fresh = []
        for window in windows:
            monkeypatch.setattr(vdir, "_MEMO", vdir.Memo(vdir.MEMO_BYTES))
            fresh.append(_read_as_seen(VdirProvider(folder, NY), window))
        assert kept == fresh, source.name
        if not fresh[0][2]:  # read without a problem where its events are: its reach is kept
            assert fresh[1] == fresh[2] == ([], [], []), source.name
            reached += 1
    # Most real files are single meetings or rules that end.
    assert reached > len(sources) // 3


def _read_as_seen(
    provider: VdirProvider, window: tuple[datetime, datetime]
) -> tuple[list[tuple[datetime, datetime]], list[date], list[str]]:
    read = provider.read(MIA, *window)
    return sorted((utc(s), utc(e)) for s, e in read.busy), sorted(read.out_days), read.problems


def test_the_memo_is_bounded_by_weight_least_recently_used_out_first() -> None:
    from scheduler.providers.vdir import Memo

    memo = Memo(max_bytes=1000)
    for index in range(10):
        assert memo.get(("observe", f"f{index}"), "v1", 300, lambda i=index: i) == index
    assert len(memo) == 3 and memo.weight == 900
    made: list[str] = []
    # f9 is still there (a hit makes nothing); f0 went first.
    memo.get(("observe", "f9"), "v1", 300, lambda: made.append("f9"))
    memo.get(("observe", "f0"), "v1", 300, lambda: made.append("f0"))
    assert made == ["f0"]
    # An error is remembered as that error: a broken file costs one parse.
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("f.ics: cannot read calendar object: truncated")

    for _ in range(3):
        with pytest.raises(ValueError, match="truncated"):
            memo.get(("observe", "broken"), "v1", 10, broken)
    assert calls == [1]


def test_a_file_no_one_touched_is_not_read_again_and_any_change_to_it_is(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A steady pass folds an untouched file from its status (inode, size, times) and the
    memo, without reading or hashing it (issue 17); content changed in place, at the same
    size and with its modification time set back, is still read (its ctime moved on)."""
    from scheduler.providers import vdir

    monkeypatch.setattr(vdir, "_MEMO", vdir.Memo(vdir.MEMO_BYTES))
    provider = VdirProvider(folder, NY)
    busy = folder / "busy.ics"
    busy.write_bytes(calendar(vevent("busy", ":20270105T100000Z", ":20270105T103000Z")))
    put(provider, make_spec(), MIA, STAMP)
    loads: list[str] = []
    real_load = VdirProvider._load

    def counted(self: VdirProvider, file: str | Path) -> bytes:
        loads.append(str(file))
        return real_load(self, file)

    monkeypatch.setattr(VdirProvider, "_load", counted)
    # Files changed within the last two seconds are read again: their times may not show
    # a change made within the same tick.
    first = provider.read(MIA, *WINDOW)
    again = provider.read(MIA, *WINDOW)
    assert len(loads) == 4 and again == first
    monkeypatch.setattr(vdir, "RACY_SECONDS", 0.0)  # as if the files were older
    provider.read(MIA, *WINDOW)
    loads.clear()
    steady = provider.read(MIA, *WINDOW)
    assert loads == [] and steady == first
    # Someone rewrites it in place, same size, and puts its modification time back.
    before = busy.stat()
    with busy.open("r+b") as handle:
        handle.write(busy.read_bytes().replace(b"T1000", b"T1100"))
    os.utime(busy, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert busy.stat().st_size == before.st_size and busy.stat().st_ino == before.st_ino
    moved = provider.read(MIA, *WINDOW)
    assert loads == [str(busy)] and moved.busy != first.busy
