"""The series each pair's ledger describes, and the copies that need writing.

Pure: no I/O, no clock. ``series_anchor`` keeps or moves the rule; ``series_work`` builds the
``SeriesSpec`` (with people's answers and agenda links) and lists each copy to write with the
version it must replace; ``end_work`` ends a removed pair's series (RRULE UNTIL, never a
delete).

Exports: series_anchor, series_changed, series_work, end_work, adopt_reason, superseded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import datetime
from functools import lru_cache
from operator import attrgetter
from zoneinfo import ZoneInfo

from scheduler import ical
from scheduler.agenda.plan import SERIES, attach_series
from scheduler.domain import Pair, week_after
from scheduler.domain.records import CopyRecord, OccurrenceRecord, SeriesRecord
from scheduler.domain.series import CalendarRead, ObservedSeries, SeriesSpec, utc
from scheduler.domain.settings import Org
from scheduler.engine.makeups import Target
from scheduler.engine.observe import PairState, lagging
from scheduler.planner import describe_slot
from scheduler.reconcile import (
    SKIPPED,
    anchor_pair,
    at_rule,
    close_reasons_ahead,
    instance_week,
    rule_instance,
    series_spec,
)

__all__ = [
    "adopt_reason",
    "end_work",
    "series_anchor",
    "series_changed",
    "series_work",
    "shown_weeks",
    "superseded",
    "window_holds",
    "window_line",
]


def series_anchor(state: PairState, now: datetime) -> SeriesRecord:
    """The series' rule: kept, or moved to the pair's (possibly edited) slot and duration."""
    pair, existing, records = state.effective, state.anchor, state.history()
    first_week = min(records)
    person_slot = state.choice.to_json() if state.choice is not None else None
    seen_at = now if state.organizer_seen else (existing.seen_at if existing else None)
    if existing is None:
        template = SeriesRecord(
            pair_key=pair.key,
            uid=state.uid,
            organizer=pair.manager.email,
            dtstart=now,  # replaced below
            weekday=pair.slot.weekday,
            at_time=pair.slot.at,
            timezone=pair.manager.timezone,
            duration=pair.duration,
            until=None,
            sequence=0,
            fingerprint="",
            dtstamp=now,
            created_at=now,
            updated_at=now,
            seen_at=seen_at,
            person_slot=person_slot,
            week_shift=pair.week_shift,
        )
        since = first_week
        if state.adopting is not None:
            since = min(since, instance_week(template, state.adopting.dtstart))
        return replace(template, dtstart=rule_instance(template, since))
    rule = (pair.slot.weekday, pair.slot.at, pair.manager.timezone, pair.week_shift)
    ruled = (
        existing
        if (existing.weekday, existing.at_time, existing.timezone, existing.week_shift) == rule
        else replace(
            existing,
            weekday=pair.slot.weekday,
            at_time=pair.slot.at,
            timezone=pair.manager.timezone,
            week_shift=pair.week_shift,
        )
    )
    since = min(first_week, instance_week(existing, existing.dtstart))
    return replace(
        ruled,
        dtstart=rule_instance(ruled, since),
        duration=pair.duration,
        until=None,
        seen_at=seen_at,
        person_slot=person_slot,
    )


#: What ``series_changed`` compares: all but ``seen_at`` (saved on its own) and ``updated_at``.
_SERIES_FACTS = attrgetter(
    *(item.name for item in fields(SeriesRecord) if item.name not in ("seen_at", "updated_at"))
)


def series_changed(before: SeriesRecord | None, after: SeriesRecord) -> bool:
    """Whether saving ``after`` changes the ledger (``seen_at`` is saved on its own)."""
    return before is None or _SERIES_FACTS(before) != _SERIES_FACTS(after)


def adopt_reason(state: PairState, names: Mapping[str, str]) -> str:
    assert state.adopting is not None
    start = state.adopting.dtstart.astimezone(state.pair.manager.zone)
    owner = state.adopting.organizer or state.pair.manager.email
    return (
        f"adopts {names.get(owner, owner)}'s existing weekly 1:1 "
        f"({describe_slot(start, state.pair.manager.zone)}) instead of adding a second one"
    )


def _partstats(
    pair: Pair, copies: Mapping[str, ObservedSeries | None]
) -> tuple[dict[str, str], dict[datetime, dict[str, str]]]:
    """Each person's answers, each read from their own copy (spec: each copy rules its owner's
    PARTSTAT), falling back to the other copy, then to the defaults."""
    master = {pair.manager.email: "ACCEPTED", pair.rep.email: "NEEDS-ACTION"}
    per_instance: dict[datetime, dict[str, str]] = {}
    for owner in (pair.manager.email, pair.rep.email):
        other = pair.rep.email if owner == pair.manager.email else pair.manager.email
        for source in (copies.get(other), copies.get(owner)):  # own copy last: it wins
            if source is None:
                continue
            if owner in source.partstats:
                master[owner] = source.partstats[owner].upper()
            for rid, instance in source.overrides.items():
                if owner in instance.partstats and not instance.cancelled:
                    per_instance.setdefault(utc(rid), {})[owner] = instance.partstats[owner].upper()
    # An instance answer equal to the master's says nothing: drop it so files stay canonical.
    for rid, answers in list(per_instance.items()):
        kept = {who: what for who, what in answers.items() if master.get(who) != what}
        if kept:
            per_instance[rid] = kept
        else:
            del per_instance[rid]
    return master, per_instance


def _words(state: PairState) -> str:
    """What the series is: the head of its description, and all that an instance carrying
    only its agenda link repeats of it (the weeks skipped say nothing of that week)."""
    pair = state.effective
    lines = [
        f"Weekly 1:1 of {pair.manager.name} and {pair.rep.name}, kept on the calendar by "
        "oneonone. Move, cancel or decline a single week as you need: the product never undoes "
        "what a person did.",
    ]
    if state.choice is not None and state.choice.note and state.effective is not state.pair:
        lines += ["", state.choice.note]
    return "\n".join(lines)


def _description(
    words: str, state: PairState, weeks: list[str], ahead: tuple[tuple[datetime, str], ...]
) -> str:
    """The series' description: its ``words``, then every week from this one on that has no
    1:1 and why: the skipped weeks of the horizon and the close weeks written ahead as
    EXDATEs.

    The close weeks ahead are listed whole, not only the horizon's: a year of them is
    already in the series, so a close week that enters the horizon changes no series
    (before, it rewrote every series twice a month; issue 17), and a week with no 1:1
    months away says why, as the spec asks of every change to an occurrence."""
    upcoming = set(weeks)
    skipped = tuple(
        (record.regular_start, record.reason)
        for week, record in sorted(state.records.items())
        if week in upcoming and record.plan_status in SKIPPED
    )
    if not skipped and not ahead:
        return words
    zone = state.effective.manager.zone
    return "\n".join([words, "", *_skipped_lines(skipped, zone), *_skipped_lines(ahead, zone)])


@lru_cache(maxsize=1024)
def _skipped_lines(weeks: tuple[tuple[datetime, str], ...], zone: ZoneInfo) -> tuple[str, ...]:
    """One line per week without a 1:1: its day in ``zone`` and why. Kept: every series on
    one slot lists the same year of close weeks, in every pass."""
    return tuple(f"{start.astimezone(zone):%a %d %b %Y}: {why}" for start, why in weeks)


def _at_rule(
    answers: Mapping[datetime, dict[str, str]], anchor: SeriesRecord
) -> dict[datetime, dict[str, str]]:
    """Answers given to an instance of an earlier rule (before a person moved the whole
    series) go to the same week's instance of the current one: a declined week stays so."""
    found: dict[datetime, dict[str, str]] = {}
    for rid, who in sorted(answers.items()):
        week = instance_week(anchor, rid)
        found.setdefault(utc(rule_instance(anchor, week)), {}).update(who)
    return found


