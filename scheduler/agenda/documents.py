"""Agenda documents as the web page reads and saves them: one text, saved only on its version.

I/O: the ledger (``agenda_texts`` on a shared ledger, ``agenda_versions`` always) and, on a
single ledger, the Markdown file ``<data_dir>/agendas/<manager>/<rep>/<date>.md``: the same
places the pass writes documents to and reads them back from (``scheduler.agenda.store``), so
the read-back after the 1:1 reads what was saved in the page, whichever replica served it.

``save`` is a compare-and-swap on the version (``scheduler.agenda.editor.version_of``): the
new text replaces the document only while it still has the version the page showed; otherwise
nothing is written and the caller gets the current text to merge with. Every save is kept as
a numbered version in the ledger; the text a save replaces is kept too when the ledger has no
version of it yet (the text the product wrote, or an edit made outside the page), so every
state of the document people saw is kept.

- Database (several replicas): ``UPDATE ... WHERE text = <the text read>``, atomic in both
  SQLite and PostgreSQL.
- File (one daemon): an exclusive ``flock`` on the file while it is compared and replaced
  (the new text goes to a temp file, fsynced, renamed over it): saves from two requests are
  serialised, and the pass, which only reads existing files, sees one whole text or the other.

Exports: AgendaDocument, SaveResult, TooLarge, open_document.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scheduler.agenda.editor import version_of
from scheduler.agenda.store import MAX_AGENDA_BYTES
from scheduler.feeds import agenda_file
from scheduler.orgfile import Org
from scheduler.store.files import write_atomically
from scheduler.store.ledger import AgendaVersion, Ledger

__all__ = ["AgendaDocument", "SaveResult", "TooLarge", "open_document"]

#: Saves in this process, one at a time per file (``flock`` covers other processes).
_FILE_LOCK = threading.Lock()


class TooLarge(ValueError):
    """A text larger than an agenda may be; the message says the limit."""


@dataclass(frozen=True, slots=True)
class SaveResult:
    """``saved``: the new text is the document now (``version`` its number in the ledger);
    else ``current`` is the text someone else saved meanwhile."""

    saved: bool
    current: str
    version: int | None = None


@dataclass(frozen=True, slots=True)
class AgendaDocument:
    """One agenda document: ``ref`` is ``<manager>/<rep>/<date>.md`` (lower case)."""

    ledger: Ledger
    ref: str
    pair_key: str
    path: Path | None

    @property
    def in_database(self) -> bool:
        return self.ledger.shared and self.ledger.agenda_text(self.ref) is not None

    def read(self) -> str | None:
        """The text now, or ``None`` when there is no such document (or it is too large)."""
        if self.ledger.shared:
            kept = self.ledger.agenda_text(self.ref)
            if kept is not None:
                return kept
        if self.path is None:
            return None
        try:
            with self.path.open("rb") as handle:
                data = handle.read(MAX_AGENDA_BYTES + 1)
        except OSError:
            return None
        if len(data) > MAX_AGENDA_BYTES:
            return None
        return data.decode("utf-8", "replace")

    def versions(self) -> list[AgendaVersion]:
        """Every kept version, oldest first."""
        return self.ledger.agenda_versions(self.ref)

    def base_text(self, version: str) -> str | None:
        """The text of a kept version (what a stale page showed), if the ledger has it."""
        return self.ledger.agenda_version_text(self.ref, version)

    def save(self, expected: str, text: str, now: datetime) -> SaveResult:
        """Replace the document with ``text`` if its version is still ``expected``."""
        if len(text.encode("utf-8")) > MAX_AGENDA_BYTES:
            raise TooLarge(f"an agenda is at most {MAX_AGENDA_BYTES // 1024} KiB")
        if self.in_database:
            return self._save_in_database(expected, text, now)
        return self._save_in_file(expected, text, now)

    def _keep(self, current: str, text: str, now: datetime) -> int:
        """Record the text being replaced (if the ledger lacks it) and the new text."""
        kept = self.ledger.agenda_versions(self.ref)
        if not kept or kept[-1].text_hash != version_of(current):
            self.ledger.add_agenda_version(
                self.ref, self.pair_key, current, version_of(current), "earlier", now
            )
        return self.ledger.add_agenda_version(
            self.ref, self.pair_key, text, version_of(text), "web", now
        )

    def _save_in_database(self, expected: str, text: str, now: datetime) -> SaveResult:
        current = self.ledger.agenda_text(self.ref) or ""
        if version_of(current) != expected:
            return SaveResult(False, current)
        kept = self.ledger.agenda_versions(self.ref)
        if not kept or kept[-1].text_hash != expected:
            self.ledger.add_agenda_version(
                self.ref, self.pair_key, current, expected, "earlier", now
            )
        if not self.ledger.replace_agenda_text(self.ref, current, text, now):
            return SaveResult(False, self.ledger.agenda_text(self.ref) or "")
        number = self.ledger.add_agenda_version(
            self.ref, self.pair_key, text, version_of(text), "web", now
        )
        return SaveResult(True, text, number)

    def _save_in_file(self, expected: str, text: str, now: datetime) -> SaveResult:
        path = self.path
        if path is None:
            raise FileNotFoundError(self.ref)
        with _FILE_LOCK:
            while True:
                handle = path.open("rb")
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
                    # Replaced (renamed over) while we waited: lock the new file instead.
                    if os.fstat(handle.fileno()).st_ino != path.stat().st_ino:
                        continue
                    current = handle.read(MAX_AGENDA_BYTES + 1).decode("utf-8", "replace")
                    if version_of(current) != expected:
                        return SaveResult(False, current)
                    number = self._keep(current, text, now)
                    write_atomically(path, text.encode("utf-8"))
                    return SaveResult(True, text, number)
                finally:
                    handle.close()


def open_document(org: Org, ledger: Ledger, manager: str, rep: str, day: str) -> AgendaDocument:
    """The document of (manager, rep, day); ``read()`` says whether it exists."""
    path = agenda_file(org, manager, rep, day)
    ref = f"{manager.lower()}/{rep.lower()}/{day}.md"
    return AgendaDocument(ledger, ref, f"{manager.lower()}/{rep.lower()}", path)
