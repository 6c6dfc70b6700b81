"""Agendas in the pass, the I/O part: read documents back, write the ones due, and tell the pass
what to attach to which instance and whom to ask to prepare.

I/O: the agenda stores (``scheduler.agenda.store``) and the ledger; reads the template and the
pipeline CSVs once per pass, and only when a document is due. The decisions are
``scheduler.agenda.plan``'s. ``scheduler.sync.run_pass`` calls ``publish_agendas`` once the
weeks are settled and before it builds the series, so a document written in a pass is attached
by that same pass; with ``apply=False`` (``oneonone plan``) nothing is read or written and only
what exists is linked.

Order of durable effects, so that a document is written once whatever stops a pass (the
notices' way: record, then act):

1. a document recorded by an earlier pass but maybe never written (``pending``) is created now
   (the store finds it if it was, and leaves it);
2. the documents due a read are read and their items saved, in one transaction;
3. each new document is recorded with the exact text to write (``pending``, a unique key per
   session and per day, so a second pass or replica records nothing), then created in its
   store (which never overwrites a document), then marked ``written``.

The creations of steps 1 and 3 are gathered over all pairs and made together at the end of the
step (``create_all``: a Drive store looks for, creates and shares the documents of a whole org
in a few batched requests), except that a pair with a second document due has its first
created before the second is written (the second links to it).

Exports: PairAgendas, AgendaOutcome, publish_agendas, agenda_store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scheduler.agenda.context import AgendaContext
from scheduler.agenda.pipeline import (
    Deal,
    Metric,
    deal_summary,
    metric_lines,
    read_deals,
    read_metrics,
)
from scheduler.agenda.plan import (
    MAKEUP,
    AgendaLink,
    AgendaPlan,
    Session,
    doc_for,
    docs_by_session,
    excerpt,
    fold_read,
    link_of,
    ordered_open_items,
    plan_agendas,
    sessions,
)
from scheduler.agenda.store import (
    AgendaKey,
    AgendaStore,
    AgendaStoreError,
    DatabaseAgendaStore,
    MarkdownFolderStore,
    NewDoc,
    create_all,
)
from scheduler.agenda.template import AgendaTemplate, TemplateProblem, load_template
from scheduler.domain import Pair
from scheduler.escalation import Decision, decide_prep
from scheduler.feeds import agenda_url, current_link
from scheduler.orgfile import Org
from scheduler.store.ledger import (
    ActionItemRecord,
    AgendaDocRecord,
    Ledger,
    MakeupRecord,
    OccurrenceRecord,
)

__all__ = ["AgendaOutcome", "PairAgendas", "agenda_store", "publish_agendas", "settled_links"]

log = logging.getLogger(__name__)

StoreFor = Callable[[Org, Ledger, Pair], AgendaStore]


def agenda_store(org: Org, ledger: Ledger, pair: Pair) -> AgendaStore:
    """The store of ``pair``'s agendas: a Google Doc in the manager's Drive when the manager is
    on Google Calendar (the spec's "Google" case); else, on a ledger shared by replicas
    (PostgreSQL), the ledger's database; else Markdown files under ``<data_dir>/agendas``.
    Either of the last two is served by the feed server at the same address."""
    config = org.calendars.get(pair.manager.email)
    if config is not None and config.provider == "google":
        # Imported here so that an org without Google never loads Google's client libraries.
        from scheduler.providers.google import client_for
        from scheduler.providers.google.drive import DriveAgendaStore

        return DriveAgendaStore(client_for(org), pair.manager.email)
    if ledger.shared:
        # Several replicas: the documents live in the database, so every replica serves them.
        return DatabaseAgendaStore(
            ledger,
            lambda key: agenda_url(
                org, ledger, Path(key.manager.lower(), key.rep.lower(), f"{key.day}.md")
            ),
            datetime.now(UTC),
        )
    return MarkdownFolderStore(org.data_dir / "agendas", lambda path: agenda_url(org, ledger, path))


@dataclass(frozen=True, slots=True)
class PairAgendas:
    """One pair's weeks and make-ups as the pass has just settled them."""

    pair: Pair
    records: Mapping[str, OccurrenceRecord]
    makeups: Mapping[str, MakeupRecord]
    #: the first week of ``records`` when the pass read the pair over a window (its
    #: documents are read from there on, and the few it needs from ``history_line`` on, see
    #: ``Ledger.window_agenda_docs``); ``None``: the pair's whole history
    since: str | None = None
    history_line: str | None = None


@dataclass
class AgendaOutcome:
    """What the agenda step did and what the rest of the pass must do with it."""

    #: pair key -> (week, "series" | "makeup") -> the link to attach to that session
    links: dict[str, dict[tuple[str, str], AgendaLink]] = field(default_factory=dict)
    #: pair key -> week -> the agenda address the week shows (``report``'s ``agenda``)
    urls: dict[str, dict[str, str]] = field(default_factory=dict)
    #: prep notices (each goes once: the notice pipeline's key decides)
    decisions: list[Decision] = field(default_factory=list)
    #: things the user must fix (a broken template, a store that cannot be written)
    problems: list[str] = field(default_factory=list)
    #: things worth saying that need no fixing (an agenda read back empty)
    warnings: list[str] = field(default_factory=list)
    due: int = 0
    written: int = 0
    read: int = 0
    #: a dry run's documents due (``oneonone plan``): what a pass would write, and ask the rep
    #: to prepare (its prep notice is in ``decisions``, with no address yet)
    planned: list[Session] = field(default_factory=list)


class _Inputs:
    """The template and the pipeline data, loaded at most once per pass, when first needed."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._templates: dict[Path, AgendaTemplate | None] = {}
        self._template_problem: str | None = None
        self._pipeline: tuple[list[Deal], list[Metric], list[str]] | None = None

    def template(self, pair_key: str | None = None) -> AgendaTemplate | None:
        """The template of ``pair_key``'s agendas (the org's without one), or None when it
        cannot be used (``template_problem`` says why)."""
        path = (
            self.org.agenda.template if pair_key is None else self.org.agenda.template_for(pair_key)
        )
        if path not in self._templates:
            try:
                self._templates[path] = load_template(path)
            except TemplateProblem as problem:
                self._templates[path] = None
                self._template_problem = f"no agenda was written: {problem}"
        return self._templates[path]

    @property
    def template_problem(self) -> str | None:
        return self._template_problem

    def pipeline(self) -> tuple[list[Deal], list[Metric], list[str]]:
        if self._pipeline is None:
            deals: list[Deal] = []
            metrics: list[Metric] = []
            problems: list[str] = []
            if self.org.agenda.pipeline_csv is not None:
                deals, found = read_deals(self.org.agenda.pipeline_csv)
                problems += found
            if self.org.agenda.metrics_csv is not None:
                metrics, found = read_metrics(self.org.agenda.metrics_csv)
                problems += found
            for problem in problems:
                log.warning("agenda pipeline data: %s", problem)
            self._pipeline = (deals, metrics, problems)
        return self._pipeline


def publish_agendas(
    org: Org,
    ledger: Ledger,
    pairs: Sequence[PairAgendas],
    now: datetime,
    *,
    apply: bool,
    store_for: StoreFor = agenda_store,
) -> AgendaOutcome:
    """Read back, write and link the agendas of ``pairs`` (see the module docstring)."""
    keys = [p.pair.key for p in pairs]
    all_docs = _documents(ledger, pairs)
    all_items = ledger.action_items(keys)
    lead = timedelta(hours=org.schedule.agenda_lead_hours)
    inputs = _Inputs(org)
    outcome = AgendaOutcome()
    creations = _Creations(ledger, now, outcome)
    linking: list[
        tuple[Pair, list[Session], dict[str, AgendaDocRecord], dict[str, ActionItemRecord]]
    ] = []
    for entry in pairs:
        pair = entry.pair
        docs = dict(all_docs.get(pair.key, {}))
        items = dict(all_items.get(pair.key, {}))
        found = sessions(pair.key, entry.records, entry.makeups, pair.manager.zone)
        plan = plan_agendas(found, docs, now, lead)
        if plan.due and apply and inputs.template(pair.key) is None:
            # Nothing can be written: read back as usual, but close no document for it.
            plan = plan_agendas(found, docs, now, timedelta(0))
        outcome.due += len(plan.due)
        if apply:
            store = store_for(org, ledger, pair)
            _recover(store, pair, plan, docs, creations)
            _read_back(store, ledger, plan, docs, items, now, outcome)
            _write_due(org, store, pair, plan, docs, items, inputs, now, creations, outcome)
        else:
            for session in plan.due:
                outcome.planned.append(session)
                outcome.decisions.append(
                    decide_prep(pair.key, pair.rep.email, session.week, "", session.start, [])
                )
        linking.append((pair, found, docs, items))
    creations.flush()
    for pair, found, docs, items in linking:
        _link(pair, found, _current_links(org, docs), items, now, outcome)
    if inputs.template_problem is not None:
        outcome.problems.append(inputs.template_problem)
    return outcome


def _documents(
    ledger: Ledger, pairs: Sequence[PairAgendas]
) -> dict[str, dict[str, AgendaDocRecord]]:
    """The pairs' documents: those a pass needs, for pairs read over a window (issue 17)."""
    found: dict[str, dict[str, AgendaDocRecord]] = {}
    by_line: dict[tuple[str, str] | None, list[str]] = {}
    for entry in pairs:
        lines = (entry.history_line or entry.since, entry.since) if entry.since else None
        by_line.setdefault(lines, []).append(entry.pair.key)
    for lines, keys in by_line.items():
        if lines is None:
            found.update(ledger.agenda_docs(keys))
        else:
            since, records_from = lines
            found.update(ledger.window_agenda_docs(keys, since=since, records_from=records_from))
    return found


