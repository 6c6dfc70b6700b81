"""Durable, atomic file writes: the one way the product replaces a file on disk.

I/O only. Used for calendar objects (vdir), outgoing mail (the outbox), agenda files, sign-in
tokens and caches: a killed process never leaves a torn file and readers never see half of one.

Every write goes through a temp file in the target's folder, named ``.oneonone-<16 hex>.tmp``:
a dotfile with a suffix no reader looks for (khal, vdirsyncer and the product's own readers skip
it). A process killed mid-write leaves that file behind, and only that name says it is ours, so
only such names are ever removed:

- by the writers themselves, the first time a process writes into a folder (and again every
  ``STALE_AFTER``), for temp files older than ``STALE_AFTER``;
- by ``remove_stale_temp_files`` at the start of a pass, over the data folder and the calendar
  folders, so a folder the pass does not write into is cleaned too.

Age, not the data folder's lock, decides what is stale: ``oneonone plan`` (the ics cache) and
``oneonone auth google`` (the token file) write into the data folder without holding the lock,
and two org files may share a calendar folder. A write lasts milliseconds; a temp file older
than ``STALE_AFTER`` has no writer left. Temp files this process is writing are never removed.

Exports: write_atomically, temp_copy, remove_stale_temp_files, is_temp_name, sync_folder,
TEMP_PREFIX, TEMP_SUFFIX, STALE_AFTER.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

__all__ = [
    "STALE_AFTER",
    "TEMP_PREFIX",
    "TEMP_SUFFIX",
    "is_temp_name",
    "private_file",
    "private_folder",
    "remove_stale_temp_files",
    "sync_folder",
    "temp_copy",
    "write_atomically",
]

log = logging.getLogger(__name__)

TEMP_PREFIX = ".oneonone-"
TEMP_SUFFIX = ".tmp"

#: A temp file older than this was left by a write that will never finish.
STALE_AFTER = timedelta(minutes=5)

# Ours now (16 hex digits), and what ``tempfile.mkstemp`` made with the same prefix and suffix
# before (8 of ``[a-z0-9_]``), so that files left by earlier versions are cleaned too.
_TEMP_NAME = re.compile(
    rf"^{re.escape(TEMP_PREFIX)}(?:[0-9a-f]{{16}}|[a-z0-9_]{{8}}){re.escape(TEMP_SUFFIX)}$"
)

# How deep ``remove_stale_temp_files`` looks below a root: <data>/agendas/<manager>/<rep>/.
_MAX_DEPTH = 4

_lock = threading.Lock()
#: names of the temp files this process is writing now (other threads must not remove them)
_writing: set[str] = set()
#: folder -> when (``time.monotonic``) this process last removed stale temp files in it
_swept: dict[str, float] = {}


def private_folder(path: Path, *, up_to: Path | None = None) -> None:
    """``path`` as a folder (parents too, like ``mkdir -p``), every folder it creates 0700
    whatever the umask: what the data folder holds (the ledger, agendas, mail, caches) is
    for the daemon's user only. With ``up_to``, existing folders from ``path`` up to and
    including ``up_to`` are made 0700 as well (folders earlier versions left 0755).
    Raises ``OSError``."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
        os.chmod(folder, 0o700)
    if up_to is not None and path.is_relative_to(up_to):
        probe = path
        while True:
            if stat.S_IMODE(probe.stat().st_mode) != 0o700:
                os.chmod(probe, 0o700)
            if probe == up_to or probe.parent == probe:
                break
            probe = probe.parent


def private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 when it is missing, and make it 0600 when it is not
    (whatever the umask; a file earlier versions left 0644 included). Raises ``OSError``."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is the name of one of the product's temp files."""
    return _TEMP_NAME.match(name) is not None


@contextlib.contextmanager
def temp_copy(folder: Path, data: bytes) -> Iterator[Path]:
    """``data`` in a new temp file in ``folder``, written and fsynced, for the caller to rename
    or link into place. Mode 0600; on leaving, the temp file is removed if it is still there.

    Stale temp files in ``folder`` are removed first (see the module docstring).
    Raises ``OSError``.
    """
    _sweep_if_due(folder)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        path = folder / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
        break
    with _lock:
        _writing.add(path.name)
    identity: os.stat_result | None = None
    try:
        with os.fdopen(fd, "wb") as handle:
            identity = os.fstat(handle.fileno())
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        yield path
    finally:
        with _lock:
            _writing.discard(path.name)
        with contextlib.suppress(OSError):
            # Once the caller renamed it away, the name could in theory be another file's:
            # remove it only if it is still the file made here.
            found = os.lstat(path)
            if identity is None or (found.st_dev, found.st_ino) == (
                identity.st_dev,
                identity.st_ino,
            ):
                os.unlink(path)


def write_atomically(target: Path, data: bytes, *, keep_mode: bool = False) -> None:
    """Replace ``target`` with ``data``: temp file, fsync, rename, fsync of the folder.

    The temp file (see ``temp_copy``) is created 0600; with ``keep_mode`` an existing file's
    mode is kept instead. Raises ``OSError``; the temp file never outlives a failure.
    """
    with temp_copy(target.parent, data) as temp:
        if keep_mode:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(temp, target.stat().st_mode & 0o777)
        os.replace(temp, target)
    sync_folder(target.parent)


def remove_stale_temp_files(*roots: Path, older_than: timedelta = STALE_AFTER) -> list[Path]:
    """Remove the product's temp files older than ``older_than`` in ``roots`` and the folders
    below them (a few levels deep, never through a symbolic link); the paths removed.

    Only names ``is_temp_name`` accepts, only regular files, never one this process is
    writing. Missing roots are fine; a file or folder that cannot be read or removed is left
    (logged), since a leftover temp file harms nothing but space.
    """
    removed: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for root in roots:
        removed.extend(_sweep(Path(root), older_than, depth=_MAX_DEPTH, seen=seen))
    return removed


def sync_folder(folder: Path) -> None:
    """Make a rename (or an unlink) in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems cannot fsync a folder; the rename is still atomic there.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _sweep_if_due(folder: Path) -> None:
    """Remove stale temp files in ``folder`` (not below it) unless done lately."""
    key = str(folder)
    now = time.monotonic()
    with _lock:
        last = _swept.get(key)
        if last is not None and now - last < STALE_AFTER.total_seconds():
            return
        _swept[key] = now
    _sweep(folder, STALE_AFTER, depth=0, seen=set())


def _sweep(
    folder: Path, older_than: timedelta, *, depth: int, seen: set[tuple[int, int]]
) -> list[Path]:
    removed: list[Path] = []
    try:
        folder_stat = os.stat(folder)
        if (folder_stat.st_dev, folder_stat.st_ino) in seen:
            return removed
        seen.add((folder_stat.st_dev, folder_stat.st_ino))
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    except OSError as exc:
        log.debug("cannot look for temp files in %s: %s", folder, exc)
        return removed
    cutoff = time.time() - older_than.total_seconds()
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if depth > 0:
                    removed.extend(_sweep(Path(entry.path), older_than, depth=depth - 1, seen=seen))
                continue
            if not is_temp_name(entry.name):
                continue
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime > cutoff:
                continue
            with _lock:
                if entry.name in _writing:
                    continue
                os.unlink(entry.path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.debug("cannot remove the temp file %s: %s", entry.path, exc)
            continue
        log.info("removed %s, left by a write that was interrupted", entry.path)
        removed.append(Path(entry.path))
    return removed
