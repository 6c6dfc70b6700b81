"""The provider contract as one test suite that every calendar provider runs.

vdirsyncer's shared ``StorageTests`` (``tests/storage/__init__.py``) is the model: the tests
are written once, here, against ``scheduler.providers.base`` alone (versions, conditional
``write_many`` and ``delete``, ``ConflictError``, ``Capabilities``, ``check``), and each
provider's module subclasses ``ProviderContract`` with a fixture that makes that provider's
calendar. No I/O of its own: the harness of each provider does it.

Running a new provider through the suite
----------------------------------------

1. Write ``tests/contract/test_<name>.py`` with a ``ContractCalendar`` subclass: it holds
   ``provider`` (the provider for ``person``'s fresh, empty calendar, made the way the pass
   makes it) and plays the people, out of band, the way their calendar client would:
   ``add_event`` (a person's own event; ``transparent`` is "show as free", ``cancelled`` is
   called off), ``add_meeting`` (a meeting ``person`` booked with ``other``), and, for a
   writable provider, ``move_instance`` and ``delete_object`` on an object the product wrote.
   Override ``new_pass`` when the provider caches per pass (each ``read`` is a new pass's),
   ``put_product_object`` when the product cannot write there (a read-only feed that carries
   the product's 1:1 because the person imported it), and ``attendee_read`` when the server
   keeps attendees' copies (``Capabilities.keeps_attendee_copies``).
2. Subclass the suite in that module, in a class whose name starts with ``Test`` (so pytest
   collects it), with a fixture named ``cal``; a provider with a server starts it there and
   stops it after the test (``test_google.py`` does so with the Google emulator)::

       class TestCaldavContract(ProviderContract):
           @pytest.fixture
           def cal(self, tmp_path: Path) -> Iterator[ContractCalendar]:
               server = start_radicale(tmp_path)   # whatever the calendar needs
               try:
                   yield CaldavCalendar(server)
               finally:
                   server.stop()

3. ``pytest -q -rs tests/contract/test_<name>.py``; ``-rs`` lists what was skipped and why.
   The provider is done when the whole suite passes. A test a provider cannot pass, for a
   reason in the calendar service itself, is overridden in its module with a strict ``xfail``
   saying exactly why (``test_google.py``, ``test_microsoft365.py``), so a fix shows.

A test that applies only to some providers says which declared capability it needs
(``@requires(writable=True)``) and is skipped, with the reason from ``_WHY``, for a provider
that declares otherwise; never by provider name. A provider's quirk belongs in its
``Capabilities`` or in its harness, not in a skip here; a new capability gets its reasons in
``_WHY``.

Exports: ProviderContract, ContractCalendar, requires, series, WINDOW, STAMP, MIA, ANA.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain import Person, pair_key
from scheduler.domain.series import CalendarRead, ObservedSeries, SeriesSpec, utc
from scheduler.errors import CalendarError, ConflictError
from scheduler.providers.base import (
    CalendarProvider,
    Capabilities,
    WriteJob,
    Written,
    write_one,
)

__all__ = [
    "ANA",
    "MIA",
    "STAMP",
    "WINDOW",
    "ContractCalendar",
    "ProviderContract",
    "requires",
    "series",
]

NY = ZoneInfo("America/New_York")
#: whose calendar the suite works on: the organizer of every series it writes
MIA = Person("mia@example.com", "Mia Manager", "America/New_York")
#: the other side of each pair: the attendee
ANA = Person("ana@example.com", "Ana Rep", "America/New_York")
#: the read window: two weeks from Monday 4 January 2027
WINDOW = (datetime(2027, 1, 4, tzinfo=NY), datetime(2027, 1, 18, tzinfo=NY))
#: the pass's clock, written as DTSTAMP
STAMP = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
#: a series' first instance: Tuesday 10:00, inside the window, and again a week later
FIRST = datetime(2027, 1, 5, 10, 0, tzinfo=NY)
#: a version no provider gives: a write or delete on it can only be a conflict
NEVER_GIVEN = "not-a-version-this-provider-gave"

_MARK = "requires_capabilities"
#: why a test is skipped when a provider declares a capability other than the one it needs
_WHY: dict[tuple[str, object], str] = {
    ("writable", True): (
        "the provider is read-only (writable=False): the product writes nothing there, so "
        "nothing there is the product's to version, rewrite or delete"
    ),
    ("writable", False): (
        "the provider is writable: the refusals of a read-only calendar do not apply"
    ),
    ("keeps_attendee_copies", False): (
        "the server keeps each attendee's copy itself (keeps_attendee_copies=True): the "
        "product never writes one"
    ),
    ("keeps_attendee_copies", True): (
        "the product writes each attendee's copy itself (keeps_attendee_copies=False): no "
        "server copies the organizer's"
    ),
}


def requires(**capabilities: object) -> pytest.MarkDecorator:
    """Run the test only for providers that declare these ``Capabilities`` values."""
    unknown = set(capabilities) - set(Capabilities.__dataclass_fields__)
    if unknown:
        raise TypeError(f"no such capability: {', '.join(sorted(unknown))}")
    return pytest.mark.requires_capabilities(**capabilities)


def series(cal: ContractCalendar, n: int = 0, **changes: Any) -> SeriesSpec:
    """A weekly series ``cal.person`` organizes with ``cal.other``; ``n`` tells several
    apart (each its own UID)."""
    spec = SeriesSpec(
        uid=f"oneonone-contract-{n}",
        pair_key=pair_key(cal.person.email, cal.other.email),
        summary=f"1:1 {cal.person.first_name} / {cal.other.first_name}",
        description="Weekly 1:1",
        organizer_email=cal.person.email,
        organizer_name=cal.person.name,
        attendee_email=cal.other.email,
        attendee_name=cal.other.name,
        dtstart=FIRST,
        duration=timedelta(minutes=30),
    )
    return replace(spec, **changes)


def changed(spec: SeriesSpec) -> SeriesSpec:
    """``spec`` moved an hour later, as the pass writes a new slot (SEQUENCE up)."""
    return replace(spec, dtstart=spec.dtstart + timedelta(hours=1), sequence=spec.sequence + 1)


def spans(read: CalendarRead) -> list[tuple[datetime, datetime]]:
    return sorted((utc(start), utc(end)) for start, end in read.busy)


def overlaps(read: CalendarRead, start: datetime, end: datetime) -> bool:
    """Whether any busy time of ``read`` falls in [start, end)."""
    return any(s < utc(end) and utc(start) < e for s, e in spans(read))


def covered(read: CalendarRead, start: datetime, end: datetime) -> bool:
    """Whether [start, end) is busy from start to end (free/busy may merge neighbours)."""
    return any(s <= utc(start) and utc(end) <= e for s, e in spans(read))


def instances(spec: SeriesSpec) -> Iterable[tuple[datetime, datetime]]:
    """The series' instances in the window (it starts inside it)."""
    moment = spec.dtstart
    while moment < WINDOW[1]:
        yield moment, moment + spec.duration
        moment += timedelta(weeks=1)


