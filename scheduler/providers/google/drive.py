"""Agendas as Google Docs in the organizer's Drive (the ``AgendaStore`` of Google pairs).

- **Created** with ``files.create`` from the rendered Markdown, converted to a Google Doc
  (``mimeType: application/vnd.google-apps.document``; Drive imports ``text/markdown``), owned by
  the manager (we act as them), with ``drive.file`` only: the app sees the files it created and
  nothing else of anyone's Drive.
- **Found again** by ``appProperties.oneonone_agenda = <manager>/<rep>/<date>`` (``files.list``
  with ``q = "appProperties has { key='oneonone_agenda' and value='...' }"``). ``create`` looks
  first, so a pass that died after creating a document and before recording or attaching it
  finds that one instead of making a second.
- **Shared** with both people as writers (``permissions.create``, role ``writer``, no extra
  e-mail: the calendar invitation already links it); sharing is checked again on every
  ``create``, so a crash between creating and sharing is mended by the next pass.
- **Read back** with ``files.export`` as ``text/markdown`` (so ``- [ ]``/``- [x]`` survive);
  a document people deleted or trashed reads as ``None``.
- **In bulk** (``DriveBulk.create_many``, what a pass uses): the looks of a whole org are
  ``files.list`` requests of up to ``KEYS_PER_LIST`` keys each (``or``), one per manager and
  chunk, sent together in batches of 100 (each part acting as its manager); the documents are
  created one request each, since Drive takes no uploads in a batch ("You cannot use a media
  upload object in a batch request", the client library's batch guide); the rep's
  ``permissions.create`` of every new document then go in batches of 100. A document just
  created has no permission but its owner's, so only the documents found are listed first. A
  part that fails for good (after the client's retries) fails its own document only, which
  the pass leaves recorded as pending and the next pass creates, finding it first.

Exports: ``DriveAgendaStore``, ``DriveBulk``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from googleapiclient.http import MediaInMemoryUpload

from scheduler.agenda.store import (
    MAX_AGENDA_BYTES,
    AgendaDoc,
    AgendaKey,
    AgendaStore,
    AgendaStoreError,
    NewDoc,
)
from scheduler.errors import CalendarError, TransientError
from scheduler.providers.google.client import (
    BatchPart,
    GoneError,
    GoogleCall,
    GoogleClient,
    NotFoundError,
)

__all__ = ["DriveAgendaStore", "DriveBulk"]

DOC_MIME = "application/vnd.google-apps.document"
APP_PROPERTY = "oneonone_agenda"
CREATE_ATTEMPTS = 4
#: keys looked for by one ``files.list`` (``or``-ed clauses of about 110 characters each)
KEYS_PER_LIST = 20
WRITER_ROLES = ("writer", "owner", "organizer", "fileOrganizer")


def _error(error: CalendarError) -> AgendaStoreError:
    """A Google error as the agenda store's (``transient`` when trying again may work)."""
    return AgendaStoreError(str(error), transient=isinstance(error, TransientError))


def _has(name: str) -> str:
    quoted = name.replace("\\", "\\\\").replace("'", "\\'")
    return f"appProperties has {{ key='{APP_PROPERTY}' and value='{quoted}' }}"


def _doc(found: Mapping[str, Any]) -> AgendaDoc:
    return AgendaDoc(url=str(found.get("webViewLink") or _link(found["id"])), ref=found["id"])


def _first(files: Sequence[Mapping[str, Any]]) -> AgendaDoc | None:
    """The document of a key among the files that carry it: the lowest id, always the same."""
    if not files:
        return None
    return _doc(sorted(files, key=lambda f: str(f.get("id")))[0])


