"""The vdir provider: a person's calendar as a folder of ``.ics`` files (the embedded default).

One calendar object per file, the layout khal and vdirsyncer use; objects the product writes are
named ``<uid>.ics``. Does file I/O on that folder only: reads every ``.ics`` file, writes and
deletes only objects the product owns, each write atomic (temp file, fsync, rename, fsync of
the folder) so a killed process never leaves a torn object and readers never see a half file.

Exports: ``VdirProvider``, ``uid_filename``, ``Memo`` (the Google provider memoises with it too).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from scheduler import ical
from scheduler.domain import Person
from scheduler.domain.series import CalendarRead, ObservedSeries, SeriesSpec
from scheduler.errors import CalendarError
from scheduler.providers.base import is_candidate, is_single_meeting
from scheduler.store.files import sync_folder, write_atomically

__all__ = ["Memo", "VdirProvider", "uid_filename"]

#: A calendar object larger than this is not a meeting; reading it would only cost memory.
MAX_OBJECT_BYTES = 4 * 1024 * 1024

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]")

T = TypeVar("T")


def uid_filename(uid: str) -> str:
    """The file name of the object with ``uid``: ``<uid>.ics`` with unsafe characters as ``_``.

    A leading dot is replaced too, since readers (khal, us) skip dotfiles.
    """
    safe = _UNSAFE.sub("_", uid)
    if not safe or safe.startswith("."):
        safe = "_" + safe
    return f"{safe}.ics"


class VdirProvider:
    """One person's vdir folder. Floating times in objects are read in ``default_zone``."""

    name = "vdir"
    writable = True

    def __init__(self, path: Path, default_zone: ZoneInfo) -> None:
        self.path = Path(path)
        self.default_zone = default_zone
        self.where = f"vdir folder {self.path}"

    # ----------------------------------------------------------------------- reading

    def _files(self) -> list[Path]:
        """Every calendar object file, in name order (dotfiles and temp files left out)."""
        if not self.path.is_dir():
            raise CalendarError(f"The {self.where} does not exist or is not a folder.")
        try:
            names = sorted(
                entry.name
                for entry in os.scandir(self.path)
                if entry.name.endswith(".ics")
                and not entry.name.startswith(".")
                and entry.is_file()
            )
        except OSError as exc:
            raise CalendarError(f"Cannot list the {self.where}: {_os_reason(exc)}.") from exc
        return [self.path / name for name in names]

    def _load(self, file: Path) -> bytes:
        with file.open("rb") as handle:
            data = handle.read(MAX_OBJECT_BYTES + 1)
        if len(data) > MAX_OBJECT_BYTES:
            raise ValueError(
                f"{file}: cannot read calendar object: it is larger than "
                f"{MAX_OBJECT_BYTES // (1024 * 1024)} MB"
            )
        return data

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        """Busy time in [start, end) and every product-owned object (any date)."""
        result = CalendarRead()
        zone = _zone_or(person, self.default_zone)
        for file in self._files():
            result.object_count += 1
            href = str(file)
            try:
                data = self._load(file)
                digest = hashlib.sha256(data).digest()
                calendars = _MEMO.get(("parse", digest, href), ical.parse_object, data, href)
                try:
                    observed = _MEMO.get(
                        ("observe", digest, href, self.default_zone.key),
                        ical.observe_parsed,
                        calendars,
                        href,
                        self.default_zone,
                    )
                except ValueError:
                    # Ours and unreadable: a problem. Someone else's: its busy time may still
                    # be readable even when it is no series we could adopt.
                    if ical.is_product_object(calendars):
                        raise
                    observed = None
                if observed is not None and _is_owned(observed):
                    if observed.uid in result.owned:
                        result.problems.append(
                            f"{href}: holds UID {observed.uid} which "
                            f"{result.owned[observed.uid].href} holds too; the first one is used."
                        )
                    else:
                        result.owned[observed.uid] = observed
                    continue
                busy, out_days = _MEMO.get(
                    ("busy", digest, href, person.email, start, end, zone.key),
                    ical.busy_from_parsed,
                    calendars,
                    href,
                    person.email,
                    start,
                    end,
                    zone,
                )
                if observed is not None and is_candidate(observed):
                    result.weekly_candidates.append(observed)
                    result.candidate_busy.setdefault(observed.uid, []).extend(busy)
                    result.out_days.update(out_days)
                    continue
                if observed is not None and is_single_meeting(observed):
                    result.single_meetings.append(observed)
            except FileNotFoundError:
                # Deleted between listing and reading (a sync or a client at work): gone, so
                # neither busy nor a problem.
                result.object_count -= 1
                continue
            except OSError as exc:
                result.problems.append(f"{href}: cannot read calendar object: {_os_reason(exc)}.")
                continue
            except ValueError as exc:
                result.problems.append(_sentence(str(exc)))
                continue
            result.busy.extend(busy)
            result.out_days.update(out_days)
        return result

    # ----------------------------------------------------------------------- writing

    def _create_folder(self) -> None:
        """Create the folder (and missing parents): the embedded default needs no setup, its
        ``data/cal/<person>`` folders appear on first use. Raises ``OSError``."""
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file is in its place")
        self.path.mkdir(parents=True, exist_ok=True)

    def _ensure_folder(self) -> None:
        try:
            self._create_folder()
        except OSError as exc:
            raise CalendarError(f"Cannot create the {self.where}: {_os_reason(exc)}.") from exc

    def _find(self, uid: str) -> tuple[Path, ObservedSeries | None] | None:
        """The file holding ``uid`` and what it holds (``None`` if unreadable); or ``None``.

        ``<uid>.ics`` first; else any file holding that UID (an object another client named,
        being adopted). Only files whose bytes mention the UID are parsed.
        """
        preferred = self.path / uid_filename(uid)
        if preferred.is_file():
            try:
                observed = ical.observe(self._load(preferred), str(preferred), self.default_zone)
            except FileNotFoundError:
                observed = None
            except (OSError, ValueError):
                # Unreadable under our own name (not torn by us: writes are atomic): ours to
                # replace.
                return preferred, None
            if observed is None:
                return preferred, None
            if observed.uid == uid:
                return preferred, observed
            # Our file name, someone else's object: never overwrite it.
            raise CalendarError(
                f"{preferred} holds another object (UID {observed.uid}) where the product's "
                f"{uid} belongs; it was left alone."
            )
        needle = uid.encode("utf-8", "replace")
        for file in self._files():
            try:
                data = self._load(file)
                if needle not in data:
                    continue
                observed = ical.observe(data, str(file), self.default_zone)
            except (OSError, ValueError):
                continue
            if observed is not None and observed.uid == uid:
                return file, observed
        return None

    def write(self, spec: SeriesSpec, owner: Person, *, dtstamp: datetime) -> bool:
        """Write ``spec`` as ``owner``'s copy; ``False`` when the stored copy is already it.

        The stored copy is current when its ``X-ONEONONE-HASH`` is ``fingerprint(spec)`` and its
        SEQUENCE is ``spec.sequence``. Writes ``<uid>.ics``, or rewrites in place the file that
        already holds ``spec.uid`` (an adopted event another client named); never a file that
        holds another UID.
        """
        self._ensure_folder()
        digest = ical.fingerprint(spec)
        found = self._find(spec.uid)
        if found is not None:
            target, current = found
            if (
                current is not None
                and current.fingerprint == digest
                and current.sequence == spec.sequence
            ):
                return False
        else:
            target = self.path / uid_filename(spec.uid)
        try:
            data = ical.render(spec, dtstamp)
        except ValueError as exc:
            raise CalendarError(
                f"Cannot write {spec.uid} to the {self.where}: {_sentence(str(exc))}"
            ) from exc
        self._atomic_write(target, data)
        return True

    def _atomic_write(self, target: Path, data: bytes) -> None:
        try:
            write_atomically(target, data, keep_mode=True)
        except OSError as exc:
            raise CalendarError(
                f"Cannot write {target.name} in the {self.where}: {_os_reason(exc)}."
            ) from exc

    def delete(self, uid: str, owner: Person) -> bool:
        """Remove the product-owned object ``uid``; ``False`` when there is none.

        Refuses (``CalendarError``) to remove an object the product does not own.
        """
        if not self.path.is_dir():
            raise CalendarError(f"The {self.where} does not exist or is not a folder.")
        found = self._find(uid)
        if found is None:
            return False
        target, current = found
        if current is None or not _is_owned(current):
            raise CalendarError(
                f"{target} holds {uid} but the product does not own it; it was left alone."
            )
        try:
            target.unlink()
            sync_folder(self.path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise CalendarError(
                f"Cannot delete {target.name} in the {self.where}: {_os_reason(exc)}."
            ) from exc
        return True

    # ----------------------------------------------------------------------- checking

    def check(self, person: Person) -> list[str]:
        """One sentence per problem reaching the folder; creates it when only it is missing."""
        if self.path.exists() and not self.path.is_dir():
            return [f"The {self.where} of {person.email} is a file; point `path` at a folder."]
        if not self.path.exists():
            try:
                self._create_folder()
            except OSError as exc:
                return [
                    f"The {self.where} of {person.email} does not exist and cannot be created "
                    f"({_os_reason(exc)}); create it or fix `path`."
                ]
        problems: list[str] = []
        if not os.access(self.path, os.R_OK | os.X_OK):
            problems.append(
                f"The {self.where} of {person.email} cannot be read; fix its permissions."
            )
        if not os.access(self.path, os.W_OK | os.X_OK):
            problems.append(
                f"The {self.where} of {person.email} is not writable; fix its permissions."
            )
        return problems


class Memo:
    """What reading an object gave, by its bytes' digest: a daemon polling every few minutes
    reads the same files again and again, and parsing iCalendar is most of a pass's time.

    Keyed by content, not by file times, so an edit within the file system's timestamp
    resolution is never missed. Results are treated as read-only by every caller. Bounded
    (least recently used out first); a result that raised ``ValueError`` is remembered as
    that error, so a broken file costs one parse, not one per pass.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], tuple[bool, Any]] = OrderedDict()

    def get(self, key: tuple[object, ...], make: Callable[..., T], *args: Any) -> T:
        found = self._items.get(key)
        if found is None:
            try:
                found = (True, make(*args))
            except ValueError as exc:
                found = (False, str(exc))
            self._items[key] = found
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        ok, value = found
        if not ok:
            raise ValueError(value)
        return cast(T, value)


_MEMO = Memo(20_000)


def _is_owned(observed: ObservedSeries) -> bool:
    # A copy that lost its tag to a client that drops unknown properties is still ours,
    # never the person's own busy time.
    return observed.pair_key is not None or observed.uid.startswith(ical.PRODUCT_UID_PREFIX)


def _zone_or(person: Person, fallback: ZoneInfo) -> ZoneInfo:
    try:
        return person.zone
    except (ValueError, KeyError):
        return fallback


def _os_reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else str(exc)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."