class ContractCalendar(ABC):
    """One person's fresh, empty calendar on one provider, and the people who edit it.

    Every object the product writes is ``person``'s (the organizer) with ``other`` as the
    attendee. People's edits happen out of band, the way their calendar client makes them,
    never through the provider under test.
    """

    #: the provider for ``person``'s calendar, made as the pass makes it
    provider: CalendarProvider
    person: Person = MIA
    other: Person = ANA

    # ------------------------------------------------------------------ the product

    def read(self) -> CalendarRead:
        """One pass's read of ``person``'s calendar over ``WINDOW``."""
        self.new_pass()
        return self.provider.read(self.person, *WINDOW)

    def new_pass(self) -> None:  # noqa: B027 (a hook: only providers caching per pass need it)
        """Start a new pass before a read (a provider that caches per pass); nothing here."""

    def write(self, spec: SeriesSpec, expect: str | None, owner: Person | None = None) -> Written:
        """``spec`` written as ``owner``'s copy (``person`` by default) on condition ``expect``."""
        return write_one(self.provider, spec, owner or self.person, dtstamp=STAMP, expect=expect)

    def put_product_object(self, spec: SeriesSpec) -> None:
        """The product's object ``spec`` in the calendar: created through the provider,
        unless the harness knows another way for a calendar the product cannot write."""
        assert self.write(spec, None).changed

    def attendee_read(self) -> CalendarRead:
        """One pass's read of ``other``'s calendar, where the server keeps the attendee's
        copy of ``person``'s objects (``keeps_attendee_copies`` providers only)."""
        raise NotImplementedError(f"{self.provider.name} keeps no attendee copies")

    # ------------------------------------------------------------------ the people

    @abstractmethod
    def add_event(
        self,
        uid: str,
        start: datetime,
        end: datetime,
        *,
        transparent: bool = False,
        cancelled: bool = False,
    ) -> None:
        """``person``'s own event, made in their client: ``transparent`` is "show as free";
        ``cancelled`` is one called off (or, where a cancelled event cannot stay, deleted)."""

    @abstractmethod
    def add_meeting(self, uid: str, start: datetime, end: datetime, *, weekly: bool) -> None:
        """A meeting ``person`` booked with ``other`` themselves (untagged; ``weekly`` is
        a 1:1 the product may adopt, else a make-up they booked)."""

    def move_instance(self, uid: str, rid: datetime, new_start: datetime) -> None:
        """``person`` moves one instance of the product's series ``uid`` in their client."""
        raise NotImplementedError(f"{self.provider.name}: people cannot edit here")

    def delete_object(self, uid: str) -> None:
        """``person`` deletes the product's object ``uid`` (the whole series) in their client."""
        raise NotImplementedError(f"{self.provider.name}: people cannot edit here")