class DriveAgendaStore:
    """``owner``'s Drive (the pair's manager), through ``client``."""

    def __init__(self, client: GoogleClient, owner: str) -> None:
        self.client = client
        self.owner = owner.lower()
        self.where = f"Google Drive of {self.owner}"

    def _run(
        self,
        method: str,
        request: object,
        what: str,
        *,
        missing_ok: bool = False,
        retry: bool = True,
    ) -> object:
        try:
            return self.client.execute(
                self.owner, GoogleCall(method, request), what=what, retry=retry
            )
        except (GoneError, NotFoundError) as error:
            if missing_ok:
                raise
            raise AgendaStoreError(str(error), transient=False) from error
        except TransientError as error:
            raise AgendaStoreError(str(error), transient=True) from error
        except CalendarError as error:
            raise AgendaStoreError(str(error), transient=False) from error

    @property
    def bulk(self) -> DriveBulk:
        """What creates the documents of every Drive store on this client together."""
        return DriveBulk(self.client)

    def find(self, key: AgendaKey) -> AgendaDoc | None:
        query = f"{_has(key.name)} and trashed = false"
        answer = self._run(
            "drive.files.list",
            self.client.drive()
            .files()
            .list(q=query, spaces="drive", fields="files(id, webViewLink)", pageSize=10),
            f"the agenda {key.name} in the {self.where}",
        )
        files = answer.get("files") if isinstance(answer, dict) else None
        return _first(files or [])

    def create(self, key: AgendaKey, title: str, text: str, people: Sequence[str]) -> AgendaDoc:
        data = _data(key, text)
        found = self.find(key)
        if found is None:
            found = self._make(key, title, data)
        self._share(found.ref, self._others(people), key)
        return found

    def _others(self, people: Sequence[str]) -> list[str]:
        return [p for p in people if p.lower() != self.owner]

    def _make(self, key: AgendaKey, title: str, data: bytes) -> AgendaDoc:
        """Create the document of ``key``, looked for and not found."""
        for attempt in range(CREATE_ATTEMPTS):
            # Not retried blindly: a create that failed with a server error may still have
            # made the file, so look again before each new try.
            try:
                return self._create(key, title, data)
            except AgendaStoreError as error:
                if not error.transient or attempt + 1 == CREATE_ATTEMPTS:
                    raise
                self.client.backoff(attempt)
                found = self.find(key)
                if found is not None:
                    return found
        raise AssertionError("unreachable")  # pragma: no cover

    def _create(self, key: AgendaKey, title: str, data: bytes) -> AgendaDoc:
        media = MediaInMemoryUpload(data, mimetype="text/markdown", resumable=False)
        answer = self._run(
            "drive.files.create",
            self.client.drive()
            .files()
            .create(
                body={
                    "name": title,
                    "mimeType": DOC_MIME,
                    "appProperties": {APP_PROPERTY: key.name},
                },
                media_body=media,
                fields="id, webViewLink",
            ),
            f"the agenda {key.name} in the {self.where}",
            retry=False,
        )
        assert isinstance(answer, dict)
        return _doc(answer)

    def _share(self, file_id: str, people: Sequence[str], key: AgendaKey) -> None:
        if not people:
            return
        what = f"the sharing of the agenda {key.name} in the {self.where}"
        answer = self._run(
            "drive.permissions.list",
            self.client.drive()
            .permissions()
            .list(fileId=file_id, fields="permissions(emailAddress, role)"),
            what,
        )
        have = _writers(answer)
        for email in people:
            if email.lower() in have:
                continue
            self._run("drive.permissions.create", self._grant(file_id, email), what)

    def _grant(self, file_id: str, email: str) -> Any:
        """``permissions.create`` making ``email`` a writer, telling nobody (the calendar
        invitation links the document). Sent again it changes nothing: Drive keeps one
        permission per person."""
        return (
            self.client.drive()
            .permissions()
            .create(
                fileId=file_id,
                body={"type": "user", "role": "writer", "emailAddress": email},
                sendNotificationEmail=False,
                fields="id",
            )
        )

    def _list_permissions(self, file_id: str) -> Any:
        return (
            self.client.drive()
            .permissions()
            .list(fileId=file_id, fields="permissions(emailAddress, role)")
        )

    def read(self, ref: str) -> str | None:
        try:
            data = self._run(
                "drive.files.export",
                self.client.drive().files().export(fileId=ref, mimeType="text/markdown"),
                f"the agenda document {ref} in the {self.where}",
                missing_ok=True,
            )
        except (GoneError, NotFoundError):
            return None  # deleted or trashed by people
        if isinstance(data, bytes):
            return data[:MAX_AGENDA_BYTES].decode("utf-8", "replace")
        return str(data)