def settled_links(
    org: Org,
    ledger: Ledger,
    pairs: Sequence[PairAgendas],
    now: datetime,
    shown: Collection[str] = (),
) -> dict[str, dict[tuple[str, str], AgendaLink]]:
    """The agenda links of settled weeks that a pass read late (a pair read over a window
    that it writes whole): what ``publish_agendas`` links them to, from the documents on
    record; nothing is read back or written (their sessions are long over). The pairs
    ``shown`` were given only the weeks their series shows: only their documents are read
    (``doc_for``: of those weeks, and of their sessions' days)."""
    found = {
        entry.pair.key: sessions(
            entry.pair.key, entry.records, entry.makeups, entry.pair.manager.zone
        )
        for entry in pairs
    }
    whole = [entry.pair.key for entry in pairs if entry.pair.key not in shown]
    # Without items and bodies: a settled week is only linked (its items are not listed).
    all_docs = ledger.agenda_docs(whole, links_only=True) if whole else {}
    few = [key for key in found if key in shown]
    if few:
        # A pair has one document a day: those of these sessions' weeks and days are the
        # ones ``doc_for`` can find for them.
        all_docs.update(
            ledger.agenda_links_of(
                {key: {s.week for s in found[key]} for key in few},
                {key: {s.day for s in found[key]} for key in few},
            )
        )
    outcome = AgendaOutcome()
    for entry in pairs:
        pair = entry.pair
        docs = _current_links(org, all_docs.get(pair.key, {}))
        _link(pair, found[pair.key], docs, {}, now, outcome)
    return outcome.links


