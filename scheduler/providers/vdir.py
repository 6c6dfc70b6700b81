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
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any, Generic, TypeVar, cast
from zoneinfo import ZoneInfo

from icalendar import Calendar

from scheduler import ical
from scheduler.domain import Person
from scheduler.domain.series import CalendarRead, ObservedSeries
from scheduler.errors import CalendarError, ConflictError
from scheduler.providers.base import (
    Capabilities,
    WriteJob,
    Written,
    content_version,
    is_candidate,
    is_single_meeting,
)
from scheduler.store.files import private_folder, sync_folder, write_atomically

__all__ = ["Lazy", "Memo", "VdirProvider", "event_weight", "uid_filename"]

#: A calendar object larger than this is not a meeting; reading it would only cost memory.
MAX_OBJECT_BYTES = 4 * 1024 * 1024

#: CPU seconds reading one folder may take (each object is bounded on its own too); the files
#: not read by then are named in one problem and read again next pass.
READ_SECONDS = 20.0

#: File names of the product's own objects start so (``series_uid``, ``makeup_uid``).
PRODUCT_PREFIX = "oneonone-"

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
    capabilities = Capabilities(writable=True)

    def __init__(
        self, path: Path, default_zone: ZoneInfo, *, read_seconds: float = READ_SECONDS
    ) -> None:
        self.path = Path(path)
        self.read_seconds = read_seconds
        self.default_zone = default_zone
        self.where = f"vdir folder {self.path}"

    # ----------------------------------------------------------------------- reading

    def _files(self) -> list[str]:
        """Every calendar object file's path, in name order (dotfiles and temp files left
        out); strings, not ``Path``s: a pass lists every file of every calendar, and making a
        ``Path`` of each was a tenth of a steady pass."""
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
        folder = str(self.path)
        return [os.path.join(folder, name) for name in names]

    def _load(self, file: str | Path) -> bytes:
        with open(file, "rb") as handle:
            data = handle.read(MAX_OBJECT_BYTES + 1)
        if len(data) > MAX_OBJECT_BYTES:
            raise ValueError(
                f"{file}: cannot read calendar object: it is larger than "
                f"{MAX_OBJECT_BYTES // (1024 * 1024)} MB"
            )
        return data

    def read(self, person: Person, start: datetime, end: datetime) -> CalendarRead:
        """Busy time in [start, end) and every product-owned object (any date), each with its
        version: the SHA-256 of the file's bytes."""
        result = CalendarRead()
        zone = _zone_or(person, self.default_zone)
        files = self._files()
        budget = time.thread_time() + self.read_seconds
        unread = 0
        for file in files:
            result.object_count += 1
            href = file
            if unread or time.thread_time() > budget:
                unread += 1
                continue
            try:
                status = os.stat(file)
                window = (start, end)
                if _take_unchanged(result, file, status, person, window, zone, self.default_zone):
                    continue
                data = self._load(file)
                digest = hashlib.sha256(data).digest()
                take_object(
                    result, _MEMO, data, href, None, person, window, zone, self.default_zone, digest
                )
                _remember_unchanged(file, status, digest)
            except FileNotFoundError:
                # Deleted between listing and reading (a sync or a client at work): gone, so
                # neither busy nor a problem.
                result.object_count -= 1
                continue
            except OSError as exc:
                result.problems.append(f"{href}: cannot read calendar object: {_os_reason(exc)}.")
                self._note_damaged(result, Path(file))
                continue
            except ValueError as exc:
                result.problems.append(_sentence(str(exc)))
                self._note_damaged(result, Path(file))
                continue
        if unread:
            result.problems.append(
                f"Reading the {self.where} took longer than {self.read_seconds:g} seconds; "
                f"{unread} of its {len(files)} files were not read, so their busy time is "
                "missing from this pass."
            )
        return result

    @staticmethod
    def _note_damaged(result: CalendarRead, file: Path) -> None:
        """An unreadable file under a product UID's name (a truncated copy): not a deleted
        series, and the product's next write replaces it, on condition of these bytes."""
        if not file.name.startswith(PRODUCT_PREFIX):
            return
        try:
            data = file.read_bytes()
        except OSError:
            return
        result.damaged[file.name.removesuffix(".ics")] = content_version(data)

    # ----------------------------------------------------------------------- writing

    def _create_folder(self) -> None:
        """Create the folder (and missing parents): the embedded default needs no setup, its
        ``data/cal/<person>`` folders appear on first use. Raises ``OSError``."""
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "a file is in its place")
        # The folders it creates are 0700 whatever the umask (a calendar is private).
        private_folder(self.path)

    def _ensure_folder(self) -> None:
        try:
            self._create_folder()
        except OSError as exc:
            raise CalendarError(f"Cannot create the {self.where}: {_os_reason(exc)}.") from exc

    def _find(self, uid: str) -> tuple[Path, ObservedSeries | None, str] | None:
        """The file holding ``uid``, what it holds (``None`` if unreadable) and its version;
        or ``None``.

        ``<uid>.ics`` first; else any file holding that UID (an object another client named,
        being adopted). Only files whose bytes mention the UID are parsed.
        """
        preferred = self.path / uid_filename(uid)
        if preferred.is_file():
            try:
                data = self._load(preferred)
            except FileNotFoundError:
                data = None
            except (OSError, ValueError):
                data = b""
            if data is not None:
                version = content_version(data)
                try:
                    observed = self._observe_whole(data, str(preferred))
                except ValueError:
                    # Unreadable under our own name (not torn by us: writes are atomic): ours
                    # to replace, on condition that it is still what the pass read.
                    return preferred, None, version
                if observed is None:
                    return preferred, None, version
                if observed.uid == uid:
                    return preferred, observed, version
                # Our file name, someone else's object: never overwrite it.
                raise CalendarError(
                    f"{preferred} holds another object (UID {observed.uid}) where the "
                    f"product's {uid} belongs; it was left alone."
                )
        needle = uid.encode("utf-8", "replace")
        for file in self._files():
            try:
                data = self._load(file)
                if needle not in data:
                    continue
                observed = self._observe_whole(data, file)
            except (OSError, ValueError):
                continue
            if observed is not None and observed.uid == uid:
                return Path(file), observed, content_version(data)
        return None

    def _observe_whole(self, data: bytes, file: str) -> ObservedSeries | None:
        """``observe_memoised``, but an object the memo keeps as busy time alone is parsed
        again and observed whole: an object of the UID looked for, or under the product's
        file name, is never taken for nothing (and then overwritten or passed over)."""
        observed = observe_memoised(_MEMO, data, file, self.default_zone)
        if observed is not None:
            return observed
        return _observed(
            Lazy(partial(ical.parse_object, data, file)),
            file,
            self.default_zone,
            content_version(data),
            whole=True,
        )

    def write_many(self, jobs: Sequence[WriteJob]) -> list[Written | CalendarError]:
        """Each job written in turn (a folder has no batches); each one's outcome."""
        outcomes: list[Written | CalendarError] = []
        for job in jobs:
            try:
                outcomes.append(self._write(job))
            except CalendarError as error:
                outcomes.append(error)
        return outcomes

    def _write(self, job: WriteJob) -> Written:
        """Write ``job.spec`` as the owner's copy if the file is still at ``job.expect``.

        The stored copy is current when its ``X-ONEONONE-HASH`` is ``fingerprint(spec)`` and its
        SEQUENCE is ``spec.sequence``: then nothing is written. Writes ``<uid>.ics``, or
        rewrites in place the file that already holds the UID (an adopted event another client
        named); never a file that holds another UID.

        The check and the rename are two steps: a client writing in between (a window of
        microseconds) still loses its write, as with every file-based calendar (vdirsyncer's
        filesystem storage has the same window); every slower edit is kept.
        """
        spec = job.spec
        self._ensure_folder()
        digest = job.digest()
        found = self._find(spec.uid)
        version = found[2] if found is not None else None
        current: ObservedSeries | None = None
        if version != job.expect:
            raise ConflictError(_conflict(spec.uid, self.where, found is not None, job.expect))
        if found is not None:
            target, current, _ = found
            if (
                current is not None
                and current.fingerprint == digest
                and current.sequence == spec.sequence
            ):
                return Written(changed=False, version=version)
        else:
            target = self.path / uid_filename(spec.uid)
        try:
            data = ical.render(spec, job.dtstamp, digest=digest)
        except ValueError as exc:
            raise CalendarError(
                f"Cannot write {spec.uid} to the {self.where}: {_sentence(str(exc))}"
            ) from exc
        self._atomic_write(target, data)
        content = hashlib.sha256(data).digest()
        href = str(target)
        if current is not None and current.href == href:
            href = current.href  # the text the memo holds already, not one more per write
        written = ical.observed_written(spec, job.dtstamp, href, digest, current)
        if written is not None:
            # What the file now holds is known: the next pass's read finds these bytes in the
            # memo instead of parsing them (a weekly pass rewrites every series).
            remember_observed(_MEMO, data, href, self.default_zone, content, written)
        return Written(changed=True, version=content.hex())

    def _atomic_write(self, target: Path, data: bytes) -> None:
        try:
            write_atomically(target, data, keep_mode=True)
        except OSError as exc:
            raise CalendarError(
                f"Cannot write {target.name} in the {self.where}: {_os_reason(exc)}."
            ) from exc

    def delete(self, uid: str, owner: Person, *, expect: str) -> bool:
        """Remove the product-owned object ``uid`` if still at version ``expect``; ``False``
        when there is none. Refuses (``CalendarError``) to remove an object the product does
        not own, and (``ConflictError``) one that changed since it was read."""
        if not self.path.is_dir():
            raise CalendarError(f"The {self.where} does not exist or is not a folder.")
        found = self._find(uid)
        if found is None:
            return False
        target, current, version = found
        if current is None or not _is_owned(current):
            raise CalendarError(
                f"{target} holds {uid} but the product does not own it; it was left alone."
            )
        if version != expect:
            raise ConflictError(_conflict(uid, self.where, True, expect))
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
    """What reading an object gave, kept between passes: a daemon polling every few minutes reads
    the same objects again and again, and parsing iCalendar is most of a pass's time.

    One entry per *slot* (what is kept: its kind, the object's href, whose reading), holding the
    *inputs* it was made from (the object's content digest or etags, the read window): an entry
    whose inputs changed is replaced, never kept beside the new one, so a rewritten file leaves
    no stale parse behind and a warm pass finds every object it read last time. Keyed by
    content, not file times, so an edit within the file system's timestamp resolution is never
    missed (a file's status stands for a digest only when that digest was read two seconds or
    more after the file last changed: ``_take_unchanged``). Parse trees are not kept (they weigh
    many times their text): only what was taken from them. Bounded by weight (the object's size
    in bytes, a proxy for what its entry holds), least recently used out first. A result that
    raised ``ValueError`` is remembered as that error, so a broken file costs one parse, not one
    per pass. Results are treated as read-only by every caller.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.weight = 0
        self._items: OrderedDict[tuple[object, ...], tuple[object, int, bool, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(
        self,
        slot: tuple[object, ...],
        inputs: object,
        weight: int,
        make: Callable[..., T],
        *args: Any,
    ) -> T:
        found = self._items.get(slot)
        if found is not None and found[0] == inputs:
            self._items.move_to_end(slot)
            _, _, ok, value = found
        else:
            try:
                ok, value = True, make(*args)
            except ValueError as exc:
                ok, value = False, str(exc)
            if found is not None:
                self.weight -= found[1]
            self._items[slot] = (inputs, weight, ok, value)
            self._items.move_to_end(slot)
            self.weight += weight
            while self.weight > self.max_bytes and len(self._items) > 1:
                _, (_, dropped, _, _) = self._items.popitem(last=False)
                self.weight -= dropped
        if not ok:
            raise ValueError(value)
        return cast(T, value)

    def holds(self, slot: tuple[object, ...], inputs: object) -> bool:
        """Whether ``get(slot, inputs, ...)`` would find its value kept (made without error)."""
        found = self._items.get(slot)
        return found is not None and found[0] == inputs and found[2]

    def discard(self, slot: tuple[object, ...]) -> None:
        """Forget ``slot``'s entry, if any: one no read will ask for again."""
        found = self._items.pop(slot, None)
        if found is not None:
            self.weight -= found[1]

    def peek(self, slot: tuple[object, ...], inputs: object) -> Any:
        """The value kept for ``slot`` made from ``inputs``, or ``None``."""
        found = self._items.get(slot)
        if found is None or found[0] != inputs or not found[2]:
            return None
        self._items.move_to_end(slot)
        return found[3]