def _ledger_declines(
    answers: Mapping[datetime, dict[str, str]],
    master: Mapping[str, str],
    state: PairState,
    anchor: SeriesRecord,
) -> dict[datetime, dict[str, str]]:
    """The ledger's declines that no copy carries any more: a person declined a week, then
    their copy (and the other, which held the answer too) was deleted. The recreated
    instance says they declined, as the ledger (and the make-up booked for it) does. A copy
    still on the calendar keeps ruling its owner's answer, a changed mind included."""
    found = {rid: dict(who) for rid, who in answers.items()}
    for week, record in state.history().items():
        person = record.changed_by
        if (
            record.change != "declined"
            or person is None
            or state.copies.get(person) is not None
            or master.get(person) == "DECLINED"
        ):
            continue
        found.setdefault(utc(rule_instance(anchor, week)), {}).setdefault(person, "DECLINED")
    return found


def _series_spec(
    org: Org,
    state: PairState,
    anchor: SeriesRecord,
    weeks: list[str],
    since: str | None = None,
) -> SeriesSpec:
    """The pair's series as its ledger describes it (answers and agenda links included);
    with ``since``, built from the weeks from ``since`` on only (``window_holds``)."""
    pair, copies = state.effective, state.copies
    records = state.history()
    if since is not None:
        records = {week: record for week, record in records.items() if week >= since}
    # An adopted event keeps the answers people gave it.
    answers = copies if state.adopting is None else {pair.manager.email: state.adopting}
    master, per_instance = _partstats(pair, answers)
    per_instance = _at_rule(per_instance, anchor)
    if state.adopting is None:
        per_instance = _ledger_declines(per_instance, master, state, anchor)
    ahead = close_reasons_ahead(
        anchor, state.records, org.calendar, org.zone, org.calendar.close_window.policy
    )
    words = _words(state)
    spec = series_spec(
        pair,
        anchor,
        records,
        summary=org.title(pair),
        description=_description(words, state, weeks, ahead),
        partstats=master,
        override_partstats=per_instance,
        choice=state.choice,
        ahead=tuple(rid for rid, _ in ahead),
    )
    linked = attach_series(
        spec,
        {
            rule_instance(anchor, week): link
            for (week, kind), link in state.agendas.items()
            if kind == SERIES and (since is None or week >= since)
        },
        new_kept=ical.AGENDA_LINKS_KEPT,
        words=words,
    )
    # Only the latest weeks' links (ical.AGENDA_LINKS_KEPT): a series written, digested and
    # patched costs the same after a year as after a month (issue 17).
    return ical.with_recent_links(linked)