def _writers(answer: object) -> set[str]:
    """The e-mail addresses that may edit, from a ``permissions.list`` answer."""
    listed = answer.get("permissions") if isinstance(answer, dict) else None
    return {
        str(p.get("emailAddress", "")).lower()
        for p in listed or []
        if isinstance(p, dict) and p.get("role") in WRITER_ROLES
    }


def _data(key: AgendaKey, text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) > MAX_AGENDA_BYTES:
        raise AgendaStoreError(f"the agenda {key.name} is too large", transient=False)
    return data


@dataclass(frozen=True, eq=True)
class DriveBulk:
    """Creates the documents of many Drive stores (many managers) of one client together;
    equal for stores on the same client, so a caller can group by it."""

    client: GoogleClient

    def create_many(
        self, docs: Sequence[tuple[AgendaStore, NewDoc]]
    ) -> list[AgendaDoc | AgendaStoreError]:
        """``DriveAgendaStore.create`` for each (store, document), in few requests (see the
        module docstring); each outcome in order."""
        out: list[AgendaDoc | AgendaStoreError | None] = [None] * len(docs)
        todo: list[tuple[int, DriveAgendaStore, NewDoc, bytes]] = []
        for index, (store, doc) in enumerate(docs):
            if not isinstance(store, DriveAgendaStore) or store.client is not self.client:
                raise TypeError("DriveBulk creates the documents of its own client's stores")
            try:
                todo.append((index, store, doc, _data(doc.key, doc.text)))
            except AgendaStoreError as error:
                out[index] = error
        found = self._find_all([(store, doc.key) for _, store, doc, _ in todo])
        grants: list[tuple[int, DriveAgendaStore, AgendaDoc, list[str]]] = []
        listed: list[tuple[int, DriveAgendaStore, AgendaDoc, list[str]]] = []
        for index, store, doc, data in todo:
            looked = found[doc.key.name]
            made: AgendaDoc | None
            if isinstance(looked, AgendaStoreError):
                out[index] = looked
                continue
            made = looked
            if made is None:
                try:
                    made = store._make(doc.key, doc.title, data)
                except AgendaStoreError as error:
                    out[index] = error
                    continue
                # Just created: its owner is its only writer.
                grants.append((index, store, made, store._others(doc.people)))
            else:
                listed.append((index, store, made, store._others(doc.people)))
            out[index] = made
        grants += self._missing(listed, out)
        self._grant_all(grants, out)
        return [o if o is not None else AgendaStoreError("not created") for o in out]

    def _find_all(
        self, keys: Sequence[tuple[DriveAgendaStore, AgendaKey]]
    ) -> dict[str, AgendaDoc | AgendaStoreError | None]:
        """The document of each key if there is one, in ``files.list`` requests of up to
        ``KEYS_PER_LIST`` keys of one manager each, batched."""
        by_owner: dict[str, tuple[DriveAgendaStore, list[AgendaKey]]] = {}
        for store, key in keys:
            by_owner.setdefault(store.owner, (store, []))[1].append(key)
        parts: list[BatchPart] = []
        chunks: dict[str, tuple[DriveAgendaStore, list[AgendaKey]]] = {}
        for owner, (store, wanted) in by_owner.items():
            names = sorted({key.name: key for key in wanted}.items())
            for start in range(0, len(names), KEYS_PER_LIST):
                chunk = [key for _, key in names[start : start + KEYS_PER_LIST]]
                clauses = " or ".join(_has(key.name) for key in chunk)
                request = (
                    self.client.drive()
                    .files()
                    .list(
                        q=f"({clauses}) and trashed = false",
                        spaces="drive",
                        fields="nextPageToken, files(id, webViewLink, appProperties)",
                        pageSize=100,
                    )
                )
                part_key = f"{owner}#{start}"
                chunks[part_key] = (store, chunk)
                what = f"the agendas in the {store.where}"
                parts.append(
                    BatchPart(part_key, owner, GoogleCall("drive.files.list", request), what)
                )
        answers = self.client.batch_parts(parts)
        out: dict[str, AgendaDoc | AgendaStoreError | None] = {}
        for part_key, (store, chunk) in chunks.items():
            answer = answers.get(part_key)
            if isinstance(answer, CalendarError) or not isinstance(answer, dict):
                error = (
                    _error(answer)
                    if isinstance(answer, CalendarError)
                    else AgendaStoreError(f"no answer for the agendas of {store.owner}")
                )
                out.update({key.name: error for key in chunk})
                continue
            files = [f for f in answer.get("files") or [] if isinstance(f, dict)]
            by_name: dict[str, list[dict[str, Any]]] = {}
            for f in files:
                name = (f.get("appProperties") or {}).get(APP_PROPERTY)
                by_name.setdefault(str(name), []).append(f)
            for key in chunk:
                if answer.get("nextPageToken"):
                    # More files than a page (copies people made?): each key on its own.
                    try:
                        out[key.name] = store.find(key)
                    except AgendaStoreError as error:
                        out[key.name] = error
                    continue
                out[key.name] = _first(by_name.get(key.name, []))
        return out

    def _missing(
        self,
        listed: Sequence[tuple[int, DriveAgendaStore, AgendaDoc, list[str]]],
        out: list[AgendaDoc | AgendaStoreError | None],
    ) -> list[tuple[int, DriveAgendaStore, AgendaDoc, list[str]]]:
        """Of documents found, which people still lack a writer's permission (one batched
        ``permissions.list`` per document with anyone to share with)."""
        parts = [
            BatchPart(
                str(index),
                store.owner,
                GoogleCall("drive.permissions.list", store._list_permissions(doc.ref)),
                f"the sharing of the agenda document {doc.ref} in the {store.where}",
            )
            for index, store, doc, people in listed
            if people
        ]
        answers = self.client.batch_parts(parts)
        missing = []
        for index, store, doc, people in listed:
            if not people:
                continue
            answer = answers.get(str(index))
            if isinstance(answer, CalendarError) or answer is None:
                out[index] = (
                    _error(answer)
                    if answer is not None
                    else AgendaStoreError(f"no answer about the sharing of {doc.ref}")
                )
                continue
            have = _writers(answer)
            missing.append((index, store, doc, [p for p in people if p.lower() not in have]))
        return missing

    def _grant_all(
        self,
        grants: Sequence[tuple[int, DriveAgendaStore, AgendaDoc, list[str]]],
        out: list[AgendaDoc | AgendaStoreError | None],
    ) -> None:
        """Make each person a writer of their document, in batches; a document whose sharing
        failed is that document's error (the next pass shares it again)."""
        parts = [
            BatchPart(
                f"{index}:{number}",
                store.owner,
                GoogleCall("drive.permissions.create", store._grant(doc.ref, email)),
                f"the sharing of the agenda document {doc.ref} in the {store.where}",
            )
            for index, store, doc, people in grants
            for number, email in enumerate(people)
        ]
        for part_key, answer in self.client.batch_parts(parts).items():
            if isinstance(answer, CalendarError):
                index = int(part_key.partition(":")[0])
                if not isinstance(out[index], AgendaStoreError):
                    out[index] = _error(answer)


def _link(file_id: str) -> str:
    return f"https://docs.google.com/document/d/{file_id}/edit"