def _current_links(org: Org, docs: Mapping[str, AgendaDocRecord]) -> Mapping[str, AgendaDocRecord]:
    """``docs`` with their links on the ``public_url`` in force now (calendars and prep
    notices), whatever was stored when each was written; a copy only of those that differ."""
    current = dict(docs)
    for day, doc in docs.items():
        if doc.url and (url := current_link(org, doc.url)) != doc.url:
            current[day] = replace(doc, url=url)
    return current


@dataclass
class _Creation:
    store: AgendaStore
    pair: Pair
    record: AgendaDocRecord
    body: str
    docs: dict[str, AgendaDocRecord]  # the pair's documents, updated once it is written
    #: the action items a document this pass decided on carries, saved when it is recorded;
    #: ``None`` for one an earlier pass recorded
    carried: list[ActionItemRecord] | None = None


class _Creations:
    """Documents to create: those this pass decided on are recorded (``pending``, with the
    action items they carry) by ``flush`` in one transaction, before any is created; then
    all are created together (``create_all``), each then marked ``written``; one that fails
    is said and stays pending for the next pass. A pair's next document waits for its
    earlier one's flush, which gives its address (``waiting``)."""

    def __init__(self, ledger: Ledger, now: datetime, outcome: AgendaOutcome) -> None:
        self.ledger = ledger
        self.now = now
        self.outcome = outcome
        #: by pair: every pair asks whether it has one (``waiting``) before it queues its own,
        #: and a scan of one list for each was quadratic in the org's size (1.9 million
        #: comparisons in a 2,000-pair weekly pass, issue 17)
        self.queued: dict[str, list[_Creation]] = {}

    def add(self, creation: _Creation) -> None:
        self.queued.setdefault(creation.pair.key, []).append(creation)

    def waiting(self, pair_key: str) -> bool:
        return pair_key in self.queued

    def flush(self, pair_key: str | None = None) -> None:
        """Create the queued documents (only ``pair_key``'s when given)."""
        if pair_key is None:
            now = [creation for queued in self.queued.values() for creation in queued]
            self.queued = {}
        else:
            now = self.queued.pop(pair_key, [])
        now = self._claim(now)
        if not now:
            return
        made = create_all(
            [
                (
                    c.store,
                    NewDoc(
                        _key(c.pair, c.record.session_date), c.record.title, c.body, _people(c.pair)
                    ),
                )
                for c in now
            ]
        )
        written: list[AgendaDocRecord] = []
        for creation, answer in zip(now, made, strict=True):
            record = creation.record
            if isinstance(answer, AgendaStoreError):
                self.outcome.problems.append(
                    f"the agenda of {creation.pair.key} on {record.session_date}: {answer}"
                )
                continue
            done = replace(
                record,
                url=answer.url,
                ref=answer.ref,
                state="written",
                body=None,
                written_at=self.now,
            )
            written.append(done)
            creation.docs[record.session_date] = done
            self.outcome.written += 1
        if written:
            self.ledger.save_agenda_docs(written)

    def _claim(self, creations: list[_Creation]) -> list[_Creation]:
        """Record the documents among ``creations`` that no pass recorded yet, with the items
        they carry, in one transaction, committed before any is created (a crash between
        leaves a pending record, never a document the ledger does not know). One another pass
        or replica recorded first is left to it: nothing of it is saved here (what this pass
        holds of it has no address, so nothing links it)."""
        new = [creation for creation in creations if creation.carried is not None]
        if not new:
            return creations
        with self.ledger.transaction():
            claimed = self.ledger.claim_agenda_docs([creation.record for creation in new])
            lost = {id(creation) for creation, ok in zip(new, claimed, strict=True) if not ok}
            self.ledger.save_action_items(
                [
                    item
                    for creation in new
                    if id(creation) not in lost
                    for item in creation.carried or ()
                ]
            )
        return [creation for creation in creations if id(creation) not in lost]


