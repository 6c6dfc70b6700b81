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

Exports: ``DriveAgendaStore``.
"""

from __future__ import annotations

from collections.abc import Sequence

from googleapiclient.http import MediaInMemoryUpload

from scheduler.agenda.store import MAX_AGENDA_BYTES, AgendaDoc, AgendaKey, AgendaStoreError
from scheduler.errors import CalendarError, TransientError
from scheduler.providers.google.client import GoneError, GoogleCall, GoogleClient, NotFoundError

__all__ = ["DriveAgendaStore"]

DOC_MIME = "application/vnd.google-apps.document"
APP_PROPERTY = "oneonone_agenda"
CREATE_ATTEMPTS = 4


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

    def find(self, key: AgendaKey) -> AgendaDoc | None:
        name = key.name.replace("\\", "\\\\").replace("'", "\\'")
        query = (
            f"appProperties has {{ key='{APP_PROPERTY}' and value='{name}' }} and trashed = false"
        )
        answer = self._run(
            "drive.files.list",
            self.client.drive()
            .files()
            .list(q=query, spaces="drive", fields="files(id, webViewLink)", pageSize=10),
            f"the agenda {key.name} in the {self.where}",
        )
        files = answer.get("files") if isinstance(answer, dict) else None
        if not files:
            return None
        first = sorted(files, key=lambda f: str(f.get("id")))[0]
        return AgendaDoc(url=str(first.get("webViewLink") or _link(first["id"])), ref=first["id"])

    def create(self, key: AgendaKey, title: str, text: str, people: Sequence[str]) -> AgendaDoc:
        data = text.encode("utf-8")
        if len(data) > MAX_AGENDA_BYTES:
            raise AgendaStoreError(f"the agenda {key.name} is too large", transient=False)
        found = self.find(key)
        for attempt in range(CREATE_ATTEMPTS):
            if found is not None:
                break
            # Not retried blindly: a create that failed with a server error may still have
            # made the file, so look again before each new try.
            try:
                found = self._create(key, title, data)
            except AgendaStoreError as error:
                if not error.transient or attempt + 1 == CREATE_ATTEMPTS:
                    raise
                self.client.backoff(attempt)
                found = self.find(key)
        assert found is not None
        self._share(found.ref, [p for p in people if p.lower() != self.owner], key)
        return found

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
        return AgendaDoc(
            url=str(answer.get("webViewLink") or _link(answer["id"])), ref=answer["id"]
        )

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
        have = {
            str(p.get("emailAddress", "")).lower()
            for p in (answer.get("permissions") if isinstance(answer, dict) else None) or []
            if p.get("role") in ("writer", "owner", "organizer", "fileOrganizer")
        }
        for email in people:
            if email.lower() in have:
                continue
            self._run(
                "drive.permissions.create",
                self.client.drive()
                .permissions()
                .create(
                    fileId=file_id,
                    body={"type": "user", "role": "writer", "emailAddress": email},
                    sendNotificationEmail=False,
                    fields="id",
                ),
                what,
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


def _link(file_id: str) -> str:
    return f"https://docs.google.com/document/d/{file_id}/edit"
