"""The one read a pass decides on: every person's calendar and the ledger, as of ``now``.

I/O: reads calendars through their providers and the ledger; writes nothing (a Google session
may keep its sync tokens, the mirror of Google's state, when the pass will apply).

Exports: Snapshot, read_snapshot, foreign_ledger, make_provider, google_session, pass_weeks,
full_slice_of, FULL_DAY, FULL_ROUND, FULL_SLICE.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from scheduler.domain import Person, week_after, week_monday
from scheduler.domain.series import CalendarRead
from scheduler.engine.observe import untouched
from scheduler.errors import CalendarError
from scheduler.orgfile import CalendarConfig, Org
from scheduler.planner import weeks_from
from scheduler.providers import microsoft365
from scheduler.providers.base import CalendarProvider
from scheduler.store.ledger import (
    CopyRecord,
    Ledger,
    MakeupRecord,
    OccurrenceRecord,
    PairRecord,
    SeriesRecord,
)

if TYPE_CHECKING:
    from scheduler.providers.google.provider import GoogleSession

__all__ = [
    "FULL_DAY",
    "FULL_ROUND",
    "FULL_SLICE",
    "Snapshot",
    "foreign_ledger",
    "full_slice_of",
    "google_session",
    "history_line",
    "make_provider",
    "pass_weeks",
    "read_snapshot",
    "record_line",
    "windowed_pairs",
]


@dataclass(frozen=True)
class Snapshot:
    """Calendars and ledger as one pass read them. Nothing in it changes during the pass."""

    now: datetime
    #: the ISO weeks the pass plans (the horizon), the current one first
    weeks: tuple[str, ...]
    providers: Mapping[str, CalendarProvider]
    #: each reachable person's calendar; a person whose calendar failed is missing here
    reads: Mapping[str, CalendarRead]
    #: one sentence per calendar that could not be read
    problems: tuple[str, ...]
    series: Mapping[str, SeriesRecord]
    ledger_weeks: Mapping[str, Mapping[str, OccurrenceRecord]]
    ledger_makeups: Mapping[str, Mapping[str, MakeupRecord]]
    #: the product's last confirmed write of each object to each calendar, by (uid, owner);
    #: ``baseline`` only of the copies people touched (``with_baselines``), else empty
    copies: Mapping[tuple[str, str], CopyRecord]
    ledger_pairs: Mapping[str, PairRecord]
    last_pass: datetime | None
    #: (kind, pair, week) of every notice already recorded about a week from the history line on
    notices_recorded: frozenset[tuple[str, str, str]]
    #: the pairs read over a window: ``ledger_weeks`` holds their weeks from ``record_line``
    #: on, ``ledger_statuses`` the statuses alone of their weeks from ``history_line`` to it,
    #: and make-ups and notices are those from ``history_line`` on; every other pair was read
    #: whole
    windowed: frozenset[str] = frozenset()
    #: the first week of a windowed pair whose status is read (``history_line``)
    history_line: str = ""
    #: the first week of a windowed pair whose whole record is read (``record_line``)
    record_line: str = ""
    #: windowed pairs: {pair: {week: status}} of the weeks from ``history_line`` to
    #: ``record_line`` (settled: what notices count)
    ledger_statuses: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: the day whose full reconciliation this pass ends (every pair read whole, in this pass
    #: or in the day's slices before it), recorded once it applies; ``None`` when that day's
    #: was done or goes on after this pass
    full_day: str | None = None
    #: (day, last pair key) of the slice of the day's full reconciliation this pass reads
    #: whole when more slices follow it, recorded once it applies (``FULL_ROUND``)
    full_round: tuple[str, str] | None = None


def pass_weeks(org: Org, now: datetime, horizon_weeks: int | None) -> list[str]:
    return weeks_from(now, org.zone, horizon_weeks or org.schedule.horizon_weeks)


def read_snapshot(
    org: Org,
    ledger: Ledger,
    now: datetime,
    *,
    horizon_weeks: int | None = None,
    persist: bool = False,
    full_slice: int | None = None,
) -> Snapshot:
    """Read every calendar (from last week to the horizon's end) and the ledger: the whole
    records of the pairs that need them and the window of the others. On the day's first
    pass every pair is read whole, or with ``full_slice`` that many more pairs (in the order
    of their keys) on each of the day's first passes until all were (``full_slice_of``)."""
    weeks = pass_weeks(org, now, horizon_weeks)
    # Last week is read too: time off entered after the fact still settles it.
    window_start = datetime.combine(
        week_monday(week_after(weeks[0], -1)), datetime.min.time(), org.zone
    )
    window_end = datetime.combine(
        week_monday(weeks[-1]) + timedelta(days=7), datetime.min.time(), org.zone
    ) + timedelta(days=1)
    providers: dict[str, CalendarProvider] = {}
    reads: dict[str, CalendarRead] = {}
    problems: list[str] = []
    google = google_session(org, ledger, now, persist=persist)
    microsoft365.begin_pass(org, ledger, now, persist=persist)
    for email, person in org.people.items():
        try:
            provider = make_provider(org.calendars[email], person, google)
            providers[email] = provider
            reads[email] = provider.read(person, window_start - timedelta(days=1), window_end)
        except CalendarError as error:
            problems.append(str(error))
            continue
        problems.extend(reads[email].problems)
    in_org = {pair.key for pair in org.pairs}
    previous = ledger.get_state("last_pass")
    series = ledger.all_series()
    copies = with_baselines(ledger, ledger.copies(baselines=False), reads)
    day = now.astimezone(org.zone).date().isoformat()
    full_day = day if ledger.get_state(FULL_DAY) != day else None
    line, records_from = history_line(org, weeks), record_line(weeks)
    full_round: tuple[str, str] | None = None
    windowed: frozenset[str] = frozenset()
    if full_day is None or full_slice is not None:
        windowed = frozenset(windowed_pairs(org, series, copies, reads, providers, records_from))
    if full_day is not None and full_slice is not None:
        whole_now, last = full_slice_of(in_org, day, ledger.get_state(FULL_ROUND), full_slice)
        if last is not None:
            full_day, full_round = None, (day, last)
        windowed -= whole_now
    statuses: dict[str, dict[str, str]] = {}
    if windowed:
        # The window of every pair, then the whole history of those that need it: pairs
        # that people or a failed write touched, new ones, and series being ended. Of the
        # settled weeks between the two lines only the statuses are read: all the notices
        # count of them (issue 17: a week's record costs a pass far more than its status).
        whole = [pair.key for pair in org.pairs if pair.key not in windowed]
        whole += [key for key, one in series.items() if one.until is None and key not in in_org]
        ledger_weeks = ledger.occurrences(since=records_from)
        statuses = ledger.statuses(since=line, before=records_from)
        ledger_makeups = ledger.makeups(since=line)
        if whole:
            ledger_weeks.update(ledger.occurrences(whole))
            ledger_makeups.update(ledger.makeups(whole))
            for key in whole:
                statuses.pop(key, None)
    else:
        ledger_weeks = ledger.occurrences()
        ledger_makeups = ledger.makeups()
    return Snapshot(
        now=now,
        weeks=tuple(weeks),
        providers=providers,
        reads=reads,
        problems=tuple(problems),
        series=series,
        ledger_weeks=ledger_weeks,
        ledger_makeups=ledger_makeups,
        copies=copies,
        ledger_pairs={record.key: record for record in ledger.pairs()},
        last_pass=datetime.fromisoformat(previous) if previous else None,
        # Every notice a pass decides is about a week from the line on (nudges and escalations
        # within the escalation window, the digest of last week), a prep about a session ahead
        # (one a week per pair: those of settled weeks are never decided again).
        notices_recorded=frozenset(ledger.notice_keys(since=line, preps_since=records_from)),
        windowed=windowed,
        history_line=line,
        record_line=records_from,
        ledger_statuses=statuses,
        full_day=full_day,
        full_round=full_round,
    )


#: The ledger state key of the last day a pass read every pair whole.
FULL_DAY = "full_pass_day"
#: The ledger state key of how far the day's full reconciliation went, when it is read in
#: slices: the day and the last pair key read whole (``full_slice_of``).
FULL_ROUND = "full_pass_round"
#: How many pairs the daemon's passes read whole on top of their own, each, until every pair
#: was on the day (issue 17): a pass reading a large org's every pair whole holds a year of
#: their history at once (the daemon's peak memory grew with it: 212 to 407 MB over a year
#: at 2,000 pairs), and a slice bounds it. At a five-minute poll 10,000 pairs take 40
#: passes, under three and a half hours.
FULL_SLICE = 250


def full_slice_of(
    pair_keys: Iterable[str], day: str, round_state: str | None, size: int
) -> tuple[frozenset[str], str | None]:
    """(the pairs of ``pair_keys`` the next slice of ``day``'s full reconciliation reads
    whole, the last of them when more slices follow, else ``None``). ``round_state`` is
    ``FULL_ROUND``'s value: ``"<day> <last pair key read>"``. Keys, not positions: pairs
    added or removed during the day move no other pair out of its turn (one added before the
    last key read waits for the next day's round, like one added after the day's full check)."""
    keys = sorted(pair_keys)
    after = ""
    if round_state:
        round_day, _, last = round_state.partition(" ")
        if round_day == day:
            after = last
    ahead = keys[bisect_right(keys, after) :] if after else keys
    taken = ahead[: max(size, 1)]
    more = len(ahead) > len(taken)
    return frozenset(taken), (taken[-1] if more else None)


#: How many weeks back a windowed pair's statuses are read: the digest's 12 weeks and the
#: week before (``scheduler.escalation.decide_digest``), at least.
HISTORY_WEEKS = 14
#: How many weeks back a windowed pair's whole records are read: last week (time off entered
#: after the fact still settles it) and the week before, where the ``SeriesRecord.window``
#: written before this week began starts (``scheduler.engine.series.window_holds``).
RECORD_WEEKS = 2


def history_line(org: Org, weeks: Sequence[str]) -> str:
    """The first week read of a pair read over a window: enough settled weeks for the
    notices (digest, nudges, the escalation window) to be decided as on the whole history."""
    return week_after(weeks[0], -max(HISTORY_WEEKS, org.escalation.window_weeks + 2))


def with_baselines(
    ledger: Ledger, copies: dict[tuple[str, str], CopyRecord], reads: Mapping[str, CalendarRead]
) -> dict[tuple[str, str], CopyRecord]:
    """``copies`` with the baselines the pass reads people's edits against: those of the
    copies on a calendar that are not exactly as the product wrote them (``untouched``,
    ``scheduler.engine.observe.written_alternatives``); the others' stay empty."""
    touched = []
    for key, written in copies.items():
        uid, owner = key
        read = reads.get(owner)
        copy = read.owned.get(uid) if read is not None else None
        if copy is not None and not untouched(copy, written):
            touched.append(key)
    if touched:
        for key, baseline in ledger.copy_baselines(touched).items():
            copies[key] = replace(copies[key], baseline=baseline)
    return copies


def record_line(weeks: Sequence[str]) -> str:
    """The first week whose whole record is read of a pair read over a window."""
    return week_after(weeks[0], -RECORD_WEEKS)


def windowed_pairs(
    org: Org,
    series: Mapping[str, SeriesRecord],
    copies: Mapping[tuple[str, str], CopyRecord],
    reads: Mapping[str, CalendarRead],
    providers: Mapping[str, CalendarProvider],
    line: str,
) -> list[str]:
    """The pairs a pass may read over a window (issue 17: a pass's cost must not grow with
    history): those whose series is on every writable calendar exactly as the product last
    wrote it there (same version, fingerprint and sequence), fully written (not pending),
    and digested from a week the window reaches (``SeriesRecord.window``). Nothing of people's
    can hide in their settled weeks: people's edits change a copy's version, and any pair
    whose copy changed is read whole. A read-only calendar (a feed) holds no copy of ours
    to compare and is left out of the test. An attendee's copy that the server keeps (Google,
    Microsoft 365) is recorded at the organizer's version (``apply``), as it is read."""
    found: list[str] = []
    for pair in org.pairs:
        anchor = series.get(pair.key)
        if (
            anchor is None
            or anchor.pending
            or anchor.until is not None
            or (since := anchor.window_week()) is None
            or since < line
        ):
            continue
        for owner in (pair.manager.email, pair.rep.email):
            read, provider = reads.get(owner), providers.get(owner)
            if read is None or provider is None:
                break
            if not provider.capabilities.writable:
                continue
            copy = read.owned.get(anchor.uid)
            written = copies.get((anchor.uid, owner))
            if (
                copy is None
                or not untouched(copy, written)
                or copy.fingerprint != anchor.fingerprint
                or copy.sequence != anchor.sequence
                or copy.pair_key not in (None, pair.key)
            ):
                break
        else:
            found.append(pair.key)
    return found


def foreign_ledger(org: Org, pairs: Mapping[str, PairRecord], where: str) -> str | None:
    """Why the ledger belongs to another org file, or ``None`` when it may be this one's.

    A ledger whose pairs share no person with the org file was made for another org (a
    ``state.db`` copied from elsewhere, a database URL pointing at another deployment): acting
    on it would end every series it knows and write this org's calendars from another's
    history, so the pass refuses before it writes anything.
    """
    if not pairs:
        return None
    people = {email.lower() for email in org.people}
    for record in pairs.values():
        if record.manager.lower() in people or record.rep.lower() in people:
            return None
    return (
        f"the ledger at {where} belongs to another org: none of its {len(pairs)} pairs has a "
        f"person of {org.path.name}; point "
        "ONEONONE_DATABASE_URL (or the org file's data folder) at this org's own ledger, or "
        "move that ledger away to start afresh (it is rebuilt from the calendars)"
    )


def make_provider(
    config: CalendarConfig, person: Person, google: GoogleSession | None = None
) -> CalendarProvider:
    """The provider for one person's calendar configuration, its calls counted in metrics.

    ``google`` is the org's Google session (``google_session``), needed for Google calendars.
    """
    # Imported here, not at the top: this function is the only place that needs them.
    from scheduler.metrics import instrumented
    from scheduler.providers.ics import IcsProvider
    from scheduler.providers.vdir import VdirProvider
    from scheduler.store.files import private_folder

    if config.provider == "vdir" and config.path is not None:
        # The embedded default needs no set-up: a missing folder is created (a folder that
        # vanished and comes back empty is caught by the "suddenly empty" safety stop).
        try:
            private_folder(config.path)
        except OSError as error:
            raise CalendarError(
                f"{person.email}: cannot create the vdir folder {config.path}: {error.strerror}"
            ) from error
        return instrumented(VdirProvider(config.path, person.zone))
    if config.provider == "ics" and (config.url or config.path):
        # Read-only busy time from a published feed; the last good copy is kept under the
        # data folder (orgfile sets cache_dir) so a feed that is down costs no busy time.
        source = config.url or config.path
        assert source is not None
        return instrumented(IcsProvider(source, config.cache_dir, person.zone))
    if config.provider == "google" and google is not None:
        from scheduler.providers.google.provider import GoogleProvider

        return instrumented(GoogleProvider(google, person.email))
    if config.provider == "caldav" and config.url and config.username:
        from scheduler.providers.caldav import provider_for

        return instrumented(provider_for(config, person))
    if config.provider == "microsoft365":
        # Its session is readied per pass by ``microsoft365.begin_pass`` (read_snapshot, check).
        return instrumented(microsoft365.provider_for(config, person))
    raise CalendarError(
        f"{person.email}: the {config.provider!r} calendar provider is not available in this "
        f'version of oneonone; use provider = "vdir", "ics", "google", "caldav" or "microsoft365"'
    )


def google_session(
    org: Org, ledger: Ledger | None, now: datetime, *, persist: bool
) -> GoogleSession | None:
    """The org's Google session for a pass (``None`` when nobody is on Google); its sync
    tokens and caches are kept in the ledger's state when ``persist``."""
    if not any(config.provider == "google" for config in org.calendars.values()):
        return None
    from scheduler.providers.google import session_for
    from scheduler.providers.google.provider import StateStore

    store = StateStore(ledger.get_state, ledger.set_state) if ledger is not None else None
    session = session_for(org, store)
    session.begin(now, persist=persist and store is not None, store=store)
    return session
