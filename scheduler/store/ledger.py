"""The ledger: the product's persistent record of pairs, series, occurrences, notices, agenda
documents and the action items agreed in them.

I/O: a SQL database through SQLAlchemy Core. SQLite (``data/state.db``) by default; any
SQLAlchemy URL works (PostgreSQL for several replicas) because only portable types are used:
times are ISO-8601 strings with their offset, so no database ever guesses a zone.

Nothing is ever deleted: a pair leaving the org file is marked inactive and keeps its weeks, and
every change of an occurrence is appended to ``occurrence_log`` so history is never lost.

Agendas (schema 3): ``agenda_docs`` holds one row per agenda document (a pair's session on one
day), recorded *before* the document is written (state ``pending``), like a notice, so a crash in
between writes it once; ``action_items`` holds every action item of a pair with its state
(``open``, ``done``, ``dropped``) and its history as JSON, so what was agreed is never lost.

The records themselves are pure values in ``scheduler.domain.records``; they are re-exported
here for the code that reads and writes them.

Many replicas (Alembic revision 0002): ``pass_lease`` (``scheduler.store.lease``),
``pass_runs`` (each pass begun, by whom, and how it ended: an unfinished one is finished by the
next holder) and ``agenda_texts`` (agenda documents kept in the database, so every replica
serves them). Revision 0004: ``agenda_versions`` (every version of an agenda saved in its
web page) and ``dashboard_tokens``. Revision 0006: ``feed_versions`` and ``feed_cache``
(``scheduler.store.feedcache``): every write of a series, an occurrence or a make-up bumps
the feed version of both people of its pair when its transaction commits. The schema is
created and upgraded by ``scheduler.store.migrate``; the tables below must match its newest
revision (a test compares them).

Exports: Ledger, PassRun, PairRecord, SeriesRecord, OccurrenceRecord, NoticeRecord, MakeupRecord,
AgendaDocRecord, ActionItemRecord.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from scheduler.domain.records import (
    ActionItemRecord,
    AgendaDocRecord,
    CopyRecord,
    MakeupRecord,
    NoticeRecord,
    OccurrenceRecord,
    PairRecord,
    SeriesRecord,
)
from scheduler.errors import UserError
from scheduler.store import feedcache
from scheduler.store.database import engine_for, is_shared, safe_url
from scheduler.store.files import private_file, private_folder
from scheduler.store.migrate import upgrade

__all__ = [
    "ActionItemRecord",
    "AgendaDocRecord",
    "AgendaVersion",
    "CopyRecord",
    "Ledger",
    "MakeupRecord",
    "NoticeRecord",
    "OccurrenceRecord",
    "PairRecord",
    "PassRun",
    "SeriesRecord",
]

#: The last schema version before Alembic (``meta.schema_version``, kept for older tools);
#: the schema itself is versioned by ``scheduler.store.migrations`` since.
SCHEMA_VERSION = "4"
#: Keys per ``IN (...)`` list: well under SQLite's and PostgreSQL's limits on parameters.
_IN_CHUNK = 500

#: The URL without its password (``scheduler.store.database.safe_url``; kept here for callers).
_safe_url = safe_url

metadata = MetaData()

meta_table = Table(
    "meta",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
)

pairs_table = Table(
    "pairs",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("manager", String(200), nullable=False),
    Column("rep", String(200), nullable=False),
    Column("skip_level", String(200)),
    Column("active", Boolean, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("ended_at", String(40)),
)

series_table = Table(
    "series",
    metadata,
    Column("pair_key", String(400), primary_key=True),
    Column("uid", String(200), nullable=False),
    Column("organizer", String(200), nullable=False),
    Column("dtstart", String(40), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("at_time", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("until", String(40)),
    Column("sequence", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("previous_fingerprint", Text),
    Column("pending", Boolean, nullable=False),
    Column("dtstamp", String(40), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    # Added in schema 2 (nullable, so older ledgers gain them by ALTER TABLE):
    # the last pass that saw the organizer's copy on its calendar (a deleted series is told
    # from one that never was there by it), and the slot a person gave the whole series
    # (JSON, see ``SlotChoice``).
    Column("seen_at", String(40)),
    Column("person_slot", Text),
    # Revision 0005: the org week the rule's instances count in (``week_shift``).
    Column("week_shift", Integer, nullable=False, server_default="0"),
    # Revision 0007: "<week> <digest>", the series' weeks from that week on as last written or
    # checked (``SeriesRecord.window``).
    Column("window", Text),
)

#: Schema 4: the copies the product wrote, one row per (object, calendar): the version the
#: provider gave the write (an etag, a content hash) and the shape written (``baseline``: what
#: each week looked like in that copy), so people's edits are told from the product's own
#: writes by version and compared with what that copy really held, even after a failed write.
copies_table = Table(
    "copies",
    metadata,
    Column("uid", String(200), primary_key=True),
    Column("owner", String(200), primary_key=True),
    Column("pair_key", String(400), nullable=False),
    Column("version", Text),
    Column("fingerprint", String(80), nullable=False),
    Column("baseline", Text, nullable=False),
    Column("written_at", String(40), nullable=False),
)

occurrences_table = Table(
    "occurrences",
    metadata,
    Column("pair_key", String(400), primary_key=True),
    Column("week", String(8), primary_key=True),
    Column("regular_start", String(40), nullable=False),
    Column("planned_start", String(40), nullable=False),
    Column("planned_end", String(40), nullable=False),
    Column("actual_start", String(40)),
    Column("actual_end", String(40)),
    Column("plan_status", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("people_changed", Boolean, nullable=False),
    Column("change", String(20), nullable=False),
    Column("agenda", Text),
    Column("updated_at", String(40), nullable=False),
    # Added in schema 2: either person is out on every business day of the week.
    Column("away", Boolean),
    # Added in Alembic revision 0003: whose edit ``change`` is.
    Column("changed_by", String(200)),
    # Revision 0007: a pass reads the weeks since a line, not all history (issue 17).
    Index("ix_occurrences_week", "week"),
)

occurrence_log_table = Table(
    "occurrence_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pair_key", String(400), nullable=False),
    Column("week", String(8), nullable=False),
    Column("at", String(40), nullable=False),
    Column("plan_status", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start", String(40), nullable=False),
    Column("reason", Text, nullable=False),
)

notices_table = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("pair_key", String(400), nullable=False),
    Column("week", String(8), nullable=False),
    Column("recipient", String(400), nullable=False),
    Column("decided_at", String(40), nullable=False),
    Column("sent_at", String(40)),
    Column("message_id", String(200), nullable=False),
    # Added in schema 2: the whole message as sent (so a resend after a crash is the same
    # message, byte for byte; let go once sent, revision 0009), where it goes, and a lease so
    # two replicas never send it both.
    Column("channel", String(20)),
    Column("raw", Text),
    Column("lease_until", String(40)),
    UniqueConstraint("kind", "pair_key", "week", "recipient", name="one_notice"),
)
# Revision 0008: every pass reads what is unsent and marks each message sent; without these,
# both scanned every notice ever decided (a prep notice per pair and week), the marking once
# for every message sent (issue 17).
Index(
    "ix_notices_unsent",
    notices_table.c.id,
    sqlite_where=notices_table.c.sent_at.is_(None),
    postgresql_where=notices_table.c.sent_at.is_(None),
)
Index("ix_notices_message_id", notices_table.c.message_id)
# Revision 0009: every pass asks which notices were decided about the weeks of its window.
Index("ix_notices_week", notices_table.c.week, notices_table.c.kind, notices_table.c.pair_key)

makeups_table = Table(
    "makeups",
    metadata,
    Column("pair_key", String(400), primary_key=True),
    Column("week", String(8), primary_key=True),
    Column("uid", String(200), nullable=False),
    Column("start", String(40), nullable=False),
    Column("end", String(40), nullable=False),
    # "booked" (on the calendars), "cancelled" or "declined" (by a person: left alone)
    Column("state", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    # whether the product's last version may not have reached every calendar yet
    Column("pending", Boolean, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    # Revision 0007: a pass reads the make-ups since a line, not all history (issue 17).
    Index("ix_makeups_week", "week"),
)

# One ICS feed address per person. Only a hash of the token is kept, so a copy of the ledger
# gives nobody anyone's feed; the address is shown once, when issued (``oneonone feeds``).
feed_tokens_table = Table(
    "feed_tokens",
    metadata,
    Column("email", String(200), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("rotated_at", String(40)),
)


# Added in schema 3: agenda documents, one per pair and session day. ``kind`` is "series" (the
# week's instance) or "makeup"; (pair, week, kind) is unique too, so one session never gets two
# documents. ``state``: "pending" (recorded, maybe not written yet: ``body`` holds the exact text
# to write), "written", "read" (read back once its session ended), "closed" (read a last time
# before the pair's next agenda was written; never read again) or "gone" (deleted by people).
# ``items`` is JSON, [[item id, text as the document has it], ...]: the items the document lists,
# which its read-back is matched against.
agenda_docs_table = Table(
    "agenda_docs",
    metadata,
    Column("pair_key", String(400), primary_key=True),
    Column("session_date", String(10), primary_key=True),
    Column("week", String(8), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("start", String(40), nullable=False),
    Column("end", String(40), nullable=False),
    Column("ref", Text),
    Column("url", Text),
    Column("title", Text, nullable=False),
    Column("excerpt", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("items", Text, nullable=False),
    Column("body", Text),
    Column("created_at", String(40), nullable=False),
    Column("written_at", String(40)),
    Column("read_at", String(40)),
    UniqueConstraint("pair_key", "week", "kind", name="one_agenda_per_session"),
    # Revision 0007: a pass reads the documents since a line, not all history (issue 17).
    Index("ix_agenda_docs_week", "week"),
)

# Added in schema 3: every action item of every pair. ``id`` is "<session date>#<nn>", the
# agenda it was first seen in and its place there, unique within the pair. ``key`` is the text
# as matching sees it (``scheduler.agenda.items.normalise``). ``history`` is JSON, a list of
# {"at", "event", "text", "agenda"}: added, reworded, done, dropped, reopened, kept.
action_items_table = Table(
    "action_items",
    metadata,
    Column("pair_key", String(400), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("text", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("first_agenda", String(10), nullable=False),
    Column("last_agenda", String(10), nullable=False),
    Column("decided_in", String(10)),
    Column("done_at", String(40)),
    Column("history", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

# Revision 0002 (many replicas): the pass lease (``scheduler.store.lease``), the record of
# passes, and the agenda documents kept in the database (``scheduler.agenda.store``).
pass_lease_table = Table(
    "pass_lease",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(200)),
    Column("token", BigInteger, nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("acquired_at", DateTime(timezone=True)),
)

pass_runs_table = Table(
    "pass_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("replica", String(200), nullable=False),
    Column("token", BigInteger, nullable=False),
    # the pass's clock (``--now`` or real time); started and finished are real time
    Column("pass_now", String(40), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40)),
    # ok, problems, safety_stop, error (None while running or when its replica died)
    Column("result", String(20)),
    # the id of the unfinished pass (a killed replica's) this one finished
    Column("resumes", Integer),
    Column("detail", Text),
)

agenda_texts_table = Table(
    "agenda_texts",
    metadata,
    Column("ref", String(420), primary_key=True),
    Column("pair_key", String(400), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

# Revision 0004: every saved version of an agenda edited in its web page, numbered per document
# (``scheduler.agenda.editor``), and the dashboards' tokens (hashes only, like feed tokens).
agenda_versions_table = Table(
    "agenda_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ref", String(420), nullable=False),
    Column("pair_key", String(400), nullable=False),
    Column("version", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("text_hash", String(64), nullable=False),
    # "web" (saved in the page), "earlier" (the text a first web save replaced, or an edit
    # made outside the page since the last web save)
    Column("source", String(20), nullable=False),
    Column("saved_at", String(40), nullable=False),
    UniqueConstraint("ref", "version", name="one_agenda_version"),
)

dashboard_tokens_table = Table(
    "dashboard_tokens",
    metadata,
    # a person's e-mail, or "*" for the whole org
    Column("scope", String(200), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("rotated_at", String(40)),
)

# Revision 0006 (issue 17): whose feed changed when, and each feed as last built.
feed_versions_table, feed_cache_table = feedcache.feed_tables(metadata)


@dataclass(frozen=True, slots=True)
class AgendaVersion:
    """One saved version of an agenda document (``agenda_versions``)."""

    ref: str
    version: int
    text: str
    text_hash: str
    source: str
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class PassRun:
    """One pass begun (``pass_runs``): who ran it, under which lease token, and how it ended
    (``finished_at`` and ``result`` are ``None`` while it runs or after its replica died)."""

    id: int
    replica: str
    token: int
    pass_now: datetime
    started_at: datetime
    finished_at: datetime | None
    result: str | None
    resumes: int | None
    detail: str


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class _Shared:
    """Values that repeat across the rows of one read, made once and shared (issue 17).

    A pass reads thousands of rows that name the same pair keys, weeks, statuses and
    moments (every row a pass saved has its ``updated_at``); each row's own copy was kept
    by the record made from it, about a kilobyte per pair at 10,000 pairs. The readers
    intern texts (``sys.intern``: CPython frees an interned text no one holds); moments are
    parsed here, once per read (a ``datetime`` is immutable, so records may share one).
    """

    __slots__ = ("_moments",)

    def __init__(self) -> None:
        self._moments: dict[str, datetime] = {}

    def moment(self, text: str) -> datetime:
        found = self._moments.get(text)
        if found is None:
            found = self._moments[text] = datetime.fromisoformat(text)
        return found

    def maybe_moment(self, text: str | None) -> datetime | None:
        return None if text is None else self.moment(text)


class Ledger:
    """The ledger on one database. Use ``transaction()`` to group writes atomically."""

    def __init__(self, url: str) -> None:
        self.url = url
        #: Called with the connection at the start of every transaction (and every statement
        #: outside one) while set: a replica's pass sets it to its lease's fencing check
        #: (``scheduler.store.lease``), so a replica that lost its lease writes nothing.
        self.fence: Callable[[Connection], None] | None = None
        self.engine: Engine = engine_for(url)
        try:
            upgrade(self.engine, metadata)
            if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
                # The ledger holds the agenda secret and every notice: the daemon's user's
                # only. SQLite gives its -wal and -shm files the database file's mode.
                path = Path(url.removeprefix("sqlite:///"))
                private_folder(path.parent, up_to=path.parent)
                private_file(path)
                for journal in ("-wal", "-shm"):
                    companion = path.with_name(path.name + journal)
                    if companion.exists():
                        private_file(companion)
        except (SQLAlchemyError, OSError) as error:
            self.engine.dispose()
            raise UserError(f"cannot open the ledger at {_safe_url(url)}: {error}") from error
        except UserError:
            self.engine.dispose()
            raise
        self._conn: Connection | None = None

    @property
    def shared(self) -> bool:
        """Whether other replicas may use this ledger at once (PostgreSQL, not SQLite)."""
        return is_shared(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group every write inside into one transaction (nested calls join the outer one)."""
        if self._conn is not None:
            yield
            return
        with self.engine.begin() as conn:
            if self.fence is not None:
                self.fence(conn)
            self._conn = conn
            try:
                yield
                bumped = feedcache.flush_changes(conn, feed_versions_table)
            finally:
                self._conn = None
                feedcache.discard_changes(conn)
        if bumped:
            feedcache.announce()

    def check_fence(self) -> None:
        """Raise ``LeaseLost`` now if this ledger's pass lost its lease (see ``fence``):
        called just before writes that leave the database (calendars, agendas elsewhere)."""
        if self.fence is not None:
            with self.engine.begin() as conn:
                self.fence(conn)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        if self._conn is not None:
            yield self._conn
            return
        with self.engine.begin() as conn:
            if self.fence is not None:
                self.fence(conn)
            try:
                yield conn
                bumped = feedcache.flush_changes(conn, feed_versions_table)
            finally:
                feedcache.discard_changes(conn)
        if bumped:
            feedcache.announce()

    # ------------------------------------------------------------------ key/value state

    def get_state(self, key: str) -> str | None:
        with self._connection() as conn:
            return conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == key)
            ).scalar_one_or_none()

    def set_state(self, key: str, value: str) -> None:
        with self._connection() as conn:
            _upsert(conn, meta_table, {"key": key}, {"value": value})

    # ------------------------------------------------------------------ pairs

    def upsert_pair(self, manager: str, rep: str, skip_level: str | None, now: datetime) -> None:
        key = f"{manager}/{rep}"
        with self._connection() as conn:
            row = conn.execute(select(pairs_table).where(pairs_table.c.key == key)).first()
            if row is None:
                conn.execute(
                    insert(pairs_table).values(
                        key=key,
                        manager=manager,
                        rep=rep,
                        skip_level=skip_level,
                        active=True,
                        created_at=now.isoformat(),
                        ended_at=None,
                    )
                )
            elif not row.active or row.skip_level != skip_level:
                conn.execute(
                    update(pairs_table)
                    .where(pairs_table.c.key == key)
                    .values(active=True, skip_level=skip_level, ended_at=None)
                )

    def end_pair(self, key: str, now: datetime) -> None:
        with self._connection() as conn:
            conn.execute(
                update(pairs_table)
                .where(pairs_table.c.key == key)
                .values(active=False, ended_at=now.isoformat())
            )

    def pairs(self, *, active_only: bool = False) -> list[PairRecord]:
        query = select(pairs_table).order_by(pairs_table.c.key)
        if active_only:
            query = query.where(pairs_table.c.active.is_(True))
        with self._connection() as conn:
            return [
                PairRecord(
                    key=row.key,
                    manager=row.manager,
                    rep=row.rep,
                    skip_level=row.skip_level,
                    active=bool(row.active),
                    created_at=datetime.fromisoformat(row.created_at),
                    ended_at=_dt(row.ended_at),
                )
                for row in conn.execute(query)
            ]

    # ------------------------------------------------------------------ series

    def all_series(self) -> dict[str, SeriesRecord]:
        with self._connection() as conn:
            return {row.pair_key: _series(row) for row in conn.execute(select(series_table))}

    def clear_pending(self, pair_keys: Iterable[str]) -> None:
        """Mark the series' files as written (see ``SeriesRecord.pending``)."""
        keys = list(pair_keys)
        with self._connection() as conn:
            for offset in range(0, len(keys), _IN_CHUNK):
                conn.execute(
                    update(series_table)
                    .where(series_table.c.pair_key.in_(keys[offset : offset + _IN_CHUNK]))
                    .values(pending=False, previous_fingerprint=None)
                )

    def mark_seen(self, pair_keys: Iterable[str], now: datetime) -> None:
        """Record that the series' organizer copies are on their calendars as of ``now``."""
        keys = list(pair_keys)
        if not keys:
            return
        with self._connection() as conn:
            conn.execute(
                update(series_table)
                .where(series_table.c.pair_key.in_(keys))
                .values(seen_at=now.isoformat())
            )

    def save_series(self, record: SeriesRecord) -> None:
        self.save_series_many([record])

    def save_series_many(self, records: Sequence[SeriesRecord]) -> None:
        """Insert or update each series record, in bulk."""
        rows = [_series_values(record) for record in records]
        if not rows:
            return
        with self._connection() as conn:
            _upsert_many(conn, series_table, ("pair_key",), rows)
            feedcache.note_changes(conn, (record.pair_key for record in records))

    # ------------------------------------------------------------------ copies

    def copies(self, *, baselines: bool = True) -> dict[tuple[str, str], CopyRecord]:
        """Every copy the product wrote, by (uid, owner); with ``baselines=False``, each with
        an empty ``baseline`` (``copy_baselines`` reads the few a pass needs: a baseline
        holds every week of its series, and a pass that read them all grew with history)."""
        table = copies_table
        columns = [column for column in table.c if baselines or column.name != "baseline"]
        shared = _Shared()
        intern = sys.intern
        with self._connection() as conn:
            return {
                (intern(row.uid), intern(row.owner)): CopyRecord(
                    uid=intern(row.uid),
                    owner=intern(row.owner),
                    pair_key=intern(row.pair_key),
                    version=row.version,
                    fingerprint=row.fingerprint,
                    baseline=row.baseline if baselines else "",
                    written_at=shared.moment(row.written_at),
                )
                for row in conn.execute(select(*columns))
            }

    def copy_baselines(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The ``baseline`` of each copy of ``keys`` ((uid, owner)) the ledger has."""
        wanted = set(keys)
        found: dict[tuple[str, str], str] = {}
        uids = sorted({uid for uid, _ in wanted})
        table = copies_table
        with self._connection() as conn:
            for offset in range(0, len(uids), _IN_CHUNK):
                query = select(table.c.uid, table.c.owner, table.c.baseline).where(
                    table.c.uid.in_(uids[offset : offset + _IN_CHUNK])
                )
                for uid, owner, baseline in conn.execute(query):
                    if (uid, owner) in wanted:
                        found[(uid, owner)] = baseline
        return found

    def save_copy(self, record: CopyRecord) -> None:
        self.save_copies([record])

    def save_copies(self, records: Sequence[CopyRecord]) -> None:
        """Insert or update each copy record, in bulk."""
        rows = [
            {
                "uid": record.uid,
                "owner": record.owner,
                "pair_key": record.pair_key,
                "version": record.version,
                "fingerprint": record.fingerprint,
                "baseline": record.baseline,
                "written_at": record.written_at.isoformat(),
            }
            for record in records
        ]
        if rows:
            with self._connection() as conn:
                _upsert_many(conn, copies_table, ("uid", "owner"), rows)

    # ------------------------------------------------------------------ occurrences

    def occurrences(
        self,
        pair_keys: Sequence[str] | None = None,
        *,
        since: str | None = None,
        before: str | None = None,
    ) -> dict[str, dict[str, OccurrenceRecord]]:
        """Every occurrence (of ``pair_keys`` only, when given; of weeks from ``since`` on and
        before ``before``, when given), as {pair key: {week: record}}, weeks in order."""
        query, by_week = _by_pair_and_week(occurrences_table, pair_keys, since, before)
        result: dict[str, dict[str, OccurrenceRecord]] = {}
        with self._connection() as conn:
            shared = _Shared()
            for row in conn.execute(query):
                result.setdefault(row.pair_key, {})[row.week] = _occurrence(row, shared)
        return _in_order(result) if by_week else result

    def occurrences_of(
        self, weeks: Mapping[str, Collection[str]]
    ) -> dict[str, dict[str, OccurrenceRecord]]:
        """The occurrences of the given weeks of each pair ({pair key: weeks}), as
        ``occurrences`` gives them: a write of a windowed pair's series reads the settled
        weeks its series shows, not a year of them (issue 17)."""
        table = occurrences_table
        found: dict[str, list[OccurrenceRecord]] = {}
        with self._connection() as conn:
            shared = _Shared()
            for row in _keyed_rows(conn, [table], table.c.pair_key, table.c.week, weeks):
                found.setdefault(row.pair_key, []).append(_occurrence(row, shared))
        return {
            key: {record.week: record for record in sorted(records, key=attrgetter("week"))}
            for key, records in found.items()
        }

    def statuses(
        self, pair_keys: Sequence[str] | None = None, *, since: str, before: str
    ) -> dict[str, dict[str, str]]:
        """The status alone of every occurrence of weeks from ``since`` on and before
        ``before`` (of ``pair_keys`` only, when given), as {pair key: {week: status}}, weeks in
        order: what a pass's notices need of settled weeks, without whole records (issue 17)."""
        table = occurrences_table
        query = (
            select(table.c.pair_key, table.c.week, table.c.status)
            .where(table.c.week >= since, table.c.week < before)
            .order_by(table.c.pair_key, table.c.week)
        )
        if pair_keys is not None:
            query = query.where(table.c.pair_key.in_(list(pair_keys)))
        result: dict[str, dict[str, str]] = {}
        with self._connection() as conn:
            for pair_key, week, status in conn.execute(query):
                result.setdefault(pair_key, {})[sys.intern(week)] = sys.intern(status)
        return result

    def save_occurrences(self, records: Iterable[OccurrenceRecord], now: datetime) -> int:
        """Insert or update records by (pair, week); log each change. Returns how many changed.

        In bulk: one read of the rows already there (per chunk of pairs) and one statement per
        kind of write, not a query per record (issue 17: a pass saves thousands of weeks)."""
        wanted = {(record.pair_key, record.week): record for record in records}
        if not wanted:
            return 0
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        logs: list[dict[str, Any]] = []
        with self._connection() as conn:
            existing: dict[tuple[str, str], Any] = {}
            weeks: dict[str, list[str]] = {}
            for pair_key, week in wanted:
                weeks.setdefault(pair_key, []).append(week)
            table = occurrences_table
            for found in _keyed_rows(conn, [table], table.c.pair_key, table.c.week, weeks):
                existing[(found.pair_key, found.week)] = found
            for key, record in wanted.items():
                row = existing.get(key)
                if row is not None and _occurrence(row).same_facts(record):
                    continue
                values = _occurrence_values(record, now)
                (inserts if row is None else updates).append(values)
                if row is None or (row.status, row.plan_status, row.planned_start, row.reason) != (
                    values["status"],
                    values["plan_status"],
                    values["planned_start"],
                    values["reason"],
                ):
                    logs.append(
                        {
                            "pair_key": record.pair_key,
                            "week": record.week,
                            "at": now.isoformat(),
                            "plan_status": record.plan_status,
                            "status": record.status,
                            "start": (record.actual_start or record.planned_start).isoformat(),
                            "reason": record.reason,
                        }
                    )
            if inserts:
                conn.execute(insert(occurrences_table), inserts)
            _update_many(conn, occurrences_table, ("pair_key", "week"), updates)
            if logs:
                conn.execute(insert(occurrence_log_table), logs)
            feedcache.note_changes(conn, (values["pair_key"] for values in inserts + updates))
        return len(inserts) + len(updates)

    def status_counts(self) -> dict[str, int]:
        """How many occurrences have each status (counted by the database: a pass's metrics
        must not read every week of history)."""
        query = select(occurrences_table.c.status, func.count()).group_by(
            occurrences_table.c.status
        )
        with self._connection() as conn:
            return {status: count for status, count in conn.execute(query)}

    def history(self, pair_key: str, week: str) -> list[tuple[datetime, str, str, str]]:
        """(at, status, start, reason) of every recorded change of one occurrence, oldest first."""
        with self._connection() as conn:
            rows = conn.execute(
                select(occurrence_log_table)
                .where(
                    occurrence_log_table.c.pair_key == pair_key,
                    occurrence_log_table.c.week == week,
                )
                .order_by(occurrence_log_table.c.id)
            )
            return [(datetime.fromisoformat(r.at), r.status, r.start, r.reason) for r in rows]

    # ------------------------------------------------------------------ make-ups

    def makeups(
        self, pair_keys: Sequence[str] | None = None, *, since: str | None = None
    ) -> dict[str, dict[str, MakeupRecord]]:
        """Every make-up ever booked (for ``pair_keys`` only, when given; for weeks from
        ``since`` on, when given), as {pair key: {week: record}}."""
        query, by_week = _by_pair_and_week(makeups_table, pair_keys, since)
        result: dict[str, dict[str, MakeupRecord]] = {}
        with self._connection() as conn:
            for row in conn.execute(query):
                result.setdefault(row.pair_key, {})[row.week] = _makeup(row)
        return _in_order(result) if by_week else result

    def save_makeup(self, record: MakeupRecord) -> None:
        values: dict[str, Any] = {
            "uid": record.uid,
            "start": record.start.isoformat(),
            "end": record.end.isoformat(),
            "state": record.state,
            "reason": record.reason,
            "pending": record.pending,
            "fingerprint": record.fingerprint,
            "created_at": record.created_at.isoformat(),
            "updated_at": record.updated_at.isoformat(),
        }
        with self._connection() as conn:
            _upsert(conn, makeups_table, {"pair_key": record.pair_key, "week": record.week}, values)
            feedcache.note_changes(conn, [record.pair_key])

    def clear_makeup_pending(self, keys: Iterable[tuple[str, str]]) -> None:
        """Mark make-ups (pair key, week) as written to every calendar."""
        with self._connection() as conn:
            for pair_key, week in keys:
                conn.execute(
                    update(makeups_table)
                    .where((makeups_table.c.pair_key == pair_key) & (makeups_table.c.week == week))
                    .values(pending=False)
                )

    # ------------------------------------------------------------------ notices

    def claim_notice(
        self,
        kind: str,
        pair_key: str,
        week: str,
        recipients: Sequence[str],
        message_id: str,
        now: datetime,
        *,
        channel: str = "email",
        raw: str = "",
    ) -> bool:
        """Record the decision to send one message (a row per recipient, all or none).

        False when it was decided before (by this process, an earlier run or another
        replica: the unique constraint decides), and then nothing is recorded.
        """
        rows = [
            NoticeRecord(kind, pair_key, week, recipient, now, None, message_id, channel, raw)
            for recipient in recipients
        ]
        return self.claim_notices([rows])[0]

    def claim_notices(self, messages: Sequence[Sequence[NoticeRecord]]) -> list[bool]:
        """``claim_notice`` of each message (its rows, one per recipient), in one statement
        when none was decided before; then message by message, each in a savepoint of its
        own, so those decided before change nothing."""
        groups = [[_notice_values(row) for row in rows] for rows in messages]
        with self._connection() as conn:
            return _insert_groups(conn, notices_table, groups)

    def notice_keys(
        self, *, since: str | None = None, preps_since: str | None = None
    ) -> set[tuple[str, str, str]]:
        """(kind, pair key, week) of every notice decided so far (about weeks from ``since``
        on, when given; ``prep`` notices about weeks from ``preps_since`` on, when given)."""
        table = notices_table
        query = select(table.c.kind, table.c.pair_key, table.c.week)
        if since is not None:
            query = query.where(table.c.week >= since)
        if preps_since is not None:
            query = query.where(or_(table.c.kind != "prep", table.c.week >= preps_since))
        with self._connection() as conn:
            return {(row.kind, row.pair_key, row.week) for row in conn.execute(query)}

    def unsent_notices(self) -> list[NoticeRecord]:
        """Messages decided but not yet sent (one record per message), oldest first."""
        with self._connection() as conn:
            rows = conn.execute(
                select(notices_table)
                .where(notices_table.c.sent_at.is_(None))
                .order_by(notices_table.c.id)
            )
            seen: dict[str, NoticeRecord] = {}
            for row in rows:
                if row.message_id not in seen:
                    seen[row.message_id] = _notice(row)
            return list(seen.values())

    def notice_recipients(self, message_id: str) -> list[str]:
        with self._connection() as conn:
            return [
                row.recipient
                for row in conn.execute(
                    select(notices_table.c.recipient)
                    .where(notices_table.c.message_id == message_id)
                    .order_by(notices_table.c.id)
                )
            ]

    def lease_notice(self, message_id: str, now: datetime, until: datetime) -> bool:
        """Take the right to send one message until ``until``; False when it is sent already
        or another process holds an unexpired lease (a second replica sending right now)."""
        with self._connection() as conn:
            done = conn.execute(
                update(notices_table)
                .where(
                    (notices_table.c.message_id == message_id)
                    & notices_table.c.sent_at.is_(None)
                    & (
                        notices_table.c.lease_until.is_(None)
                        | (notices_table.c.lease_until < now.isoformat())
                    )
                )
                .values(lease_until=until.isoformat())
            ).rowcount
        return bool(done)

    def mark_notice_sent(self, message_id: str, now: datetime) -> None:
        """Record the message sent. Its text is let go: it was kept so a resend after a crash
        is the same message, byte for byte, and the outbox or the mail server has it now
        (kept, it was most of the ledger: a row per recipient, about 5 kB each, issue 17)."""
        with self._connection() as conn:
            conn.execute(
                update(notices_table)
                .where(notices_table.c.message_id == message_id)
                .values(sent_at=now.isoformat(), raw=None)
            )

    def notices(self) -> list[NoticeRecord]:
        with self._connection() as conn:
            return [
                _notice(r) for r in conn.execute(select(notices_table).order_by(notices_table.c.id))
            ]

    # ------------------------------------------------------------------ agendas

    def agenda_docs(
        self,
        pair_keys: Sequence[str] | None = None,
        *,
        since: str | None = None,
        links_only: bool = False,
    ) -> dict[str, dict[str, AgendaDocRecord]]:
        """Every agenda document (of ``pair_keys`` only, when given; of weeks from ``since``
        on, when given), as {pair key: {session date: record}}, dates in order. With
        ``links_only``, records without their items and body (``()`` and ``None``): what
        linking a settled week needs, without a year of document bodies (issue 17)."""
        table = agenda_docs_table
        columns = [c for c in table.c if c.name not in ("items", "body")] if links_only else [table]
        query = select(*columns).order_by(table.c.pair_key, table.c.session_date)
        if pair_keys is not None:
            query = query.where(table.c.pair_key.in_(list(pair_keys)))
        if since is not None:
            query = query.where(table.c.week >= since)
        result: dict[str, dict[str, AgendaDocRecord]] = {}
        with self._connection() as conn:
            shared = _Shared()
            for row in conn.execute(query):
                doc = _agenda_link(row, shared) if links_only else _agenda_doc(row, shared)
                result.setdefault(doc.pair_key, {})[doc.session_date] = doc
        return result

    def agenda_links_of(
        self, weeks: Mapping[str, Collection[str]], days: Mapping[str, Collection[str]]
    ) -> dict[str, dict[str, AgendaDocRecord]]:
        """``agenda_docs(links_only=True)`` of the given weeks and session dates of each pair
        only ({pair key: weeks}, {pair key: dates}): what linking a few settled weeks needs
        (a week's own document, or the one of its session's day; issue 17)."""
        table = agenda_docs_table
        columns = [c for c in table.c if c.name not in ("items", "body")]
        rows: dict[tuple[str, str], Any] = {}
        with self._connection() as conn:
            for column, keys in ((table.c.week, weeks), (table.c.session_date, days)):
                for row in _keyed_rows(conn, columns, table.c.pair_key, column, keys):
                    rows[(row.pair_key, row.session_date)] = row
        result: dict[str, dict[str, AgendaDocRecord]] = {}
        shared = _Shared()
        for _, row in sorted(rows.items()):
            doc = _agenda_link(row, shared)
            result.setdefault(doc.pair_key, {})[doc.session_date] = doc
        return result

    def window_agenda_docs(
        self, pair_keys: Sequence[str], *, since: str, records_from: str
    ) -> dict[str, dict[str, AgendaDocRecord]]:
        """The documents a pass needs of pairs read over a window (issue 17), as
        ``agenda_docs``: those of weeks from ``records_from`` on; of the weeks from ``since``
        to it, those not closed yet (to write, read back or close), those of make-ups (linked
        from their events) and each pair's last one read back (the order of its open items).
        The settled rest, one document per pair and week, is not read."""
        table = agenda_docs_table
        keys = list(pair_keys)
        wanted = select(table).where(
            table.c.pair_key.in_(keys),
            table.c.week >= since,
            or_(
                table.c.week >= records_from,
                table.c.kind == "makeup",
                table.c.state.in_(("pending", "written", "read")),
            ),
        )
        last_read = (
            select(table.c.pair_key, func.max(table.c.session_date).label("day"))
            .where(
                table.c.pair_key.in_(keys),
                table.c.week >= since,
                table.c.week < records_from,
                table.c.read_at.is_not(None),
            )
            .group_by(table.c.pair_key)
            .subquery()
        )
        latest = select(table).join(
            last_read,
            and_(table.c.pair_key == last_read.c.pair_key, table.c.session_date == last_read.c.day),
        )
        found: dict[str, dict[str, AgendaDocRecord]] = {}
        with self._connection() as conn:
            shared = _Shared()
            for query in (wanted, latest):
                for row in conn.execute(query):
                    doc = _agenda_doc(row, shared)
                    found.setdefault(doc.pair_key, {})[doc.session_date] = doc
        return {key: dict(sorted(docs.items())) for key, docs in found.items()}

    def claim_agenda_doc(self, record: AgendaDocRecord) -> bool:
        """Record a document about to be written. False when that session or that day of the
        pair has one already (recorded by an earlier pass or another replica), and then
        nothing is recorded."""
        return self.claim_agenda_docs([record])[0]

    def claim_agenda_docs(self, records: Sequence[AgendaDocRecord]) -> list[bool]:
        """``claim_agenda_doc`` of each record, in one statement when none was recorded
        before (a weekly pass claims a document for every pair, issue 17); then one by one,
        each in a savepoint of its own, so the claims that lose change nothing."""
        groups = [[_agenda_doc_values(record)] for record in records]
        with self._connection() as conn:
            return _insert_groups(conn, agenda_docs_table, groups)

    def save_agenda_doc(self, record: AgendaDocRecord) -> None:
        self.save_agenda_docs([record])

    def save_agenda_docs(self, records: Sequence[AgendaDocRecord]) -> None:
        rows = [_agenda_doc_values(record) for record in records]
        with self._connection() as conn:
            _upsert_many(conn, agenda_docs_table, ("pair_key", "session_date"), rows)

    def action_items(
        self, pair_keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, ActionItemRecord]]:
        """Every action item (of ``pair_keys`` only, when given), as {pair key: {id: record}},
        in the order they were first seen."""
        query = select(action_items_table).order_by(
            action_items_table.c.pair_key, action_items_table.c.id
        )
        if pair_keys is not None:
            query = query.where(action_items_table.c.pair_key.in_(list(pair_keys)))
        result: dict[str, dict[str, ActionItemRecord]] = {}
        with self._connection() as conn:
            for row in conn.execute(query):
                result.setdefault(row.pair_key, {})[row.id] = _action_item(row)
        return result

    def save_action_item(self, record: ActionItemRecord) -> None:
        self.save_action_items([record])

    def save_action_items(self, records: Sequence[ActionItemRecord]) -> None:
        rows = [_action_item_values(record) for record in records]
        with self._connection() as conn:
            _upsert_many(conn, action_items_table, ("pair_key", "id"), rows)

    # ------------------------------------------------------------------ feed tokens

    def feed_token(self, email: str) -> tuple[str, datetime, datetime | None] | None:
        """(token hash, created at, last rotated at) of ``email``'s feed, or ``None``."""
        with self._connection() as conn:
            row = conn.execute(
                select(feed_tokens_table).where(feed_tokens_table.c.email == email.lower())
            ).first()
        if row is None:
            return None
        return row.token_hash, datetime.fromisoformat(row.created_at), _dt(row.rotated_at)

    def feed_token_email(self, token_hash: str) -> tuple[str, str] | None:
        """(email, stored hash) of the feed whose token hashes to ``token_hash``, or ``None``.

        The caller compares the stored hash with its own in constant time; the lookup itself
        is by a hash the requester cannot steer, so its timing says nothing about the token.
        """
        with self._connection() as conn:
            row = conn.execute(
                select(feed_tokens_table.c.email, feed_tokens_table.c.token_hash).where(
                    feed_tokens_table.c.token_hash == token_hash
                )
            ).first()
        return None if row is None else (row.email, row.token_hash)

    def feed_series(self, email: str) -> list[SeriesRecord]:
        """The series ``email`` is the manager or the rep of, by pair key: what one feed is
        built from, read without materialising every other series (a feed fetch is frequent,
        and a large org has thousands)."""
        key = email.lower()
        # The email as a literal inside a LIKE pattern ("_" and "%" are wildcards there).
        literal = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(series_table)
            .where(
                series_table.c.pair_key.like(f"{literal}/%", escape="\\")
                | series_table.c.pair_key.like(f"%/{literal}", escape="\\")
            )
            .order_by(series_table.c.pair_key)
        )
        with self._connection() as conn:
            return [
                record
                for record in (_series(row) for row in conn.execute(query))
                if key in record.pair_key.split("/")
            ]

    def set_feed_token(self, email: str, token_hash: str, now: datetime) -> None:
        """Store ``email``'s feed token hash, replacing (rotating) any earlier one."""
        key = email.lower()
        with self._connection() as conn:
            _set_token(conn, feed_tokens_table.c.email, key, token_hash, now)
            # Servers forget the old token at once (this process) or within a second.
            feedcache.note_changes(conn, [key])

    # ------------------------------------------------------------------ the feed cache

    def feeds_changed_since(self, generation: int) -> dict[str, int]:
        """{email: feed version} of every feed changed after ``generation``, and the newest
        generation under ``feedcache.GENERATION`` (``scheduler.store.feedcache``)."""
        with self._connection() as conn:
            return feedcache.changed_since(conn, feed_versions_table, generation)

    def feed_version(self, email: str) -> int:
        with self._connection() as conn:
            return feedcache.version_of(conn, feed_versions_table, email)

    def stored_feed(self, email: str) -> tuple[int, feedcache.StoredFeed | None]:
        """(version of ``email``'s feed, the feed some process stored for it or ``None``)."""
        with self._connection() as conn:
            version = feedcache.version_of(conn, feed_versions_table, email)
            return version, feedcache.stored_feed(conn, feed_cache_table, email)

    def keep_feed(self, email: str, feed: feedcache.StoredFeed) -> None:
        with self._connection() as conn:
            feedcache.keep_feed(conn, feed_cache_table, email, feed)

    # ------------------------------------------------------------------ passes

    def begin_pass(
        self, replica: str, token: int, pass_now: datetime, started: datetime
    ) -> tuple[int, PassRun | None]:
        """Record a pass about to run; returns its id and the unfinished pass it finishes
        (the last one begun, when it never ended: its replica was killed mid-pass)."""
        with self._connection() as conn:
            last = conn.execute(
                select(pass_runs_table).order_by(pass_runs_table.c.id.desc()).limit(1)
            ).first()
            unfinished = _pass_run(last) if last is not None and last.finished_at is None else None
            if unfinished is not None:
                # Its replica died mid-pass (a live one ends every pass it begins).
                conn.execute(
                    update(pass_runs_table)
                    .where(pass_runs_table.c.id == unfinished.id)
                    .values(result="abandoned", detail="its replica stopped mid-pass")
                )
            new_id = conn.execute(
                insert(pass_runs_table).values(
                    replica=replica,
                    token=token,
                    pass_now=pass_now.isoformat(),
                    started_at=started.isoformat(),
                    resumes=None if unfinished is None else unfinished.id,
                )
            ).inserted_primary_key
        assert new_id is not None
        return int(new_id[0]), unfinished

    def end_pass(self, run_id: int, result: str, finished: datetime, detail: str = "") -> None:
        with self._connection() as conn:
            conn.execute(
                update(pass_runs_table)
                .where(pass_runs_table.c.id == run_id)
                .values(result=result, finished_at=finished.isoformat(), detail=detail or None)
            )

    def pass_runs(self, limit: int = 1) -> list[PassRun]:
        """The last ``limit`` passes begun, newest first."""
        with self._connection() as conn:
            return [
                _pass_run(row)
                for row in conn.execute(
                    select(pass_runs_table).order_by(pass_runs_table.c.id.desc()).limit(limit)
                )
            ]

    # ------------------------------------------------------------------ agenda texts

    def agenda_text(self, ref: str) -> str | None:
        """The text of the agenda document ``ref`` kept in the database, or ``None``."""
        with self._connection() as conn:
            found: str | None = conn.execute(
                select(agenda_texts_table.c.text).where(agenda_texts_table.c.ref == ref)
            ).scalar_one_or_none()
        return found

    def create_agenda_text(self, ref: str, pair_key: str, body: str, now: datetime) -> bool:
        """Keep ``body`` as the document ``ref`` unless it exists (never replaced: people
        edit it). True when this call created it."""
        try:
            with self._connection() as conn, conn.begin_nested():
                conn.execute(
                    insert(agenda_texts_table).values(
                        ref=ref,
                        pair_key=pair_key,
                        text=body,
                        created_at=now.isoformat(),
                        updated_at=now.isoformat(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def replace_agenda_text(self, ref: str, expected: str, body: str, now: datetime) -> bool:
        """Replace the document ``ref`` kept in the database with ``body`` only while it still
        reads ``expected`` (a compare-and-swap: on PostgreSQL the second of two crossing
        updates re-reads the row and matches nothing). True when it was replaced."""
        with self._connection() as conn:
            done = conn.execute(
                update(agenda_texts_table)
                .where((agenda_texts_table.c.ref == ref) & (agenda_texts_table.c.text == expected))
                .values(text=body, updated_at=now.isoformat())
            ).rowcount
        return bool(done)

    # ------------------------------------------------------------------ agenda versions

    def agenda_versions(self, ref: str) -> list[AgendaVersion]:
        """Every kept version of the document ``ref``, oldest first."""
        query = (
            select(agenda_versions_table)
            .where(agenda_versions_table.c.ref == ref)
            .order_by(agenda_versions_table.c.version)
        )
        with self._connection() as conn:
            return [
                AgendaVersion(
                    ref=row.ref,
                    version=int(row.version),
                    text=row.text,
                    text_hash=row.text_hash,
                    source=row.source,
                    saved_at=datetime.fromisoformat(row.saved_at),
                )
                for row in conn.execute(query)
            ]

    def agenda_version_text(self, ref: str, text_hash: str) -> str | None:
        """The text of a kept version of ``ref`` whose hash is ``text_hash`` (the version a
        stale editor read), or ``None``."""
        with self._connection() as conn:
            found: str | None = conn.execute(
                select(agenda_versions_table.c.text)
                .where(
                    (agenda_versions_table.c.ref == ref)
                    & (agenda_versions_table.c.text_hash == text_hash)
                )
                .order_by(agenda_versions_table.c.version.desc())
                .limit(1)
            ).scalar_one_or_none()
        return found

    def add_agenda_version(
        self, ref: str, pair_key: str, text: str, text_hash: str, source: str, now: datetime
    ) -> int:
        """Keep ``text`` as the next version of ``ref``; returns its number. Two savers
        taking the same number collide on the unique (ref, version) and the loser retries."""
        for _ in range(20):
            try:
                with self._connection() as conn, conn.begin_nested():
                    last = conn.execute(
                        select(agenda_versions_table.c.version)
                        .where(agenda_versions_table.c.ref == ref)
                        .order_by(agenda_versions_table.c.version.desc())
                        .limit(1)
                    ).scalar_one_or_none()
                    number = (last or 0) + 1
                    conn.execute(
                        insert(agenda_versions_table).values(
                            ref=ref,
                            pair_key=pair_key,
                            version=number,
                            text=text,
                            text_hash=text_hash,
                            source=source,
                            saved_at=now.isoformat(),
                        )
                    )
                return number
            except IntegrityError:
                continue
        raise UserError(f"cannot number a new version of the agenda {ref}: too many savers")

    # ------------------------------------------------------------------ dashboard tokens

    def dashboard_token(self, scope: str) -> tuple[str, datetime, datetime | None] | None:
        """(token hash, created at, last rotated at) of the dashboard of ``scope`` (an e-mail,
        or ``*`` for the whole org), or ``None``."""
        with self._connection() as conn:
            row = conn.execute(
                select(dashboard_tokens_table).where(
                    dashboard_tokens_table.c.scope == scope.lower()
                )
            ).first()
        if row is None:
            return None
        return row.token_hash, datetime.fromisoformat(row.created_at), _dt(row.rotated_at)

    def dashboard_token_scope(self, token_hash: str) -> tuple[str, str] | None:
        """(scope, stored hash) of the dashboard whose token hashes to ``token_hash``."""
        with self._connection() as conn:
            row = conn.execute(
                select(dashboard_tokens_table.c.scope, dashboard_tokens_table.c.token_hash).where(
                    dashboard_tokens_table.c.token_hash == token_hash
                )
            ).first()
        return None if row is None else (row.scope, row.token_hash)

    def set_dashboard_token(self, scope: str, token_hash: str, now: datetime) -> None:
        """Store the dashboard token hash of ``scope``, replacing (rotating) an earlier one."""
        with self._connection() as conn:
            _set_token(conn, dashboard_tokens_table.c.scope, scope.lower(), token_hash, now)

    def delete_dashboard_token(self, scope: str) -> None:
        # Scopes are kept in lower case (``set_dashboard_token``); a digest's ends in its
        # week, "2027-W02", which matched nothing here and so was never revoked.
        with self._connection() as conn:
            conn.execute(
                delete(dashboard_tokens_table).where(
                    dashboard_tokens_table.c.scope == scope.lower()
                )
            )

    def delete_dashboard_tokens_under(self, prefix: str) -> int:
        """Revoke every dashboard token whose scope starts with ``prefix``; how many."""
        literal = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._connection() as conn:
            return int(
                conn.execute(
                    delete(dashboard_tokens_table).where(
                        dashboard_tokens_table.c.scope.like(f"{literal}%", escape="\\")
                    )
                ).rowcount
            )

    def delete_agenda_text(self, ref: str) -> None:
        """Forget a document (people deleted it; for tests and tools)."""
        with self._connection() as conn:
            conn.execute(delete(agenda_texts_table).where(agenda_texts_table.c.ref == ref))


def _by_pair_and_week(
    table: Table,
    pair_keys: Sequence[str] | None,
    since: str | None,
    before: str | None = None,
) -> tuple[Any, bool]:
    """The rows of ``table`` (keyed by pair and week) of ``pair_keys`` (all, when ``None``)
    and of weeks from ``since`` on and before ``before`` (each when given), ordered by pair
    and week; and whether the caller must order them itself (``_in_order``). Weeks since a
    line, of every pair, are read by the week index unordered: SQLite orders them by walking
    the primary key instead, every week ever recorded (issue 17)."""
    by_week = pair_keys is None and since is not None
    query = select(table) if by_week else select(table).order_by(table.c.pair_key, table.c.week)
    if pair_keys is not None:
        query = query.where(table.c.pair_key.in_(list(pair_keys)))
    if since is not None:
        query = query.where(table.c.week >= since)
    if before is not None:
        query = query.where(table.c.week < before)
    return query, by_week


_Record = TypeVar("_Record")


def _in_order(found: dict[str, dict[str, _Record]]) -> dict[str, dict[str, _Record]]:
    """``found`` ({pair key: {week: record}}) in the order of its keys, then of its weeks."""
    return {key: dict(sorted(found[key].items())) for key in sorted(found)}


def _keyed_rows(
    conn: Connection,
    columns: Sequence[Any],
    first: Column[Any],
    second: Column[Any],
    keys: Mapping[str, Collection[str]],
) -> Iterator[Any]:
    """The rows (of ``columns``) whose (``first``, ``second``) is one of ``keys`` ({first:
    seconds}), by one statement per value of whichever column has fewer distinct values
    (``first = ? AND second IN (...)``, or the other way round): each a search of an index that
    starts with ``first``. Not a row-value ``(first, second) IN (...)``, which SQLite answers
    by reading the whole table (a year of history for a few weeks), nor an OR of such terms,
    which SQLAlchemy compiles anew for every call; one statement, compiled once, serves all."""
    by_first = {value: set(seconds) for value, seconds in keys.items() if seconds}
    by_second: dict[str, set[str]] = {}
    for value, seconds in by_first.items():
        for other in seconds:
            by_second.setdefault(other, set()).add(value)
    if len(by_second) < len(by_first):
        fixed, listed, groups = second, first, by_second
    else:
        fixed, listed, groups = first, second, by_first
    statement = select(*columns).where(
        fixed == bindparam("fixed"), listed.in_(bindparam("listed", expanding=True))
    )
    for value, others in sorted(groups.items()):
        wanted = sorted(others)
        for offset in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[offset : offset + _IN_CHUNK]
            yield from conn.execute(statement, {"fixed": value, "listed": chunk})


def _update_many(
    conn: Connection, table: Table, key_names: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Set each row (its key and values, all with the same columns) in one bulk statement."""
    if not rows:
        return
    names = [name for name in rows[0] if name not in key_names]
    conn.execute(
        update(table)
        .where(and_(*(table.c[name] == bindparam(f"key_{name}") for name in key_names)))
        .values({name: bindparam(f"new_{name}") for name in names}),
        [
            {
                **{f"key_{name}": row[name] for name in key_names},
                **{f"new_{name}": row[name] for name in names},
            }
            for row in rows
        ],
    )


def _upsert_many(
    conn: Connection, table: Table, key_names: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """``_upsert`` of many rows (each holding its key and values) in a few statements: one
    read of the keys already there per chunk, one bulk update and one bulk insert (a pass
    saves a series and two copies for every pair it writes, each once a statement). A row
    another process inserted meanwhile makes the insert fail inside its savepoint; those
    rows then go one by one, as ``_upsert`` does."""
    if not rows:
        return
    keyed = {tuple(row[name] for name in key_names): row for row in rows}
    present: set[tuple[Any, ...]] = set()
    first = key_names[0]
    firsts = sorted({key[0] for key in keyed})
    columns = [table.c[name] for name in key_names]
    # The other key columns narrow the read too: a pair's agenda documents and action items
    # are keyed by pair and day (or id), and reading every one of a pair's, a year of them,
    # to save this week's grew with history (issue 17).
    narrowing = []
    for index, name in enumerate(key_names[1:], start=1):
        values = sorted({key[index] for key in keyed})
        if len(values) <= _IN_CHUNK:
            narrowing.append(table.c[name].in_(values))
    for offset in range(0, len(firsts), _IN_CHUNK):
        chunk = firsts[offset : offset + _IN_CHUNK]
        query = select(*columns).where(table.c[first].in_(chunk), *narrowing)
        for found in conn.execute(query):
            present.add(tuple(found))
    _update_many(conn, table, key_names, [row for key, row in keyed.items() if key in present])
    inserts = [row for key, row in keyed.items() if key not in present]
    if inserts:
        try:
            with conn.begin_nested():
                conn.execute(insert(table), inserts)
        except IntegrityError:
            for row in inserts:
                key = {name: row[name] for name in key_names}
                _upsert(conn, table, key, {k: v for k, v in row.items() if k not in key})


def _insert_groups(
    conn: Connection, table: Table, groups: Sequence[Sequence[dict[str, Any]]]
) -> list[bool]:
    """Insert each group of rows all or none, telling which went in: all in one statement
    when none conflicts with a row there (a pass's claims, issue 17); then group by group,
    each in a savepoint of its own, so a group that conflicts (decided before, by an
    earlier pass or another replica, or earlier in ``groups``) changes nothing."""
    if not groups:
        return []
    try:
        with conn.begin_nested():
            every = [row for rows in groups for row in rows]
            if every:
                conn.execute(insert(table), every)
        return [True] * len(groups)
    except IntegrityError:
        pass
    went_in: list[bool] = []
    for rows in groups:
        try:
            with conn.begin_nested():
                if rows:
                    conn.execute(insert(table), list(rows))
        except IntegrityError:
            went_in.append(False)
        else:
            went_in.append(True)
    return went_in


def _upsert(conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Update the row with primary ``key`` to ``values``, or insert it (portable: no dialect's
    ON CONFLICT). When another process inserts the same key between the two (two replicas,
    or a command beside a daemon), the insert fails on the primary key inside a savepoint
    and the row it made is updated instead: never a duplicate, never an error."""
    where = and_(*(table.c[name] == value for name, value in key.items()))
    if conn.execute(update(table).where(where).values(**values)).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(**key, **values))
    except IntegrityError:
        conn.execute(update(table).where(where).values(**values))


def _set_token(
    conn: Connection, key_column: Column[str], key: str, token_hash: str, now: datetime
) -> None:
    """Store the token hash of ``key`` (a feed's e-mail, a dashboard's scope) in the table of
    ``key_column``, rotating an earlier one. Two processes issuing the first token of one key
    at once (commands on two replicas) both succeed, the later one rotating: the insert that
    loses the race on the primary key, inside a savepoint, becomes a rotation instead of an
    ``IntegrityError`` that would also abort the caller's transaction."""
    table = key_column.table
    rotate = (
        update(table)
        .where(key_column == key)
        .values(token_hash=token_hash, rotated_at=now.isoformat())
    )
    if conn.execute(rotate).rowcount:
        return
    try:
        with conn.begin_nested():
            conn.execute(
                insert(table).values(
                    {key_column.name: key, "token_hash": token_hash, "created_at": now.isoformat()}
                )
            )
    except IntegrityError:
        conn.execute(rotate)


def _notice_values(record: NoticeRecord) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "pair_key": record.pair_key,
        "week": record.week,
        "recipient": record.recipient,
        "decided_at": record.decided_at.isoformat(),
        "sent_at": _iso(record.sent_at),
        "message_id": record.message_id,
        "channel": record.channel,
        "raw": record.raw,
        "lease_until": None,
    }


def _action_item_values(record: ActionItemRecord) -> dict[str, Any]:
    return {
        "pair_key": record.pair_key,
        "id": record.id,
        "text": record.text,
        "key": record.key,
        "state": record.state,
        "first_agenda": record.first_agenda,
        "last_agenda": record.last_agenda,
        "decided_in": record.decided_in,
        "done_at": _iso(record.done_at),
        "history": json.dumps([list(entry) for entry in record.history]),
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


def _agenda_doc_values(record: AgendaDocRecord) -> dict[str, Any]:
    return {
        "pair_key": record.pair_key,
        "session_date": record.session_date,
        "week": record.week,
        "kind": record.kind,
        "start": record.start.isoformat(),
        "end": record.end.isoformat(),
        "ref": record.ref,
        "url": record.url,
        "title": record.title,
        "excerpt": record.excerpt,
        "state": record.state,
        "items": json.dumps([list(item) for item in record.items]),
        "body": record.body,
        "created_at": record.created_at.isoformat(),
        "written_at": _iso(record.written_at),
        "read_at": _iso(record.read_at),
    }


def _agenda_doc(row: Any, shared: _Shared | None = None) -> AgendaDocRecord:
    items = tuple((str(i), str(t)) for i, t in json.loads(row.items))
    return _agenda_link(row, shared, items, row.body)


def _agenda_link(
    row: Any,
    shared: _Shared | None = None,
    items: tuple[tuple[str, str], ...] = (),
    body: str | None = None,
) -> AgendaDocRecord:
    """A document's record; without its items and body unless given (``agenda_docs``'s
    ``links_only``). Its keys, kind and state, and its moments, are shared with the other
    records of the read (``_Shared``): a pair read whole holds every document it ever had."""
    shared = shared or _Shared()
    return AgendaDocRecord(
        pair_key=sys.intern(row.pair_key),
        session_date=sys.intern(row.session_date),
        week=sys.intern(row.week),
        kind=sys.intern(row.kind),
        start=shared.moment(row.start),
        end=shared.moment(row.end),
        title=row.title,
        excerpt=row.excerpt,
        state=sys.intern(row.state),
        items=items,
        created_at=shared.moment(row.created_at),
        ref=row.ref,
        url=row.url,
        body=body,
        written_at=shared.maybe_moment(row.written_at),
        read_at=shared.maybe_moment(row.read_at),
    )


def _action_item(row: Any) -> ActionItemRecord:
    return ActionItemRecord(
        pair_key=row.pair_key,
        id=row.id,
        text=row.text,
        key=row.key,
        state=row.state,
        first_agenda=row.first_agenda,
        last_agenda=row.last_agenda,
        created_at=datetime.fromisoformat(row.created_at),
        updated_at=datetime.fromisoformat(row.updated_at),
        decided_in=row.decided_in,
        done_at=_dt(row.done_at),
        history=tuple(
            (str(at), str(event), str(text), str(agenda))
            for at, event, text, agenda in json.loads(row.history)
        ),
    )


def _makeup(row: Any) -> MakeupRecord:
    return MakeupRecord(
        pair_key=row.pair_key,
        week=row.week,
        uid=row.uid,
        start=datetime.fromisoformat(row.start),
        end=datetime.fromisoformat(row.end),
        state=row.state,
        reason=row.reason,
        pending=bool(row.pending),
        fingerprint=row.fingerprint,
        created_at=datetime.fromisoformat(row.created_at),
        updated_at=datetime.fromisoformat(row.updated_at),
    )


def _pass_run(row: Any) -> PassRun:
    return PassRun(
        id=int(row.id),
        replica=row.replica,
        token=int(row.token),
        pass_now=datetime.fromisoformat(row.pass_now),
        started_at=datetime.fromisoformat(row.started_at),
        finished_at=_dt(row.finished_at),
        result=row.result,
        resumes=row.resumes,
        detail=row.detail or "",
    )


def _notice(row: Any) -> NoticeRecord:
    return NoticeRecord(
        kind=row.kind,
        pair_key=row.pair_key,
        week=row.week,
        recipient=row.recipient,
        decided_at=datetime.fromisoformat(row.decided_at),
        sent_at=_dt(row.sent_at),
        message_id=row.message_id,
        channel=row.channel or "email",
        raw=row.raw or "",
    )


def _series_values(record: SeriesRecord) -> dict[str, Any]:
    return {
        "pair_key": record.pair_key,
        "uid": record.uid,
        "organizer": record.organizer,
        "dtstart": record.dtstart.isoformat(),
        "weekday": record.weekday,
        "at_time": record.at_time.strftime("%H:%M"),
        "timezone": record.timezone,
        "duration_minutes": int(record.duration.total_seconds() // 60),
        "until": _iso(record.until),
        "sequence": record.sequence,
        "fingerprint": record.fingerprint,
        "previous_fingerprint": record.previous_fingerprint,
        "pending": record.pending,
        "dtstamp": record.dtstamp.isoformat(),
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "seen_at": _iso(record.seen_at),
        "person_slot": record.person_slot,
        "week_shift": record.week_shift,
        "window": record.window,
    }


def _series(row: Any) -> SeriesRecord:
    hours, minutes = (int(part) for part in row.at_time.split(":"))
    return SeriesRecord(
        pair_key=row.pair_key,
        uid=row.uid,
        organizer=row.organizer,
        dtstart=datetime.fromisoformat(row.dtstart),
        weekday=row.weekday,
        at_time=time(hours, minutes),
        timezone=row.timezone,
        duration=timedelta(minutes=row.duration_minutes),
        until=_dt(row.until),
        sequence=row.sequence,
        fingerprint=row.fingerprint,
        previous_fingerprint=row.previous_fingerprint,
        pending=bool(row.pending),
        dtstamp=datetime.fromisoformat(row.dtstamp),
        created_at=datetime.fromisoformat(row.created_at),
        updated_at=datetime.fromisoformat(row.updated_at),
        seen_at=_dt(row.seen_at),
        person_slot=row.person_slot,
        week_shift=row.week_shift or 0,
        window=row.window,
    )


def _occurrence(row: Any, shared: _Shared | None = None) -> OccurrenceRecord:
    shared = shared or _Shared()
    return OccurrenceRecord(
        pair_key=sys.intern(row.pair_key),
        week=sys.intern(row.week),
        regular_start=shared.moment(row.regular_start),
        planned_start=shared.moment(row.planned_start),
        planned_end=shared.moment(row.planned_end),
        plan_status=sys.intern(row.plan_status),
        status=sys.intern(row.status),
        reason=sys.intern(row.reason),
        people_changed=bool(row.people_changed),
        change=sys.intern(row.change),
        actual_start=shared.maybe_moment(row.actual_start),
        actual_end=shared.maybe_moment(row.actual_end),
        agenda=row.agenda,
        updated_at=shared.moment(row.updated_at),
        away=bool(row.away),
        changed_by=None if row.changed_by is None else sys.intern(row.changed_by),
    )


def _occurrence_values(record: OccurrenceRecord, now: datetime) -> dict[str, Any]:
    return {
        "pair_key": record.pair_key,
        "week": record.week,
        "regular_start": record.regular_start.isoformat(),
        "planned_start": record.planned_start.isoformat(),
        "planned_end": record.planned_end.isoformat(),
        "actual_start": _iso(record.actual_start),
        "actual_end": _iso(record.actual_end),
        "plan_status": record.plan_status,
        "status": record.status,
        "reason": record.reason,
        "people_changed": record.people_changed,
        "change": record.change,
        "agenda": record.agenda,
        "updated_at": now.isoformat(),
        "away": record.away,
        "changed_by": record.changed_by,
    }
