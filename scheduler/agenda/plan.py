"""Agendas in the pass, the pure part: which sessions are due a document, which documents to
read back, what reading one means for the pair's action items, and how a document is linked
from the calendar.

Pure: no I/O and no clock (``now`` is an argument). ``scheduler.agenda.publish`` does the I/O.

Sessions (``sessions``): the week's instance of a pair's series when it takes place (not a
close week, not time off, not cancelled, declined or missing), at the time people left it (a
moved instance gets its agenda for its new day), and each make-up the product booked, on its
own day. A session is due a document (``plan_agendas``) from ``lead`` before it starts until it
starts, unless it has one: one per session, (week, kind), and one per pair and day, so a
make-up later on the day of the instance it replaces shares that day's document.
``agenda_lead_hours = 0`` writes none.

Reading back: a document is read once its session has ended (a cancelled one at the end of the
slot it had) and a last time just before the pair's next document is written, so ticks made
after the meeting still count; then it is closed and never read again. ``fold_read`` matches what
the document lists with what the product put in it (``scheduler.agenda.items.carry_over``:
normalised text, exact matches first, then fuzzy ones, one-to-one) and turns that into the
ledger's items:

- a tracked item ticked is ``done``; left unticked it stays ``open``, with the wording people
  left; deleted, it is ``dropped`` (only an open item: a done item stays done);
- a decision is the document's own: an item done or dropped by this document's read goes back
  to ``open`` when people untick it or put it back in the same document; another document's
  decision is never undone by an older one;
- a new line is a new item (ticked: done at once), unless it is word for word (normalised) an
  open item the document did not list, which it then is;
- a document with no checkbox left at all (``wiped``), or deleted, changes nothing: its items
  stay open and carry over (an empty read is never taken as a decision; see ``items``).

Linking: ``attach_series`` puts each document on its week's instance of a series (an unchanged
week gets an override with the rule's own start just to carry it), ``attach_single`` on a
make-up, each as an ``Attachment`` plus the link and a short excerpt (the open items) in the
description.

Exports: Session, AgendaPlan, AgendaLink, FoldResult, sessions, plan_agendas, doc_for,
docs_by_session, ordered_open_items, fold_read, new_item_id, excerpt, attach_series,
attach_single, link_of.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.agenda.items import Item, TrackedItem, carry_over, normalise
from scheduler.domain import LedgerStatus, PlanStatus
from scheduler.domain.records import (
    ActionItemRecord,
    AgendaDocRecord,
    MakeupRecord,
    OccurrenceRecord,
)
from scheduler.domain.series import Attachment, InstanceOverride, SeriesSpec, utc

__all__ = [
    "AgendaLink",
    "AgendaPlan",
    "FoldResult",
    "Session",
    "attach_series",
    "attach_single",
    "doc_for",
    "docs_by_session",
    "excerpt",
    "fold_read",
    "link_of",
    "new_item_id",
    "ordered_open_items",
    "plan_agendas",
    "sessions",
]

SERIES = "series"
MAKEUP = "makeup"
#: Open items listed in an event's description; the rest are counted.
EXCERPT_ITEMS = 5

_SKIPPED = frozenset(
    {
        PlanStatus.CLOSE_WEEK.value,
        PlanStatus.TIME_OFF.value,
        LedgerStatus.CLOSE_WEEK.value,
        LedgerStatus.TIME_OFF.value,
    }
)
#: Document states that are written (have a url) and may still be read back.
_LIVE = frozenset({"written", "read"})


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True)
class Session:
    """One meeting of a pair that may get an agenda: a week's instance or a make-up."""

    pair_key: str
    week: str
    kind: str  # "series" or "makeup"
    start: datetime
    end: datetime
    day: str  # YYYY-MM-DD in the organizer's time zone: the document's day


def _happens(record: OccurrenceRecord) -> bool:
    return not (
        record.away
        or record.plan_status in _SKIPPED
        or record.status in _SKIPPED
        or record.change in ("cancelled", "declined", "missing")
    )