class Lazy(Generic[T]):
    """A value made on first use, at most once (a parse that only a memo miss needs)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make: Callable[[], T] | None = make
        self._value: T | None = None

    @property
    def made(self) -> bool:
        return self._make is None

    def __call__(self) -> T:
        if self._make is not None:
            self._value, self._make = self._make(), None
        return cast(T, self._value)


def event_weight(master: Mapping[str, Any], others: Sequence[Mapping[str, Any]]) -> int:
    """What a memo entry of an event read as JSON (Google, Microsoft 365) weighs, roughly:
    the size of its fields as text, and a little for each exception or instance with it."""
    return 512 * (1 + len(others)) + sum(len(str(value)) for value in master.values())


#: What the readers' memos may hold, as the bytes of the objects behind them: enough for every
#: object of a 10,000-pair org's calendars (series files are a few kB each).
MEMO_BYTES = 256 * 1024 * 1024

_MEMO = Memo(MEMO_BYTES)


def _conflict(uid: str, where: str, exists: bool, expected: str | None) -> str:
    if expected is None:
        what = "appeared"
    elif exists:
        what = "changed"
    else:
        what = "was removed"
    return (
        f"{uid} in the {where} {what} since this pass read it (a person or a client at work); "
        "it was left as it is and is read again next pass."
    )


def take_object(
    result: CalendarRead,
    memo: Memo,
    data: bytes,
    href: str,
    version: str | None,
    person: Person,
    window: tuple[datetime, datetime],
    zone: ZoneInfo,
    default_zone: ZoneInfo,
    digest: bytes | None = None,
) -> None:
    """Fold one calendar object into ``result``, the same way for every provider that reads
    iCalendar objects (vdir, CalDAV): a product-owned series (with ``version``, default the
    SHA-256 of ``data``), an event that could be adopted, a single meeting, busy time. What
    it gave is memoised in ``memo`` (parsed only on a miss). Raises ``ValueError`` for an
    unreadable object, or one of the product's own that holds no readable series. A known
    ``digest`` (``_take_unchanged``) is taken as that of ``data``."""
    start, end = window
    digest = digest if digest is not None else hashlib.sha256(data).digest()
    calendars = Lazy(lambda: ical.parse_object(data, href))
    observed = observe_memoised(memo, data, href, default_zone, digest, calendars)
    wanted = version or digest.hex()
    if observed is not None and observed.version != wanted:
        observed = replace(observed, version=wanted)  # a CalDAV etag
    if observed is not None and _is_owned(observed):
        held = result.owned.get(observed.uid)
        if held is None:
            result.owned[observed.uid] = observed
            return
        # Two objects hold one product UID (a client or a sync made a stray copy): the
        # product's own, ``<uid>.ics``, wins; the other is named.
        own_name = uid_filename(observed.uid)
        if PurePosixPath(href).name == own_name and PurePosixPath(held.href).name != own_name:
            held, observed = observed, held
            result.owned[held.uid] = held
        result.problems.append(
            f"{observed.href}: holds UID {observed.uid} which {held.href} holds "
            f"too; {PurePosixPath(held.href).name} is used and this copy is left alone."
        )
        return
    busy, out_days = _NO_BUSY
    if not _out_of_reach(memo, href, digest, person, zone, window):
        busy, out_days = memo.get(
            ("busy", href, person.email, zone.key),
            (digest, start, end),
            len(data),
            lambda: _compact(
                *ical.busy_from_parsed(calendars(), href, person.email, start, end, zone)
            ),
        )
        if calendars.made:  # parsed for this window: keep how far its busy time reaches
            memo.get(("reach", href), digest, 64, lambda: ical.reach_from_parsed(calendars()) or ())
    if observed is not None and is_candidate(observed):
        result.weekly_candidates.append(observed)
        result.candidate_busy.setdefault(observed.uid, []).extend(busy)
        result.out_days.update(out_days)
        return
    if observed is not None and is_single_meeting(observed):
        result.single_meetings.append(observed)
    result.busy.extend(busy)
    result.out_days.update(out_days)


#: The out-of-office days of an object that has none (most): one set for all of them.
_NO_DAYS: frozenset[date] = frozenset()
_NO_BUSY: tuple[tuple[tuple[datetime, datetime], ...], frozenset[date]] = ((), _NO_DAYS)


def _out_of_reach(
    memo: Memo,
    href: str,
    digest: bytes,
    person: Person,
    zone: ZoneInfo,
    window: tuple[datetime, datetime],
) -> bool:
    """Whether ``memo`` knows these bytes hold no busy time in ``window`` because every
    instance lies outside it (``ical.reach_from_parsed``); the entry of their busy time in an
    earlier window is dropped then, as no read asks for it again. The file of every meeting
    already over stays in a calendar for years: it is parsed once, not every week."""
    reach = memo.peek(("reach", href), digest)
    start, end = window
    if not reach or (reach[1] > start.timestamp() and reach[0] < end.timestamp()):
        return False
    memo.discard(("busy", href, person.email, zone.key))
    return True


def _compact(
    busy: list[tuple[datetime, datetime]], out_days: set[date]
) -> tuple[tuple[tuple[datetime, datetime], ...], frozenset[date]]:
    """Busy time as the memo keeps it: a tuple has no spare room, and an empty set weighs 216
    bytes (a tenth of what the memo kept of a person's meeting, issue 17)."""
    return tuple(busy), frozenset(out_days) if out_days else _NO_DAYS


#: A file whose status changed this recently may change again without its times showing it
#: (file times move in coarse ticks): its digest is not taken from its times (git's "racy"
#: rule).
RACY_SECONDS = 2.0


def _signature(status: os.stat_result) -> bytes:
    """The status a digest is kept under, packed: 65 bytes where a tuple of four large
    integers took 190, for every file of every calendar (issue 17)."""
    return _STATUS.pack(status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


_STATUS = struct.Struct("<QQqq")


def _remember_unchanged(file: str, status: os.stat_result, digest: bytes) -> None:
    """Keep the digest of the file's bytes under its status as it was before they were read,
    unless that status is too recent to vouch for the content (``RACY_SECONDS``). A change
    after that read moves the status on (its ctime, which no client can set back), so an
    entry is never found for other content."""
    if status.st_ctime_ns / 1e9 > time.time() - RACY_SECONDS:
        return
    _MEMO.get(("status", file), _signature(status), 64, lambda: digest)


def _take_unchanged(
    result: CalendarRead,
    file: str,
    status: os.stat_result,
    person: Person,
    window: tuple[datetime, datetime],
    zone: ZoneInfo,
    default_zone: ZoneInfo,
) -> bool:
    """Fold a file into ``result`` without reading it, when its ``status`` (inode, size,
    times) is the one its kept digest was read under and everything ``take_object`` would
    give for that digest is memoised; False (nothing done) otherwise. A steady pass reads
    thousands of files that no one touched, and hashing every byte of them grew with their
    history."""
    signature = _signature(status)
    over = _MEMO.peek(("past", file, default_zone.key), signature)
    if over is not None and over <= window[0].timestamp():
        return True  # busy time alone, all of it over before the window: nothing to take
    digest: bytes | None = _MEMO.peek(("status", file), signature)
    if digest is None:
        return False
    observing = ("observe", file, default_zone.key)
    if not _MEMO.holds(observing, digest):
        return False
    observed = _MEMO.peek(observing, digest)
    owned = observed is not None and _is_owned(observed)  # no busy time taken from it
    if (
        not owned
        and not _MEMO.holds(("busy", file, person.email, zone.key), (digest, *window))
        and not _out_of_reach(_MEMO, file, digest, person, zone, window)
    ):
        return False
    take_object(result, _MEMO, b"", file, None, person, window, zone, default_zone, digest)
    if observed is None:
        _settle_past(file, signature, digest, window, default_zone)
    return True


def _settle_past(
    file: str,
    signature: bytes,
    digest: bytes,
    window: tuple[datetime, datetime],
    default_zone: ZoneInfo,
) -> None:
    """Keep a file of busy time alone whose every instance is over before ``window`` (a
    past meeting's) as one small entry, when it ends, under its status: the window only
    moves on, so no read needs more of it until it changes. Its status, observation and
    reach were three entries, and a calendar keeps every meeting it ever had: they grew the
    memo by a kilobyte for every meeting booked (issue 17)."""
    reach = _MEMO.peek(("reach", file), digest)
    if not reach or reach[1] > window[0].timestamp():
        return
    _MEMO.get(("past", file, default_zone.key), signature, 64, lambda: reach[1])
    for slot in (("status", file), ("observe", file, default_zone.key), ("reach", file)):
        _MEMO.discard(slot)


def observe_memoised(
    memo: Memo,
    data: bytes,
    href: str,
    default_zone: ZoneInfo,
    digest: bytes | None = None,
    calendars: Callable[[], list[Calendar]] | None = None,
) -> ObservedSeries | None:
    """The series the object ``data`` at ``href`` holds (see ``_observed``), from ``memo``
    when these very bytes were observed before: a write checks the file a read of the same
    pass has just observed, and parses it again only if it changed since. Its ``version``
    is the bytes' SHA-256 (a vdir object's version), kept with it: copying the series to set
    it was a twentieth of a steady pass."""
    digest = digest if digest is not None else hashlib.sha256(data).digest()
    return memo.get(
        ("observe", href, default_zone.key),
        digest,
        len(data),
        _observed,
        calendars or Lazy(lambda: ical.parse_object(data, href)),
        href,
        default_zone,
        digest.hex(),
    )


def remember_observed(
    memo: Memo,
    data: bytes,
    href: str,
    default_zone: ZoneInfo,
    digest: bytes,
    observed: ObservedSeries,
) -> None:
    """Keep ``observed`` in ``memo`` as what ``observe_memoised`` gives for ``data`` (whose
    SHA-256 is ``digest``) at ``href``: an object the product has just written, known without
    parsing it (``ical.observed_written``)."""
    versioned = replace(observed, version=digest.hex())
    memo.get(("observe", href, default_zone.key), digest, len(data), lambda: versioned)


def _observed(
    calendars: Callable[[], list[Calendar]],
    href: str,
    default_zone: ZoneInfo,
    version: str,
    *,
    whole: bool = False,
) -> ObservedSeries | None:
    """The series an object holds, if any, with ``version``; unless ``whole``, ``None`` for
    one that is busy time alone to a read (not the product's, not a weekly or one-off meeting
    of two people). Unreadable: a ``ValueError`` when the object is the product's own (a
    problem); someone else's may still hold readable busy time, even when it is no series
    that could be adopted."""
    parsed = calendars()
    try:
        found = ical.observe_parsed(parsed, href, default_zone)
    except ValueError:
        if ical.is_product_object(parsed):
            raise
        return None
    if found is None:
        return None
    if not whole and not (_is_owned(found) or is_candidate(found) or is_single_meeting(found)):
        # Busy time alone (``take_object`` uses nothing else of it): the memo keeps ``None``,
        # not the series, which weighed about a fifth of what it keeps.
        return None
    return replace(found, version=version)


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
