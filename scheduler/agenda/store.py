"""Where agenda documents live: the ``AgendaStore`` protocol and the Markdown-folder store.

I/O: the stores do file (or, for Google Drive, network) I/O; the protocol is what the pass talks
to, so the pass never sees a path or an API.

The vocabulary, small on purpose (like a vdirsyncer storage): a document has a ``key`` (which
pair and which day it is for: the store finds a document by it), a ``ref`` (the store's own
handle, opaque to everyone else: a relative path here, a Drive file id there) and a ``url`` (what
people open, attached to the event). The contract every store keeps:

- ``find(key)``: the document for ``key`` if there is one, else ``None``. Never writes.
- ``create(key, title, text, people)``: writes the document for ``key`` and returns it, unless
  one exists already: then that one is returned untouched. A store never overwrites a document,
  since people edit them and the product only adds; this is also what makes a retry after a
  crash safe (the pass records a document before creating it, and creates again only what it
  recorded and cannot find). ``people`` are the e-mail addresses that must be able to edit it
  (a Drive store shares it with them as writers; a folder has nothing to share).
- ``read(ref)``: the document's text now, or ``None`` when it is gone (deleted by people).
- ``bulk``: ``None``, or what creates the documents of many stores at once (``create_many``,
  the same contract as ``create`` for each): stores whose ``bulk`` is equal go together
  (``create_all``), so that a store behind a remote API (Drive) spends few requests on them.

Every failure is an ``AgendaStoreError`` whose message is one sentence naming the document and
what went wrong; ``transient`` says whether trying again later may work.

Which store a pair's agendas go to is ``scheduler.agenda.publish.agenda_store``'s choice, so
that this module, which every store imports, imports none of them.

Exports: AgendaKey, AgendaDoc, AgendaStore, AgendaStoreError, MarkdownFolderStore,
DatabaseAgendaStore, AgendaTexts, NewDoc, BulkCreator, create_all, MAX_AGENDA_BYTES.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from scheduler.errors import OneononeError
from scheduler.store.files import private_folder, sync_folder, temp_copy

__all__ = [
    "MAX_AGENDA_BYTES",
    "AgendaDoc",
    "AgendaKey",
    "AgendaStore",
    "AgendaStoreError",
    "AgendaTexts",
    "BulkCreator",
    "DatabaseAgendaStore",
    "MarkdownFolderStore",
    "NewDoc",
    "create_all",
]

#: An agenda is a page of notes; a larger document is not read (the server has the same limit).
MAX_AGENDA_BYTES = 1024 * 1024


class AgendaStoreError(OneononeError):
    """An agenda document could not be written or read; the message names it."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class AgendaKey:
    """Which document: a pair's session on one day (in the organizer's time zone)."""

    manager: str
    rep: str
    day: date

    @property
    def name(self) -> str:
        """``manager/rep/YYYY-MM-DD``, lower case: the key as one string (a Drive store keeps
        it in the file's ``appProperties`` to find it again)."""
        return f"{self.manager.lower()}/{self.rep.lower()}/{self.day.isoformat()}"


@dataclass(frozen=True, slots=True)
class AgendaDoc:
    """A document in a store: the address people open and the store's own handle."""

    url: str
    ref: str


@dataclass(frozen=True, slots=True)
class NewDoc:
    """A document to create: ``create``'s arguments as one value."""

    key: AgendaKey
    title: str
    text: str
    people: tuple[str, ...]


class AgendaStore(Protocol):
    """Where agenda documents are kept (see the module docstring for the contract)."""

    #: a few words for messages: "agenda folder data/agendas", "Google Drive"
    where: str

    @property
    def bulk(self) -> BulkCreator | None: ...

    def find(self, key: AgendaKey) -> AgendaDoc | None: ...

    def create(self, key: AgendaKey, title: str, text: str, people: Sequence[str]) -> AgendaDoc: ...

    def read(self, ref: str) -> str | None: ...


class BulkCreator(Protocol):
    """Creates the documents of several stores together (equal ones for the same stores)."""

    def __hash__(self) -> int: ...

    def create_many(
        self, docs: Sequence[tuple[AgendaStore, NewDoc]]
    ) -> list[AgendaDoc | AgendaStoreError]: ...


def create_all(docs: Sequence[tuple[AgendaStore, NewDoc]]) -> list[AgendaDoc | AgendaStoreError]:
    """``store.create`` of each (store, document), those of stores with an equal ``bulk``
    together; each outcome in order (a failure fails its own document only)."""
    out: list[AgendaDoc | AgendaStoreError | None] = [None] * len(docs)
    groups: dict[BulkCreator, list[int]] = {}
    for index, (store, doc) in enumerate(docs):
        bulk = store.bulk
        if bulk is not None:
            groups.setdefault(bulk, []).append(index)
            continue
        try:
            out[index] = store.create(doc.key, doc.title, doc.text, doc.people)
        except AgendaStoreError as error:
            out[index] = error
    for bulk, indexes in groups.items():
        made = bulk.create_many([docs[index] for index in indexes])
        for index, outcome in zip(indexes, made, strict=True):
            out[index] = outcome
    return [o if o is not None else AgendaStoreError("not created") for o in out]