def sessions(
    pair_key: str,
    records: Mapping[str, OccurrenceRecord],
    makeups: Mapping[str, MakeupRecord],
    zone: ZoneInfo,
) -> list[Session]:
    """Every session of a pair the ledger knows, in start order (past ones included: their
    end says when their documents are read back)."""
    found: list[Session] = []
    for week, record in records.items():
        if not _happens(record):
            continue
        start = record.actual_start or record.planned_start
        end = record.actual_end or record.planned_end
        found.append(
            Session(pair_key, week, SERIES, start, end, start.astimezone(zone).date().isoformat())
        )
    for week, makeup in makeups.items():
        if makeup.state != "booked":
            continue  # cancelled or declined by people; one people booked is not ours to attach
        found.append(
            Session(
                pair_key,
                week,
                MAKEUP,
                makeup.start,
                makeup.end,
                makeup.start.astimezone(zone).date().isoformat(),
            )
        )
    return sorted(found, key=lambda s: (utc(s.start), s.kind))


def doc_for(
    session: Session,
    docs: Mapping[str, AgendaDocRecord],
    by_session: Mapping[tuple[str, str], AgendaDocRecord] | None = None,
) -> AgendaDocRecord | None:
    """The document of ``session``: its own, else the pair's document of that day.
    ``by_session`` (``docs_by_session(docs)``) when asked for many sessions: a walk of every
    document for each session was quadratic in a pair's history (issue 17)."""
    if by_session is None:
        by_session = docs_by_session(docs)
    own = by_session.get((session.week, session.kind))
    return own if own is not None else docs.get(session.day)


def docs_by_session(
    docs: Mapping[str, AgendaDocRecord],
) -> dict[tuple[str, str], AgendaDocRecord]:
    """{(week, kind): the first of ``docs`` (in their order) of that session}."""
    found: dict[tuple[str, str], AgendaDocRecord] = {}
    for doc in docs.values():
        found.setdefault((doc.week, doc.kind), doc)
    return found


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True, slots=True)
class AgendaPlan:
    """What one pass does with one pair's agendas."""

    #: sessions to write a document for, in start order
    due: tuple[Session, ...]
    #: documents recorded but maybe never written (a pass stopped in between): write them now
    recover: tuple[AgendaDocRecord, ...]
    #: documents to read back now
    read: tuple[AgendaDocRecord, ...]
    #: session dates of the documents this read is the last one of (they are closed after it)
    closing: frozenset[str]


def _ended(
    doc: AgendaDocRecord, by_session: Mapping[tuple[str, str], Session], now: datetime
) -> bool:
    session = by_session.get((doc.week, doc.kind))
    end = session.end if session is not None else doc.end
    return utc(end) <= utc(now)


def plan_agendas(
    all_sessions: Sequence[Session],
    docs: Mapping[str, AgendaDocRecord],
    now: datetime,
    lead: timedelta,
) -> AgendaPlan:
    """What to write and read for one pair (see the module docstring)."""
    due: list[Session] = []
    days: set[str] = set()
    if lead > timedelta(0):
        docs_of = docs_by_session(docs)
        for session in all_sessions:
            if not utc(session.start) - lead <= utc(now) < utc(session.start):
                continue
            if doc_for(session, docs, docs_of) is not None or session.day in days:
                continue
            due.append(session)
            days.add(session.day)
    by_session = {(s.week, s.kind): s for s in all_sessions}
    read: list[AgendaDocRecord] = []
    closing: set[str] = set()
    for day, doc in sorted(docs.items()):
        if doc.state not in _LIVE:
            continue
        ended = _ended(doc, by_session, now)
        if due and (doc.state == "read" or ended):
            read.append(doc)
            closing.add(day)
        elif doc.state == "written" and ended:
            read.append(doc)
    recover = tuple(doc for _, doc in sorted(docs.items()) if doc.state == "pending")
    return AgendaPlan(tuple(due), recover, tuple(read), frozenset(closing))


# --------------------------------------------------------------------------- items


def ordered_open_items(
    items: Mapping[str, ActionItemRecord], docs: Mapping[str, AgendaDocRecord]
) -> list[ActionItemRecord]:
    """The pair's open items in the order people left them: the order of the latest document
    read back, then any others in the order they were first seen."""
    open_items = {key: item for key, item in items.items() if item.state == "open"}
    ordered: list[ActionItemRecord] = []
    read_docs = [doc for _, doc in sorted(docs.items()) if doc.read_at is not None]
    if read_docs:
        for item_id, _ in read_docs[-1].items:
            found = open_items.pop(item_id, None)
            if found is not None:
                ordered.append(found)
    ordered.extend(open_items[key] for key in sorted(open_items))
    return ordered