def _key(pair: Pair, day: str) -> AgendaKey:
    return AgendaKey(pair.manager.email, pair.rep.email, date.fromisoformat(day))


def _people(pair: Pair) -> tuple[str, str]:
    return (pair.manager.email, pair.rep.email)


def _recover(
    store: AgendaStore,
    pair: Pair,
    plan: AgendaPlan,
    docs: dict[str, AgendaDocRecord],
    creations: _Creations,
) -> None:
    """Queue the documents an earlier pass recorded and may not have written (the store finds
    one that was)."""
    for doc in plan.recover:
        creations.add(_Creation(store, pair, doc, doc.body or "", docs))


def _read_back(
    store: AgendaStore,
    ledger: Ledger,
    plan: AgendaPlan,
    docs: dict[str, AgendaDocRecord],
    items: dict[str, ActionItemRecord],
    now: datetime,
    outcome: AgendaOutcome,
) -> None:
    """Read the documents due a read and record what people did to their items."""
    changed_docs: list[AgendaDocRecord] = []
    changed_items: dict[str, ActionItemRecord] = {}
    for planned in plan.read:
        doc = docs[planned.session_date]
        if doc.ref is None:
            continue
        try:
            text = store.read(doc.ref)
        except AgendaStoreError as error:
            outcome.problems.append(f"the agenda of {doc.pair_key} on {doc.session_date}: {error}")
            continue
        folded = fold_read(doc, items, text, now, closing=doc.session_date in plan.closing)
        outcome.read += 1
        where = f"the agenda of {doc.pair_key} on {doc.session_date} ({doc.url})"
        still_open = sum(1 for item in items.values() if item.state == "open")
        if folded.gone:
            outcome.warnings.append(
                f"{where} was deleted; its {still_open} open action items stay open and carry "
                "over to the next agenda"
            )
        elif folded.wiped:
            outcome.warnings.append(
                f"{where} has no action items left at all, which looks like an accident rather "
                f"than a decision; its {still_open} open action items stay open and carry over"
            )
        docs[doc.session_date] = folded.doc
        changed_docs.append(folded.doc)
        for item in folded.changed:
            items[item.id] = item
            changed_items[item.id] = item
    if not changed_docs:
        return
    with ledger.transaction():
        ledger.save_agenda_docs(changed_docs)
        ledger.save_action_items(list(changed_items.values()))


