"""Durable, atomic file writes: the one way the product replaces a file on disk.

I/O only. Used for calendar objects (vdir), outgoing mail (the outbox) and caches: a killed
process never leaves a torn file and readers never see half of one.

Exports: write_atomically, sync_folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

__all__ = ["sync_folder", "write_atomically"]


def write_atomically(target: Path, data: bytes, *, keep_mode: bool = False) -> None:
    """Replace ``target`` with ``data``: temp file, fsync, rename, fsync of the folder.

    The temp file is dot-prefixed (khal, vdirsyncer and the product's readers skip it) and
    created 0600 by ``mkstemp``; with ``keep_mode`` an existing file's mode is kept instead.
    Raises ``OSError``; the temp file never outlives a failure.
    """
    temp_name: str | None = None
    try:
        fd, temp_name = tempfile.mkstemp(prefix=".oneonone-", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if keep_mode:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(temp_name, target.stat().st_mode & 0o777)
        os.replace(temp_name, target)
        temp_name = None
        sync_folder(target.parent)
    finally:
        if temp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)


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