class MarkdownFolderStore:
    """Agendas as Markdown files ``<root>/<manager>/<rep>/<YYYY-MM-DD>.md`` (vdir and other
    calendars that are not Google's). ``url_for(path)`` gives a file's address (the feed
    server's agenda page, ``scheduler.feeds.agenda_url``). ``ref`` is the path relative to
    ``root``, written with ``/``."""

    def __init__(self, root: Path, url_for: Callable[[Path], str]) -> None:
        self.root = Path(root)
        self.url_for = url_for
        self.where = f"agenda folder {self.root}"

    @property
    def bulk(self) -> BulkCreator | None:
        return None  # a file each: nothing to gain together

    def _path(self, key: AgendaKey) -> Path:
        return self.root / key.manager.lower() / key.rep.lower() / f"{key.day.isoformat()}.md"

    def _doc(self, path: Path) -> AgendaDoc:
        try:
            url = self.url_for(path)
        except ValueError as error:
            raise AgendaStoreError(
                f"{path} cannot be served as an agenda page ({error})", transient=False
            ) from error
        return AgendaDoc(url=url, ref=path.relative_to(self.root).as_posix())

    def find(self, key: AgendaKey) -> AgendaDoc | None:
        path = self._path(key)
        return self._doc(path) if path.exists() else None

    def create(self, key: AgendaKey, title: str, text: str, people: Sequence[str]) -> AgendaDoc:
        """Write the file unless it exists; never replace one (see the module docstring).

        The text goes to a temp file first, fsynced, then is hard-linked to its name: a link
        fails when the name exists, so even a file that appears between the check and the
        write is kept, and a reader never sees half a document. On a file system without hard
        links the file is created exclusively instead (``O_EXCL``)."""
        path = self._path(key)
        data = text.encode("utf-8")
        try:
            private_folder(path.parent, up_to=self.root)
            if not path.exists():
                self._write_new(path, data)
        except OSError as error:
            raise AgendaStoreError(
                f"cannot write the agenda {path}: {error.strerror or error}"
            ) from error
        return self._doc(path)

    @staticmethod
    def _write_new(path: Path, data: bytes) -> None:
        with temp_copy(path.parent, data) as temp:
            try:
                os.link(temp, path)
            except FileExistsError:
                return  # someone wrote it meanwhile: theirs stays
            except OSError as error:
                if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                    raise
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as handle:
                        handle.write(data)
                        handle.flush()
                        os.fsync(handle.fileno())
                except FileExistsError:
                    return
        # The temp file is gone (temp_copy removes it); the link stays.
        sync_folder(path.parent)

    def read(self, ref: str) -> str | None:
        root = self.root.resolve()
        path = (root / ref).resolve()
        if not path.is_relative_to(root) or path.suffix != ".md":
            raise AgendaStoreError(f"{ref} is not an agenda file under {root}", transient=False)
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_AGENDA_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise AgendaStoreError(
                f"cannot read the agenda {path}: {error.strerror or error}"
            ) from error
        if len(data) > MAX_AGENDA_BYTES:
            raise AgendaStoreError(
                f"the agenda {path} is larger than {MAX_AGENDA_BYTES // 1024} KiB, so it is not "
                "read back; shorten it",
                transient=False,
            )
        # An editor may save in another encoding; a stray byte must not lose the whole list.
        return data.decode("utf-8", errors="replace")


class AgendaTexts(Protocol):
    """What ``DatabaseAgendaStore`` needs of the ledger (``scheduler.store.ledger.Ledger``)."""

    def agenda_text(self, ref: str) -> str | None: ...

    def create_agenda_text(self, ref: str, pair_key: str, body: str, now: datetime) -> bool: ...


class DatabaseAgendaStore:
    """Agendas kept in the ledger's database (table ``agenda_texts``), for every calendar but
    Google's when the ledger is shared by several replicas: any replica then serves any agenda
    page. ``ref`` is ``<manager>/<rep>/<YYYY-MM-DD>.md``, as in the folder store, so the
    address (``url_for``) and the read-back are the same wherever a document lives. Writes go
    through the ledger, so a replica that lost the pass lease writes none."""

    def __init__(
        self, texts: AgendaTexts, url_for: Callable[[AgendaKey], str], now: datetime
    ) -> None:
        self.texts = texts
        self.url_for = url_for
        self.now = now
        self.where = "the ledger's database"

    @property
    def bulk(self) -> BulkCreator | None:
        return None

    @staticmethod
    def ref_of(key: AgendaKey) -> str:
        return f"{key.manager.lower()}/{key.rep.lower()}/{key.day.isoformat()}.md"

    def _doc(self, key: AgendaKey) -> AgendaDoc:
        try:
            url = self.url_for(key)
        except ValueError as error:
            raise AgendaStoreError(
                f"the agenda {self.ref_of(key)} cannot be served ({error})", transient=False
            ) from error
        return AgendaDoc(url=url, ref=self.ref_of(key))

    def find(self, key: AgendaKey) -> AgendaDoc | None:
        return self._doc(key) if self.texts.agenda_text(self.ref_of(key)) is not None else None

    def create(self, key: AgendaKey, title: str, text: str, people: Sequence[str]) -> AgendaDoc:
        """Keep ``text`` unless the document exists (never replaced: people edit it)."""
        if len(text.encode("utf-8")) > MAX_AGENDA_BYTES:
            raise AgendaStoreError(
                f"the agenda {self.ref_of(key)} is larger than {MAX_AGENDA_BYTES // 1024} KiB",
                transient=False,
            )
        pair_key = f"{key.manager.lower()}/{key.rep.lower()}"
        self.texts.create_agenda_text(self.ref_of(key), pair_key, text, self.now)
        return self._doc(key)

    def read(self, ref: str) -> str | None:
        return self.texts.agenda_text(ref)