def _write_due(
    org: Org,
    store: AgendaStore,
    pair: Pair,
    plan: AgendaPlan,
    docs: dict[str, AgendaDocRecord],
    items: dict[str, ActionItemRecord],
    inputs: _Inputs,
    now: datetime,
    creations: _Creations,
    outcome: AgendaOutcome,
) -> None:
    """Record the document of each session due one, and queue it to be written."""
    for session in plan.due:
        template = inputs.template(pair.key)
        if template is None:
            return
        if creations.waiting(pair.key):
            creations.flush(pair.key)  # its address goes in this one ("previous agenda")
        open_items = ordered_open_items(items, docs)
        texts = [item.text for item in open_items]
        body = _render(org, template, pair, session, texts, docs, inputs, now, outcome)
        if body is None:
            return
        local = session.start.astimezone(pair.manager.zone)
        record = AgendaDocRecord(
            pair_key=pair.key,
            session_date=session.day,
            week=session.week,
            kind=session.kind,
            start=session.start,
            end=session.end,
            title=f"{org.title(pair)}: agenda for {local:%a} {local.day} {local:%b %Y}",
            excerpt=excerpt(pair.rep.first_name, texts),
            state="pending",
            items=tuple((item.id, item.text) for item in open_items),
            created_at=now,
            body=body,
        )
        # Recorded by ``flush`` with every other pair's, just before any is written (one
        # statement for the pass, not one for each pair, issue 17).
        carried = [
            replace(item, last_agenda=session.day, updated_at=now)
            for item in open_items
            if item.last_agenda < session.day
        ]
        items.update((item.id, item) for item in carried)
        docs[session.day] = record
        creations.add(_Creation(store, pair, record, body, docs, carried))


def _render(
    org: Org,
    template: AgendaTemplate,
    pair: Pair,
    session: Session,
    open_items: Sequence[str],
    docs: Mapping[str, AgendaDocRecord],
    inputs: _Inputs,
    now: datetime,
    outcome: AgendaOutcome,
) -> str | None:
    deals, metrics, problems = inputs.pipeline()
    earlier = [d for day, d in sorted(docs.items()) if day < session.day and d.url is not None]
    context = AgendaContext(
        manager_name=pair.manager.name or pair.manager.email,
        manager_email=pair.manager.email,
        rep_name=pair.rep.name or pair.rep.email,
        rep_email=pair.rep.email,
        start=session.start,
        zone=pair.rep.zone,  # the rep prepares it
        week=session.week,
        open_items=open_items,
        previous_link=current_link(org, earlier[-1].url) if earlier and earlier[-1].url else None,
        deals=deal_summary(deals, pair.rep.email, now.astimezone(org.zone).date()),
        metrics=metric_lines(metrics, pair.rep.email),
        pipeline_problems=problems,
    )
    try:
        return template.render(context)
    except TemplateProblem as problem:
        outcome.problems.append(f"no agenda was written: {problem}")
        return None


def _link(
    pair: Pair,
    found: Sequence[Session],
    docs: Mapping[str, AgendaDocRecord],
    items: Mapping[str, ActionItemRecord],
    now: datetime,
    outcome: AgendaOutcome,
) -> None:
    """What the calendars, the report and the prep notices show of the written documents."""
    links: dict[tuple[str, str], AgendaLink] = {}
    urls: dict[str, str] = {}
    for written in docs.values():  # every week with a document, cancelled ones included
        if written.url is not None and written.state != "pending" and written.week not in urls:
            urls[written.week] = written.url
    docs_of = docs_by_session(docs)
    for session in found:
        doc = doc_for(session, docs, docs_of)
        link = link_of(doc) if doc is not None else None
        if doc is None or link is None:
            continue
        links[(session.week, session.kind)] = link
        if session.kind == MAKEUP:
            urls[session.week] = link.url  # the make-up is the week's meeting
        if session.start > now:
            listed = [text for item_id, text in doc.items if _is_open(items, item_id)]
            outcome.decisions.append(
                decide_prep(pair.key, pair.rep.email, session.week, link.url, session.start, listed)
            )
    if links:
        outcome.links[pair.key] = links
    if urls:
        outcome.urls[pair.key] = urls


def _is_open(items: Mapping[str, ActionItemRecord], item_id: str) -> bool:
    item = items.get(item_id)
    return item is not None and item.state == "open"