def new_item_id(day: str, taken: Iterable[str]) -> str:
    """``<day>#<nn>``: the next free number among the items first seen in ``day``'s agenda."""
    prefix = f"{day}#"
    numbers = [
        int(t[len(prefix) :]) for t in taken if t.startswith(prefix) and t[len(prefix) :].isdigit()
    ]
    return f"{prefix}{max(numbers, default=0) + 1:02d}"


@dataclass(frozen=True, slots=True)
class FoldResult:
    """What reading one document back changes: the document and the pair's items."""

    doc: AgendaDocRecord
    changed: tuple[ActionItemRecord, ...]
    #: the document lists no checkbox at all although it had items: nothing was changed
    wiped: bool = False
    #: the document is gone (deleted): nothing was changed
    gone: bool = False


def _event(item: ActionItemRecord, now: datetime, what: str, agenda: str) -> ActionItemRecord:
    entry = (now.isoformat(), what, item.text, agenda)
    return replace(item, updated_at=now, history=(*item.history, entry))


def fold_read(
    doc: AgendaDocRecord,
    items: Mapping[str, ActionItemRecord],
    text: str | None,
    now: datetime,
    *,
    closing: bool = False,
) -> FoldResult:
    """Read one document's text back into the pair's items (see the module docstring).

    ``items`` are all the pair's items by id; ``text`` is ``None`` when the document is gone.
    The document's ``items`` become what it lists now (and what it listed and lost, so a line
    put back is matched again), its ``read_at`` ``now`` and its state ``read``, or ``closed``
    when ``closing``.
    """
    day = doc.session_date
    state = "closed" if closing else "read"
    if text is None:
        return FoldResult(replace(doc, state="gone", read_at=now), (), gone=True)
    tracked = [TrackedItem(item_id, item_text) for item_id, item_text in doc.items]
    result = carry_over(tracked, text)
    if result.wiped:
        return FoldResult(replace(doc, state=state, read_at=now), (), wiped=True)

    current = dict(items)
    changed: dict[str, ActionItemRecord] = {}

    def put(item: ActionItemRecord) -> None:
        current[item.id] = item
        changed[item.id] = item

    def seen(item: ActionItemRecord, wording: str) -> ActionItemRecord:
        """The item with the wording people left and this document as the last to list it."""
        if wording != item.text:
            item = _event(replace(item, text=wording, key=normalise(wording)), now, "reworded", day)
        if item.last_agenda < day:
            item = replace(item, last_agenda=day, updated_at=now)
        return item

    placed: list[tuple[int, str, str]] = []  # (line, id, text) of what the document lists
    for match in (*result.done, *result.still_open):
        item = current.get(match.tracked.id)
        if item is None:
            continue  # not in the ledger (it never is: ids come from it); nothing to record
        before = item
        ours = item.decided_in == day
        if match.item.done and (item.state == "open" or (ours and item.state == "dropped")):
            item = replace(item, state="done", done_at=now, decided_in=day, updated_at=now)
            item = _event(item, now, "done", day)
        elif not match.item.done and item.state != "open" and ours:
            item = replace(item, state="open", done_at=None, decided_in=None, updated_at=now)
            item = _event(item, now, "reopened", day)
        item = seen(item, match.text)
        if item != before:
            put(item)
        placed.append((match.item.line, item.id, match.text))

    for lost in result.dropped:
        item = current.get(lost.id)
        if item is not None and item.state == "open":
            item = replace(item, state="dropped", decided_in=day, updated_at=now)
            put(_event(item, now, "dropped", day))

    listed = {item_id for _, item_id, _ in placed} | {t.id for t in tracked}
    for new in result.added:
        linked = _same_open_item(current, listed, new)
        if linked is not None:
            item = seen(linked, new.text)
            if new.done:
                item = _event(
                    replace(item, state="done", done_at=now, decided_in=day, updated_at=now),
                    now,
                    "done",
                    day,
                )
        else:
            item_id = new_item_id(day, current)
            item = ActionItemRecord(
                pair_key=doc.pair_key,
                id=item_id,
                text=new.text,
                key=normalise(new.text),
                state="done" if new.done else "open",
                first_agenda=day,
                last_agenda=day,
                created_at=now,
                updated_at=now,
                decided_in=day if new.done else None,
                done_at=now if new.done else None,
                history=((now.isoformat(), "added", new.text, day),),
            )
            if new.done:
                item = _event(item, now, "done", day)
        put(item)
        listed.add(item.id)
        placed.append((new.line, item.id, new.text))

    lost_items = tuple((t.id, t.text) for t in result.dropped)
    now_lists = tuple((item_id, wording) for _, item_id, wording in sorted(placed)) + lost_items
    new_doc = replace(doc, items=now_lists, state=state, read_at=now)
    return FoldResult(new_doc, tuple(changed[key] for key in sorted(changed)))