def _window(spec: SeriesSpec, anchor: SeriesRecord, since: str) -> str:
    """``SeriesRecord.window`` for ``spec``: its weeks from ``since`` on, digested."""
    line = utc(rule_instance(anchor, since))
    part = replace(
        spec,
        exdates=tuple(moment for moment in spec.exdates if utc(moment) >= line),
        overrides=tuple(item for item in spec.overrides if utc(item.recurrence_id) >= line),
    )
    return f"{since} {ical.fingerprint(part)}"


def window_line(weeks: list[str]) -> str:
    """The first week whose instance a pass may still change (last week: time off entered
    after the fact settles it); the weeks before it are settled (issue 17)."""
    return week_after(weeks[0], -1)


def window_holds(org: Org, state: PairState, anchor: SeriesRecord, weeks: list[str]) -> bool:
    """Whether the series of a pair read over a window (``state.history_from``) is the one
    last written, judged from its weeks since ``anchor.window``'s line alone; when it is,
    ``state.unchanged`` is ``anchor`` with the window from this pass's line on (what the
    ledger keeps).

    Sound because a windowed pair's copies are both exactly as the product wrote them (see
    ``scheduler.engine.snapshot``), so nothing of its settled weeks can have changed: their
    records, answers and links are the ones the last write (or full check) digested.
    """
    since = anchor.window_week()
    assert since is not None, "only a pair with a window is read over one"
    spec = _series_spec(org, state, anchor, weeks, since)
    if _window(spec, anchor, since) != anchor.window:
        return False
    line = window_line(weeks)
    window = anchor.window if line == since else _window(spec, anchor, line)
    state.unchanged = replace(anchor, window=window)
    return True