def _owned(read: CalendarRead, uid: str) -> ObservedSeries:
    assert uid in read.owned, f"{uid} is not among the owned objects {sorted(read.owned)}"
    return read.owned[uid]


def _version(read: CalendarRead, uid: str) -> str:
    version = _owned(read, uid).version
    assert version, f"{uid} was read without a version"
    return version


class ProviderContract:
    """The tests every provider passes; subclass with a ``cal`` fixture (module docstring)."""

    @pytest.fixture
    def cal(self) -> ContractCalendar:
        raise NotImplementedError("each provider's module makes its calendar (see the docstring)")

    @pytest.fixture(autouse=True)
    def _declared_capabilities(self, request: pytest.FixtureRequest, cal: ContractCalendar) -> None:
        """Skip a test whose ``requires`` the provider's declared capabilities do not meet."""
        declared = cal.provider.capabilities
        for mark in request.node.iter_markers(_MARK):
            for name, wanted in mark.kwargs.items():
                if getattr(declared, name) != wanted:
                    pytest.skip(_WHY.get((name, wanted), f"needs {name}={wanted!r}"))

    # ------------------------------------------------------------------ declared, reachable

    def test_capabilities_are_declared_as_a_capabilities_value(self, cal: ContractCalendar) -> None:
        declared = cal.provider.capabilities
        assert isinstance(declared, Capabilities)
        assert declared.batch_size >= 1
        assert isinstance(cal.provider.name, str) and cal.provider.name
        assert isinstance(cal.provider.where, str) and cal.provider.where

    def test_check_of_a_healthy_calendar_finds_no_problem(self, cal: ContractCalendar) -> None:
        assert cal.provider.check(cal.person) == []

    # ------------------------------------------------------------------ reading

    def test_an_empty_calendar_reads_no_objects(self, cal: ContractCalendar) -> None:
        read = cal.read()
        assert read.object_count == 0
        assert read.owned == {}
        assert read.busy == []
        assert read.problems == []

    def test_a_calendar_holding_only_a_persons_own_event_does_not_read_empty(
        self, cal: ContractCalendar
    ) -> None:
        # object_count tells a calendar that suddenly reads empty from one that never held
        # anything: a person's own event counts, not only the product's objects.
        cal.add_event("dentist", _at(6, 13), _at(6, 14))
        assert cal.read().object_count >= 1

    def test_a_persons_own_event_is_busy(self, cal: ContractCalendar) -> None:
        cal.add_event("dentist", _at(6, 13), _at(6, 14))
        read = cal.read()
        assert covered(read, _at(6, 13), _at(6, 14)), spans(read)
        assert read.problems == []

    def test_the_products_own_objects_are_not_busy(self, cal: ContractCalendar) -> None:
        spec = series(cal)
        cal.put_product_object(spec)
        read = cal.read()
        # The 1:1 is the meeting itself, not time the meeting must avoid.
        for start, end in instances(spec):
            assert not overlaps(read, start, end), spans(read)
        assert read.problems == []

    def test_transparent_and_cancelled_events_are_not_busy(self, cal: ContractCalendar) -> None:
        cal.add_event("focus", _at(7, 9), _at(7, 10), transparent=True)
        cal.add_event("called-off", _at(7, 13), _at(7, 14), cancelled=True)
        cal.add_event("dentist", _at(8, 13), _at(8, 14))  # so the read is not empty anyway
        read = cal.read()
        assert not overlaps(read, _at(7, 9), _at(7, 10)), spans(read)
        assert not overlaps(read, _at(7, 13), _at(7, 14)), spans(read)
        assert covered(read, _at(8, 13), _at(8, 14)), spans(read)

    def test_objects_the_product_does_not_own_are_never_owned(self, cal: ContractCalendar) -> None:
        spec = series(cal)
        cal.put_product_object(spec)
        cal.add_event("dentist", _at(6, 13), _at(6, 14))
        cal.add_meeting("weekly-with-ana", _at(5, 15), _at(5, 15, 30), weekly=True)
        cal.add_meeting("coffee-with-ana", _at(8, 11), _at(8, 11, 30), weekly=False)
        read = cal.read()
        # Only the product's object may be owned (a read-only provider may expose none).
        assert set(read.owned) <= {spec.uid}
        assert all(observed.pair_key == spec.pair_key for observed in read.owned.values())

    # ------------------------------------------------------------------ versions

    @requires(writable=True)
    def test_a_created_object_reads_back_owned_tagged_with_its_pair_and_a_version(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        written = cal.write(spec, None)
        assert written.changed
        read = cal.read()
        observed = _owned(read, spec.uid)
        assert observed.pair_key == spec.pair_key
        assert observed.weekly
        assert utc(observed.dtstart) == utc(spec.dtstart)
        version = _version(read, spec.uid)
        if written.version is not None:
            assert written.version == version
        assert read.object_count >= 1

    @requires(writable=True)
    def test_reading_twice_gives_the_same_version(self, cal: ContractCalendar) -> None:
        spec = series(cal)
        cal.write(spec, None)
        assert _version(cal.read(), spec.uid) == _version(cal.read(), spec.uid)

    @requires(writable=True)
    def test_the_same_spec_written_on_the_read_version_changes_nothing(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.write(spec, None)
        version = _version(cal.read(), spec.uid)
        written = cal.write(spec, version)
        assert not written.changed
        assert written.version in (None, version)
        assert _version(cal.read(), spec.uid) == version

    @requires(writable=True)
    def test_a_changed_spec_written_on_the_read_version_replaces_it(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.write(spec, None)
        before = _version(cal.read(), spec.uid)
        new = changed(spec)
        written = cal.write(new, before)
        assert written.changed
        read = cal.read()
        after = _version(read, spec.uid)
        assert after != before
        assert utc(_owned(read, spec.uid).dtstart) == utc(new.dtstart)
        if written.version is not None:
            assert written.version == after

    @requires(writable=True)
    def test_a_create_where_the_object_exists_fails_with_a_conflict_and_changes_nothing(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.write(spec, None)
        version = _version(cal.read(), spec.uid)
        with pytest.raises(ConflictError):
            cal.write(changed(spec), None)
        read = cal.read()
        assert _version(read, spec.uid) == version
        assert utc(_owned(read, spec.uid).dtstart) == utc(spec.dtstart)

    @requires(writable=True)
    def test_a_write_on_a_version_stale_after_a_persons_edit_fails_and_keeps_the_edit(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.write(spec, None)
        version = _version(cal.read(), spec.uid)
        # The person moves next week's 1:1 between the pass's read and its write.
        rid = spec.dtstart + timedelta(weeks=1)
        moved = rid + timedelta(hours=4)
        cal.move_instance(spec.uid, rid, moved)
        with pytest.raises(ConflictError):
            cal.write(changed(spec), version)
        read = cal.read()
        assert _version(read, spec.uid) != version
        observed = _owned(read, spec.uid)
        assert utc(observed.dtstart) == utc(spec.dtstart)
        override = observed.overrides.get(utc(rid))
        assert override is not None and utc(override.start) == utc(moved), observed.overrides

    @requires(writable=True)
    def test_a_write_on_the_version_of_an_object_a_person_deleted_fails_and_recreates_nothing(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.write(spec, None)
        version = _version(cal.read(), spec.uid)
        cal.delete_object(spec.uid)
        with pytest.raises(ConflictError):
            cal.write(spec, version)
        assert spec.uid not in cal.read().owned

    @requires(writable=True)
    def test_a_version_the_provider_never_gave_is_a_conflict(self, cal: ContractCalendar) -> None:
        spec = series(cal)
        cal.write(spec, None)
        version = _version(cal.read(), spec.uid)
        with pytest.raises(ConflictError):
            cal.write(changed(spec), NEVER_GIVEN)
        with pytest.raises(ConflictError):
            cal.provider.delete(spec.uid, cal.person, expect=NEVER_GIVEN)
        assert _version(cal.read(), spec.uid) == version

    # ------------------------------------------------------------------ deleting

    @requires(writable=True)
    def test_a_delete_on_the_read_version_removes_it(self, cal: ContractCalendar) -> None:
        spec = series(cal)
        cal.write(spec, None)
        version = _version(cal.read(), spec.uid)
        assert cal.provider.delete(spec.uid, cal.person, expect=version) is True
        read = cal.read()
        assert spec.uid not in read.owned
        assert read.object_count == 0

    @requires(writable=True)
    def test_a_delete_on_a_version_stale_after_a_persons_edit_fails_and_keeps_it(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.write(spec, None)
        version = _version(cal.read(), spec.uid)
        rid = spec.dtstart + timedelta(weeks=1)
        cal.move_instance(spec.uid, rid, rid + timedelta(hours=4))
        with pytest.raises(ConflictError):
            cal.provider.delete(spec.uid, cal.person, expect=version)
        observed = _owned(cal.read(), spec.uid)
        assert utc(rid) in observed.overrides

    @requires(writable=True)
    def test_a_delete_of_an_object_a_person_already_deleted_says_it_was_not_there(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.write(spec, None)
        version = _version(cal.read(), spec.uid)
        cal.delete_object(spec.uid)
        assert cal.provider.delete(spec.uid, cal.person, expect=version) is False
        assert spec.uid not in cal.read().owned

    @requires(writable=True)
    def test_a_delete_of_an_object_the_product_does_not_own_is_refused(
        self, cal: ContractCalendar
    ) -> None:
        # A 1:1 the people booked themselves, not adopted: never the product's to remove.
        cal.add_meeting("weekly-with-ana", _at(5, 15), _at(5, 15, 30), weekly=True)
        before = cal.read()
        with pytest.raises(CalendarError) as refused:
            cal.provider.delete("weekly-with-ana", cal.person, expect=NEVER_GIVEN)
        # A refusal, not a conflict: reading again would not make it the product's, so no
        # version, however fresh, may remove it.
        assert not isinstance(refused.value, ConflictError), refused.value
        after = cal.read()
        assert after.object_count == before.object_count >= 1
        assert [c.uid for c in after.weekly_candidates] == [c.uid for c in before.weekly_candidates]

    # ------------------------------------------------------------------ write_many

    @requires(writable=True)
    def test_write_many_of_nothing_answers_nothing(self, cal: ContractCalendar) -> None:
        assert cal.provider.write_many([]) == []

    @requires(writable=True)
    def test_write_many_goes_on_past_a_conflict_and_answers_in_order(
        self, cal: ContractCalendar
    ) -> None:
        # More jobs than one batch holds, so the order is kept across batches too. By
        # position: 0 creates, 1 creates where an object is (a conflict), 2 rewrites on the
        # version read; and so on.
        count = max(3, cal.provider.capabilities.batch_size + 2)
        specs = [series(cal, n) for n in range(count)]
        existing = [spec for n, spec in enumerate(specs) if n % 3 != 0]
        made = cal.provider.write_many([WriteJob(s, cal.person, STAMP, None) for s in existing])
        assert all(isinstance(outcome, Written) for outcome in made), made
        read = cal.read()
        versions = {spec.uid: _version(read, spec.uid) for spec in existing}
        jobs = []
        for n, spec in enumerate(specs):
            if n % 3 == 0:
                jobs.append(WriteJob(spec, cal.person, STAMP, None))
            elif n % 3 == 1:
                jobs.append(WriteJob(changed(spec), cal.person, STAMP, None))
            else:
                jobs.append(WriteJob(changed(spec), cal.person, STAMP, versions[spec.uid]))
        outcomes = cal.provider.write_many(jobs)
        assert len(outcomes) == count
        for n, outcome in enumerate(outcomes):
            if n % 3 == 1:
                assert isinstance(outcome, ConflictError), (n, outcome)
            else:
                assert isinstance(outcome, Written) and outcome.changed, (n, outcome)
        read = cal.read()
        for n, spec in enumerate(specs):
            observed = _owned(read, spec.uid)
            if n % 3 == 1:
                assert observed.version == versions[spec.uid], n
            wanted = changed(spec) if n % 3 == 2 else spec
            assert utc(observed.dtstart) == utc(wanted.dtstart), n

    # ------------------------------------------------------------------ attendees' copies

    @requires(writable=True, keeps_attendee_copies=False)
    def test_an_attendees_copy_written_to_their_calendar_reads_back_owned(
        self, cal: ContractCalendar
    ) -> None:
        # ``person`` is the attendee this time: the product writes their copy itself.
        spec = replace(
            series(cal),
            pair_key=pair_key(cal.other.email, cal.person.email),
            organizer_email=cal.other.email,
            organizer_name=cal.other.name,
            attendee_email=cal.person.email,
            attendee_name=cal.person.name,
        )
        assert cal.write(spec, None, owner=cal.person).changed
        version = _version(cal.read(), spec.uid)
        assert not cal.write(spec, version, owner=cal.person).changed
        assert _owned(cal.read(), spec.uid).pair_key == spec.pair_key

    @requires(writable=True, keeps_attendee_copies=True)
    def test_the_organizers_write_reads_back_owned_on_the_attendees_calendar(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.write(spec, None)
        read = cal.attendee_read()
        observed = _owned(read, spec.uid)
        assert observed.pair_key == spec.pair_key
        assert observed.version
        for start, end in instances(spec):
            assert not overlaps(read, start, end), spans(read)

    # ------------------------------------------------------------------ read-only

    @requires(writable=False)
    def test_every_write_and_delete_fails_with_a_calendar_error_and_changes_nothing(
        self, cal: ContractCalendar
    ) -> None:
        spec = series(cal)
        cal.put_product_object(spec)
        cal.add_event("dentist", _at(6, 13), _at(6, 14))
        before = cal.read()
        jobs = [
            WriteJob(series(cal, 1), cal.person, STAMP, None),
            WriteJob(changed(spec), cal.person, STAMP, NEVER_GIVEN),
            WriteJob(changed(spec), cal.other, STAMP, None),
        ]
        outcomes = cal.provider.write_many(jobs)
        assert len(outcomes) == len(jobs)
        assert all(isinstance(outcome, CalendarError) for outcome in outcomes), outcomes
        with pytest.raises(CalendarError):
            cal.write(spec, None)
        with pytest.raises(CalendarError):
            cal.provider.delete(spec.uid, cal.person, expect=NEVER_GIVEN)
        with pytest.raises(CalendarError):
            cal.provider.delete("dentist", cal.person, expect=NEVER_GIVEN)
        after = cal.read()
        assert after.object_count == before.object_count
        assert spans(after) == spans(before)
        assert set(after.owned) == set(before.owned)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """Wall-clock time on ``day`` January 2027 in New York (Monday the 4th to Friday the 8th
    of the first week in the window)."""
    return datetime(2027, 1, day, hour, minute, tzinfo=NY)
