"""A lock on the data folder: one writer (a daemon or a ``sync``) at a time.

I/O: an advisory ``fcntl.flock`` on ``<data>/oneonone.lock``. The kernel drops the lock when
the process dies, so a killed daemon never leaves a stale lock behind; the pid written inside
is only there to name the holder in the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from scheduler.errors import AlreadyRunning, UserError
from scheduler.store.files import private_folder

__all__ = ["DataLock"]


class DataLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "oneonone.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            private_folder(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise UserError(f"cannot create the lock file {self.path}: {error.strerror}") from error
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"another oneonone process (pid {holder}) is already working on "
                f"{self.path.parent}; "
                "stop it first, or wait for its pass to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