#: What a series' rule is made of: a week at one rule may be off another.
_RULE = attrgetter("weekday", "at_time", "timezone", "week_shift", "duration", "dtstart", "until")


def shown_weeks(
    state: PairState, anchor: SeriesRecord, line: str, writable: Mapping[str, bool]
) -> set[str] | None:
    """The settled weeks (before ``line``) that a write of a windowed pair's series must read
    whole: those its copy, as the product last wrote it, shows (an EXDATE or an override: a
    week skipped, moved or answered, or one of the latest agenda links); ``None`` when every
    settled week must be read. A week at the rule (``at_rule``) that no one answered adds
    nothing to a series but its link, and a series keeps only the latest links, so a write
    reads what its series shows, not a year of weeks (issue 17).

    Sound because a windowed pair's copies are exactly as the product last wrote them, from
    the same settled weeks (they do not change without a whole read, which writes the series
    again if they changed it). Every week is read instead when:

    - the rule changed (every week at the old one is off the new one);
    - the series has a ``SlotChoice`` (an adopted series' history is placed by its first week);
    - the copy held ``AGENDA_LINKS_KEPT`` weeks with only a link and fewer such weeks are left
      (a linked week of the window was moved, say): an older linked week the copy let go of
      is kept again."""
    before = state.anchor
    if state.choice is not None or before is None or _RULE(before) != _RULE(anchor):
        return None
    pair = state.effective
    # A copy the product writes (a read-only calendar, a feed, holds none of its writes).
    copy = next(
        (
            found
            for owner in (pair.manager.email, pair.rep.email)
            if writable.get(owner, False) and (found := state.copies.get(owner)) is not None
        ),
        None,
    )
    if copy is None:
        return None
    first_kept = utc(rule_instance(anchor, line))
    shown = {
        instance_week(anchor, rid)
        for rid in (*copy.exdates, *copy.overrides)
        if utc(rid) < first_kept  # the close weeks ahead are not read: compared first
    }

    # At most the weeks that carry only a link (their answers are not looked at: more).
    linked_at_rule = [
        (rid, one)
        for rid, one in copy.overrides.items()
        if one.attachments and not one.cancelled and one.at_rule_time(anchor.duration)
    ]
    if len(linked_at_rule) < ical.AGENDA_LINKS_KEPT:
        return shown  # the copy let no link go
    # At least the weeks that carry only a link (an instance answer unlike the series': fewer).
    answered = {
        rid
        for each in state.copies.values()
        if each is not None
        for rid, one in each.overrides.items()
        if any(each.partstats.get(who) != what for who, what in one.partstats.items())
    }
    settled_linked = sum(1 for rid, _ in linked_at_rule if rid not in answered and rid < first_kept)
    window_links = sum(
        1
        for week, record in state.records.items()
        if (week, SERIES) in state.agendas
        and not record.change
        and at_rule(anchor, week, record)
        and utc(rule_instance(anchor, week)) not in answered
    )
    return shown if settled_linked + window_links >= ical.AGENDA_LINKS_KEPT else None


def series_work(
    org: Org,
    state: PairState,
    anchor: SeriesRecord,
    now: datetime,
    weeks: list[str],
    writable: Mapping[str, bool],
) -> tuple[SeriesRecord, SeriesSpec, list[Target]]:
    """The pair's series as its ledger describes it, read whole (its version moved on when it
    changed), and the copies that need writing, each with the version it must replace."""
    pair, copies = state.effective, state.copies
    spec = _series_spec(org, state, anchor, weeks)
    fingerprint = ical.fingerprint(spec)
    if fingerprint != anchor.fingerprint:
        anchor = replace(
            anchor,
            sequence=anchor.sequence + 1 if anchor.fingerprint else 0,
            previous_fingerprint=superseded(anchor),
            fingerprint=fingerprint,
            pending=True,
            dtstamp=now,
            updated_at=now,
        )
    anchor = replace(anchor, window=_window(spec, anchor, window_line(weeks)))
    targets: list[Target] = []
    for owner, copy_name in ((pair.manager, "organizer"), (pair.rep, "attendee")):
        if not writable.get(owner.email, False):
            continue  # a read-only calendar (a published feed): the person gets the ICS feed
        copy = copies.get(owner.email)
        if copy is None or copy.fingerprint != fingerprint or copy.sequence != anchor.sequence:
            expect = (
                copy.version
                if copy is not None
                else state.damaged.get(owner.email, state.adopted_versions.get(owner.email))
            )
            targets.append((owner, copy_name, expect))
    return anchor, replace(spec, sequence=anchor.sequence), targets


