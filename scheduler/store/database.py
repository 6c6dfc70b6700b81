"""Opening the ledger's database: which driver a URL means, and the engine for it.

I/O: none until the engine connects. ``engine_for`` turns a ``ONEONONE_DATABASE_URL`` into a
SQLAlchemy engine:

- ``sqlite:///path`` (the default, ``data/state.db``): WAL, synchronous commits and a busy
  timeout, so ``report`` reads while a pass writes and a commit survives a killed process.
- ``postgresql://...``, ``postgres://...`` and ``postgresql+psycopg://...``: PostgreSQL through
  psycopg 3 (``pip install 'oneonone[postgres]'``). The bare forms mean psycopg 3 here, not
  SQLAlchemy's default psycopg2, so the URL an admin copies from their provider works as is.
- any other SQLAlchemy URL is passed through.

A URL whose driver is not installed is a ``UserError`` sentence that names the package to
install, never a ``ModuleNotFoundError`` traceback.

Exports: engine_for, normalise_url, safe_url, is_shared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from scheduler.errors import UserError
from scheduler.store.files import private_folder

__all__ = ["engine_for", "is_shared", "normalise_url", "safe_url"]

#: What to install for a dialect's driver, by the module name a missing one raises.
_DRIVER_PACKAGES = {
    "psycopg": "pip install 'oneonone[postgres]'",
    "psycopg2": "pip install 'oneonone[postgres]' and write the URL as postgresql://",
    "pymysql": "pip install pymysql",
    "MySQLdb": "pip install mysqlclient",
}


def normalise_url(url: str) -> str:
    """``url`` with the PostgreSQL forms spelled ``postgresql+psycopg://``; others as given."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def safe_url(url: str) -> str:
    """The URL without its password, fit for messages and logs."""
    head, sep, tail = url.rpartition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, credentials = head.partition("://")
    user, colon, _password = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{tail}"


def is_shared(engine: Engine) -> bool:
    """Whether several replicas may use this database at once (anything but SQLite)."""
    return engine.dialect.name != "sqlite"


def engine_for(url: str) -> Engine:
    """The engine of ``url`` (see the module docstring); a ``UserError`` when it cannot be."""
    target = normalise_url(url)
    try:
        parsed = make_url(target)
    except ArgumentError as error:
        raise UserError(
            f"ONEONONE_DATABASE_URL {safe_url(url)!r} is not a database URL; write it as "
            "postgresql://user:password@host:5432/name or sqlite:///path/to/state.db"
        ) from error
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        try:
            # The ledger holds the agenda secret and every notice: its folder is the
            # daemon's user's only (0700, whatever the umask).
            private_folder(Path(parsed.database).parent)
        except OSError as error:
            raise UserError(
                f"cannot create the folder of the ledger {parsed.database}: {error.strerror}"
            ) from error
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        # A replica that was partitioned must find its dead connections at once, not after a
        # TCP timeout: pool_pre_ping checks a pooled connection before use.
        options["pool_pre_ping"] = True
    try:
        engine = create_engine(target, **options)
    except (ModuleNotFoundError, NoSuchModuleError) as error:
        missing = getattr(error, "name", None) or parsed.get_driver_name()
        hint = _DRIVER_PACKAGES.get(missing or "", f"install the {missing} package")
        raise UserError(
            f"the ledger at {safe_url(url)} needs the database driver {missing!r}, which is "
            f"not installed: {hint}"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets `report` read while a pass writes; synchronous=FULL makes a commit survive a
    # killed process (the kill tests depend on it).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
