"""The ledger's side of the feed cache: who's feed changed when, and each feed as last built.

I/O: the database, through the connection the ledger hands in. Two tables (Alembic revision
0006, issue 17):

- ``feed_versions``: one row per person whose 1:1s the ledger ever changed, ``version`` the
  *feed generation* of their last change; the row ``*`` holds the newest generation. Every
  write of a series, an occurrence or a make-up (and a token rotation) is folded into one bump
  when its transaction commits: the generation goes up by one (``UPDATE ... SET version =
  version + 1`` on ``*``, which also serialises bumping transactions on PostgreSQL's row
  lock, so generations commit in order) and both people of each changed pair get it. A
  reader that last saw generation ``g`` learns everything that changed since with one indexed
  read, ``version > g``, and nothing when nothing changed.
- ``feed_cache``: each person's feed bytes and ETag as last built, with the version and the
  ``context`` (a digest of the org file's part and of the code) they were built for, so a
  replica serves what another built instead of building it again.

A process also counts the bumps its own ledgers committed (``local_changes``): its server
looks at the database at once after its own pass, not a second later.

Exports: GENERATION, StoredFeed, feed_tables, note_changes, discard_changes, flush_changes,
announce, local_changes, changed_since, version_of, stored_feed, keep_feed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

__all__ = [
    "GENERATION",
    "StoredFeed",
    "announce",
    "changed_since",
    "discard_changes",
    "feed_tables",
    "flush_changes",
    "keep_feed",
    "local_changes",
    "note_changes",
    "stored_feed",
    "version_of",
]

#: The ``feed_versions`` row holding the newest generation (no e-mail address is ``*``).
GENERATION = "*"
#: Keys per ``IN (...)`` list (as in the ledger).
_CHUNK = 500
#: Where a connection keeps the people whose feeds its open transaction changed.
_PENDING = "oneonone_feed_changes"

_local_lock = threading.Lock()
_local_count = 0


@dataclass(frozen=True, slots=True)
class StoredFeed:
    """A feed as some process built it (``feed_cache``)."""

    version: int
    context: str
    etag: str
    body: bytes


def feed_tables(metadata: MetaData) -> tuple[Table, Table]:
    """``feed_versions`` and ``feed_cache``, declared on the ledger's ``metadata``."""
    versions = Table(
        "feed_versions",
        metadata,
        Column("email", String(200), primary_key=True),
        Column("version", BigInteger, nullable=False),
        Index("feed_versions_by_version", "version"),
    )
    cache = Table(
        "feed_cache",
        metadata,
        Column("email", String(200), primary_key=True),
        Column("version", BigInteger, nullable=False),
        Column("context", String(64), nullable=False),
        Column("etag", String(80), nullable=False),
        Column("body", LargeBinary, nullable=False),
    )
    return versions, cache


def note_changes(conn: Connection, keys: Iterable[str]) -> None:
    """Remember that the feeds of ``keys`` (pair keys ``manager/rep``, or e-mails) change
    with the transaction open on ``conn``; ``flush_changes`` writes the bump before it commits."""
    emails = {email for key in keys for email in key.lower().split("/") if email}
    if emails:
        conn.info.setdefault(_PENDING, set()).update(emails)


def discard_changes(conn: Connection) -> None:
    """Forget what ``note_changes`` kept on ``conn`` (its transaction rolled back)."""
    conn.info.pop(_PENDING, None)


def flush_changes(conn: Connection, versions: Table) -> bool:
    """Write one bump for everything noted on ``conn`` (inside its transaction, just before
    it commits). True when there was something to bump."""
    emails = sorted(conn.info.pop(_PENDING, ()))
    if not emails:
        return False
    generation = _next_generation(conn, versions)
    for offset in range(0, len(emails), _CHUNK):
        chunk = emails[offset : offset + _CHUNK]
        done = conn.execute(
            update(versions).where(versions.c.email.in_(chunk)).values(version=generation)
        ).rowcount
        if done == len(chunk):
            continue
        present = set(
            conn.execute(select(versions.c.email).where(versions.c.email.in_(chunk))).scalars()
        )
        for email in chunk:
            if email not in present:
                _insert_or_set(conn, versions, email, generation)
    return True


def announce() -> None:
    """Count one committed bump of this process (after the commit)."""
    global _local_count
    with _local_lock:
        _local_count += 1


def local_changes() -> int:
    """How many bumps this process's ledgers committed so far."""
    return _local_count


def _next_generation(conn: Connection, versions: Table) -> int:
    where = versions.c.email == GENERATION
    bumped = update(versions).where(where).values(version=versions.c.version + 1)
    if not conn.execute(bumped).rowcount:
        _insert_or_set(conn, versions, GENERATION, 1, increment=True)
    return int(conn.execute(select(versions.c.version).where(where)).scalar_one())


def _insert_or_set(
    conn: Connection, versions: Table, email: str, version: int, *, increment: bool = False
) -> None:
    """Insert ``email``'s row; when another process inserted it meanwhile (the primary key
    says so inside a savepoint), set (or, for the generation, increment) it instead."""
    try:
        with conn.begin_nested():
            conn.execute(insert(versions).values(email=email, version=version))
    except IntegrityError:
        value = versions.c.version + 1 if increment else version
        conn.execute(update(versions).where(versions.c.email == email).values(version=value))


def changed_since(conn: Connection, versions: Table, generation: int) -> dict[str, int]:
    """{email: version} of every feed changed after ``generation``, with the newest
    generation under ``GENERATION`` (absent when nothing changed). One indexed read."""
    rows = conn.execute(
        select(versions.c.email, versions.c.version).where(versions.c.version > generation)
    )
    return {row.email: int(row.version) for row in rows}


def version_of(conn: Connection, versions: Table, email: str) -> int:
    """The version of ``email``'s feed (0 while the ledger never changed it)."""
    found = conn.execute(
        select(versions.c.version).where(versions.c.email == email.lower())
    ).scalar_one_or_none()
    return 0 if found is None else int(found)


def stored_feed(conn: Connection, cache: Table, email: str) -> StoredFeed | None:
    row = conn.execute(select(cache).where(cache.c.email == email.lower())).first()
    if row is None:
        return None
    return StoredFeed(int(row.version), row.context, row.etag, bytes(row.body))


def keep_feed(conn: Connection, cache: Table, email: str, feed: StoredFeed) -> None:
    """Store ``feed`` as ``email``'s, unless a feed of a newer version is stored already."""
    key = email.lower()
    values: dict[str, Any] = {
        "version": feed.version,
        "context": feed.context,
        "etag": feed.etag,
        "body": feed.body,
    }
    done = conn.execute(
        update(cache)
        .where((cache.c.email == key) & (cache.c.version <= feed.version))
        .values(values)
    ).rowcount
    if done:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(cache).values(email=key, **values))
    except IntegrityError:
        pass  # a newer one is there (another replica built it): keep that