def confirmed_copies(
    state: PairState, anchor: SeriesRecord, written: Mapping[tuple[str, str], CopyRecord]
) -> list[CopyRecord]:
    """The copy records of a pair read whole with nothing to write whose version the last
    write could not tell (a Google write whose master change the server may have carried to
    weeks it did not patch), with the version this pass read: the copy holds the series as
    written (its stamp and sequence), and the pass, which read it whole, found nothing in it
    to take in or undo. Without this, such a pair was read whole (never over a window) until
    its next write."""
    found: list[CopyRecord] = []
    if anchor.pending or not anchor.fingerprint:
        return found
    for owner, copy in state.copies.items():
        record = written.get((anchor.uid, owner))
        if (
            copy is not None
            and copy.version is not None
            and record is not None
            and record.version is None
            and record.baseline  # read with its baseline (``with_baselines``): kept as it is
            and record.fingerprint == anchor.fingerprint
            and copy.fingerprint == anchor.fingerprint
            and copy.sequence == anchor.sequence
        ):
            found.append(replace(record, version=copy.version))
    return found


def end_work(
    org: Org,
    anchor: SeriesRecord,
    records: Mapping[str, OccurrenceRecord],
    reads: Mapping[str, CalendarRead],
    writable: Mapping[str, bool],
    now: datetime,
) -> tuple[Pair, SeriesRecord, SeriesSpec, list[Target]]:
    """End a removed pair's series at ``now`` on whichever copies are still on their
    calendars (a copy people deleted stays deleted)."""
    pair = anchor_pair(org, anchor)
    manager, rep = pair.manager, pair.rep
    manager_email, rep_email = manager.email, rep.email
    copies = {
        email: reads[email].owned.get(anchor.uid) if email in reads else None
        for email in (manager_email, rep_email)
    }
    ended = replace(anchor, until=now)
    kept = {week: r for week, r in records.items() if rule_instance(anchor, week) <= now}
    master, per_instance = _partstats(pair, copies)
    spec = series_spec(
        pair,
        ended,
        kept,
        summary=org.title(pair)
        if manager_email in org.people and rep_email in org.people
        else f"1:1 {manager.first_name} / {rep.first_name}",
        description="This 1:1 series has ended: the pair is no longer in the org file.",
        partstats=master,
        override_partstats=per_instance,
    )
    fingerprint = ical.fingerprint(spec)
    ended = replace(
        ended,
        sequence=anchor.sequence + 1,
        previous_fingerprint=superseded(anchor),
        fingerprint=fingerprint,
        pending=True,
        dtstamp=now,
        updated_at=now,
    )
    targets: list[Target] = [
        (person, name, copy.version if copy is not None else None)
        for person, name in ((manager, "organizer"), (rep, "attendee"))
        if person.email in reads
        and writable.get(person.email, False)
        and (copy := copies.get(person.email)) is not None
    ]
    return pair, ended, replace(spec, sequence=ended.sequence), targets


def superseded(anchor: SeriesRecord) -> str | None:
    """``previous_fingerprint`` for the next version: the current one, plus the ones still
    lagging when the last version never reached every calendar (several killed passes)."""
    behind = lagging(anchor) if anchor.pending else set()
    if anchor.fingerprint:
        behind.add(anchor.fingerprint)
    return " ".join(sorted(behind)) or None
