"""Google event resources read as the same observations as iCalendar objects, and written from
the same specs (``scheduler.providers.google.events``), with no server involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from scheduler import ical
from scheduler.domain import Person, WorkingHours
from scheduler.domain.series import InstanceOverride, SeriesSpec
from scheduler.providers.freebusy import days_out, subtract_spans
from scheduler.providers.google import events as gev

NY = ZoneInfo("America/New_York")
START = datetime(2027, 1, 5, 10, 0, tzinfo=NY)


def _spec(**changes: object) -> SeriesSpec:
    values: dict[str, object] = dict(
        uid="oneonone-1234",
        pair_key="marco@acme.example/ana@acme.example",
        summary="1:1 Marco / Ana",
        description="Weekly 1:1; why: regular slot",
        organizer_email="marco@acme.example",
        organizer_name="Marco Rossi",
        attendee_email="ana@acme.example",
        attendee_name="Ana Lima",
        dtstart=START,
        duration=timedelta(minutes=30),
    )
    values.update(changes)
    return SeriesSpec(**values)  # type: ignore[arg-type]


def _observe(master: dict[str, object], exceptions: list[dict[str, object]]) -> object:
    data = gev.to_ical(master, exceptions)
    return ical.observe(data, "google", UTC)


def test_event_ids_are_base32hex_stable_and_keep_google_ids() -> None:
    first = gev.event_id_for("oneonone-1234")
    assert first == gev.event_id_for("oneonone-1234")
    assert set(first) <= set("0123456789abcdefghijklmnopqrstuv") and 5 <= len(first) <= 1024
    assert gev.event_id_for("7v3h1ah9bd4a5ss6ne9f0ofkme") == "7v3h1ah9bd4a5ss6ne9f0ofkme"
    assert gev.instance_id("abcde", START) == "abcde_20270105T150000Z"


def test_a_written_master_reads_back_with_its_tags_exdates_and_fingerprint() -> None:
    skipped = START + timedelta(weeks=3)
    spec = _spec(exdates=(skipped,), sequence=4)
    body = gev.master_body(spec, ical.fingerprint(spec), None)
    assert body["recurrence"][0] == "RRULE:FREQ=WEEKLY"
    assert body["recurrence"][1] == "EXDATE;TZID=America/New_York:20270126T100000"
    private = body["extendedProperties"]["private"]
    assert private["oneonone_pair"] == spec.pair_key and private["oneonone_seq"] == "4"
    # Google adds what it owns; the product's own fields come back unchanged.
    stored = {
        **body,
        "etag": '"1"',
        "status": "confirmed",
        "organizer": {"email": "marco@acme.example", "self": True},
        "sequence": 9,
    }
    observed = _observe(stored, [])
    assert observed.uid == spec.uid
    assert observed.pair_key == spec.pair_key
    assert observed.fingerprint == ical.fingerprint(spec)
    assert observed.sequence == 4  # ours, not Google's 9
    assert observed.weekly and observed.dtstart == START
    assert observed.exdates == {skipped.astimezone(UTC)}
    assert observed.duration == timedelta(minutes=30)


def test_exceptions_are_overrides_moved_cancelled_and_declined() -> None:
    spec = _spec()
    master = {**gev.master_body(spec, "x", None), "etag": '"1"', "status": "confirmed"}
    week2 = START + timedelta(weeks=1)
    week3 = START + timedelta(weeks=2)
    week4 = START + timedelta(weeks=3)
    original = {"dateTime": week2.isoformat(), "timeZone": "America/New_York"}
    moved = {
        "id": gev.instance_id(master["id"], week2),
        "recurringEventId": master["id"],
        "originalStartTime": original,
        "start": {"dateTime": (week2 + timedelta(days=1)).isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (week2 + timedelta(days=1, minutes=30)).isoformat()},
        "status": "confirmed",
    }
    cancelled = {
        "id": gev.instance_id(master["id"], week3),
        "recurringEventId": master["id"],
        "originalStartTime": {"dateTime": week3.astimezone(UTC).isoformat()},
        "status": "cancelled",
    }
    declined = {
        "id": gev.instance_id(master["id"], week4),
        "recurringEventId": master["id"],
        "originalStartTime": {"dateTime": week4.isoformat(), "timeZone": "America/New_York"},
        "start": {"dateTime": week4.isoformat(), "timeZone": "America/New_York"},
        "end": {"dateTime": (week4 + timedelta(minutes=30)).isoformat()},
        "status": "confirmed",
        "attendees": [
            {"email": "marco@acme.example", "responseStatus": "accepted"},
            {"email": "Ana@acme.example", "responseStatus": "declined"},
        ],
    }
    observed = _observe(master, [moved, cancelled, declined])
    overrides = observed.overrides
    assert overrides[week2.astimezone(UTC)].start == week2 + timedelta(days=1)
    assert overrides[week3.astimezone(UTC)].cancelled
    assert overrides[week4.astimezone(UTC)].partstats["ana@acme.example"] == "DECLINED"


def test_out_of_office_and_transparent_events_give_days_out_and_no_busy() -> None:
    day = datetime(2027, 1, 11, tzinfo=NY)
    ooo = {
        "id": "ooo01",
        "eventType": "outOfOffice",
        "start": {"dateTime": day.isoformat(), "timeZone": "America/New_York"},
        "end": {"dateTime": (day + timedelta(days=2)).isoformat(), "timeZone": "America/New_York"},
        "status": "confirmed",
    }
    free = {
        "id": "free01",
        "transparency": "transparent",
        "start": {"dateTime": (day + timedelta(hours=9)).isoformat()},
        "end": {"dateTime": (day + timedelta(hours=10)).isoformat()},
        "status": "confirmed",
    }
    window = (day - timedelta(days=1), day + timedelta(days=7))
    _, out = ical.busy_from_object(gev.to_ical(ooo, []), "g", "x@y", *window, NY)
    assert out == {day.date(), (day + timedelta(days=1)).date()}
    busy, _ = ical.busy_from_object(gev.to_ical(free, []), "g", "x@y", *window, NY)
    assert busy == []


def test_hostile_text_cannot_inject_properties() -> None:
    event = {
        "id": "evil1",
        "summary": "x\r\nX-ONEONONE-PAIR:a@b/c@d",
        "description": "line\nATTENDEE:mailto:z@z",
        "start": {"dateTime": START.isoformat()},
        "end": {"dateTime": (START + timedelta(hours=1)).isoformat()},
        "attendees": [{"email": "a@b\r\nX-ONEONONE-PAIR:a@b/c@d", "responseStatus": "accepted"}],
    }
    observed = _observe(event, [])
    assert observed.pair_key is None


def test_an_instance_patch_never_touches_anyones_answer() -> None:
    spec = _spec()
    week2 = START + timedelta(weeks=1)
    override = InstanceOverride(
        week2, week2 + timedelta(hours=2), week2 + timedelta(hours=2, minutes=30), "moved: Ana busy"
    )
    body = gev.instance_body(spec, override)
    assert body["description"] == "moved: Ana busy"
    assert body["start"]["timeZone"] == "America/New_York"
    assert "attendees" not in body


def _at(hour: float) -> datetime:
    return datetime(2027, 1, 5, tzinfo=NY) + timedelta(hours=hour)


def test_subtracting_the_products_own_events_from_free_busy() -> None:
    busy = [(_at(9), _at(11)), (_at(14), _at(15))]
    left = subtract_spans(busy, [(_at(10), _at(10.5))])
    assert left == [
        (_at(9).astimezone(UTC), _at(10).astimezone(UTC)),
        (_at(10.5).astimezone(UTC), _at(11).astimezone(UTC)),
        (_at(14).astimezone(UTC), _at(15).astimezone(UTC)),
    ]


@given(
    st.lists(st.tuples(st.integers(0, 95), st.integers(1, 16)), max_size=8),
    st.lists(st.tuples(st.integers(0, 95), st.integers(1, 16)), max_size=8),
)
def test_subtraction_leaves_exactly_the_busy_minutes_not_removed(
    busy: list[tuple[int, int]], remove: list[tuple[int, int]]
) -> None:
    def spans(items: list[tuple[int, int]]) -> list[tuple[datetime, datetime]]:
        return [(_at(a / 4), _at((a + n) / 4)) for a, n in items]

    def minutes(items: list[tuple[datetime, datetime]]) -> set[int]:
        base = _at(0)
        return {
            m
            for s, e in items
            for m in range(
                int((s - base).total_seconds() // 60), int((e - base).total_seconds() // 60)
            )
        }

    assert minutes(subtract_spans(spans(busy), spans(remove))) == minutes(spans(busy)) - minutes(
        spans(remove)
    )


def test_a_working_day_busy_end_to_end_is_a_day_out() -> None:
    person = Person("ana@acme.example", "Ana", "America/New_York", WorkingHours())
    tuesday = [(_at(8), _at(12)), (_at(12), _at(17.5))]
    wednesday = [(_at(24 + 9), _at(24 + 16.5))]
    days = days_out(tuesday + wednesday, person, _at(-24), _at(24 * 5))
    assert days == {_at(0).date()}


def test_an_event_missing_its_times_is_a_plain_problem_not_a_traceback() -> None:
    import pytest

    from scheduler.providers.google.provider import _parse

    with pytest.raises(ValueError, match="event x1: cannot read the event"):
        _parse({"id": "x1", "start": {"timeZone": "UTC"}}, [], "calendar: event x1")