def _same_open_item(
    items: Mapping[str, ActionItemRecord], listed: set[str], new: Item
) -> ActionItemRecord | None:
    """An open item of the pair, not listed in this document, worded exactly as ``new``."""
    key = normalise(new.text)
    for item_id in sorted(items):
        item = items[item_id]
        if item.state == "open" and item_id not in listed and item.key == key:
            return item
    return None


# --------------------------------------------------------------------------- linking


@dataclass(frozen=True, slots=True)
class AgendaLink:
    """A written document as the calendar shows it."""

    url: str
    title: str
    excerpt: str

    @property
    def attachment(self) -> Attachment:
        return Attachment(url=self.url, title=self.title)

    def describe(self, description: str) -> str:
        """``description`` followed by the link and the excerpt."""
        lines = [description.rstrip(), "", f"Agenda: {self.url}"]
        if self.excerpt:
            lines.append(self.excerpt)
        return "\n".join(lines).lstrip("\n")


def link_of(doc: AgendaDocRecord) -> AgendaLink | None:
    """The link of a written document; ``None`` while it is only recorded."""
    if doc.url is None or doc.state == "pending":
        return None
    return AgendaLink(doc.url, doc.title, doc.excerpt)


def excerpt(rep_first_name: str, open_items: Sequence[str]) -> str:
    """The lines an event's description shows under the agenda's link."""
    lines = [f"{rep_first_name} prepares it before the 1:1."]
    if open_items:
        lines.append("Open action items:")
        lines.extend(f"- {text}" for text in open_items[:EXCERPT_ITEMS])
        if len(open_items) > EXCERPT_ITEMS:
            lines.append(f"- and {len(open_items) - EXCERPT_ITEMS} more in the agenda")
    return "\n".join(lines)


def attach_series(
    spec: SeriesSpec,
    links: Mapping[datetime, AgendaLink],
    *,
    new_kept: int | None = None,
    words: str | None = None,
) -> SeriesSpec:
    """``spec`` with each link on the instance whose original start (recurrence id) is its
    key; instances the spec skips (EXDATE) or does not have (outside the rule) get none.
    ``new_kept``: of the instances the spec does not override, only the latest that many get
    an override to carry their link (``ical.with_recent_links`` would drop the older ones:
    a year of links made and dropped at every write). ``words``: what an instance made only
    to carry its link says above it (the spec's description when not given); the series
    gives its words without the weeks it skips, so the instance does not change with them."""
    if not links:
        return spec
    overrides = {utc(o.recurrence_id): o for o in spec.overrides}
    skipped = {utc(moment) for moment in spec.exdates}
    first = utc(spec.dtstart)
    until = utc(spec.until) if spec.until is not None else None
    linked = {
        key: (rid, link)
        for rid, link in links.items()
        if (key := utc(rid)) not in skipped and key >= first and (until is None or key <= until)
    }
    if new_kept is not None:
        new = sorted(key for key in linked if key not in overrides)
        for key in new[: max(len(new) - new_kept, 0)]:
            del linked[key]
    for key, (rid, link) in linked.items():
        zone = spec.dtstart.tzinfo
        current = overrides.get(key) or InstanceOverride(
            recurrence_id=rid,
            start=rid,
            # On the absolute timeline, as everywhere: a DST change keeps the meeting's length.
            end=(key + spec.duration).astimezone(zone),
        )
        overrides[key] = replace(
            current,
            description=link.describe(current.description or words or spec.description),
            attachment=link.attachment,
        )
    return replace(spec, overrides=tuple(overrides[key] for key in sorted(overrides)))


def attach_single(spec: SeriesSpec, link: AgendaLink | None) -> SeriesSpec:
    """A single event (a make-up) with its agenda."""
    if link is None:
        return spec
    return replace(spec, description=link.describe(spec.description), attachment=link.attachment)
