"""Drive v3: files (create with uploads, get, list with ``q``, update, export, delete) and
permissions (create, list, get, delete).

Documented behaviour emulated (pages under https://developers.google.com/workspace/drive/api/):

- **Uploads** ("Upload file data", guides/manage-uploads): ``uploadType=media`` (content only),
  ``multipart`` (metadata then content, ``multipart/related``) and ``resumable`` (a session
  URI from ``Location``, content ``PUT`` there, ``308`` until complete).  "If a file is created
  with a Google Doc MIME type, the uploaded content is imported": a ``text/plain``,
  ``text/markdown`` or ``text/html`` body sent with ``mimeType:
  application/vnd.google-apps.document`` becomes a Google Doc whose text is kept ("Import to
  Google Docs types", same page).
- **Default fields** ("Return specific fields", guides/fields-parameter): without ``fields`` a
  file answers only ``kind``, ``id``, ``name`` and ``mimeType`` (a permission ``kind``, ``id``,
  ``type``, ``role``); ``fields`` picks others (``*`` for all).
- **Search** ("Search for files and folders", guides/search-files, and "Search query terms and
  operators", guides/ref-search-terms): ``q`` with ``and``/``or``/``not``/parentheses over
  ``appProperties has { key='k' and value='v' }``, ``properties has {...}``, ``trashed``,
  ``starred``, ``name``/``mimeType``/``fullText`` (``=``, ``!=``, ``contains``),
  ``createdTime``/``modifiedTime`` comparisons and ``'x' in parents|owners|writers|readers``
  (``'me'`` standing for the caller).
  Trashed files are listed unless ``trashed = false`` says otherwise.  A query it cannot read
  answers 400 ``invalid`` "Invalid Value" at ``q``.
- **Export** ("Download and export files", guides/manage-downloads): Docs export as
  ``text/plain`` (UTF-8 with a byte order mark and CRLF line ends, as Google writes it; see
  googleapis/google-api-nodejs-client#2404), ``text/markdown`` and ``text/html``; other
  types answer 400 "The requested conversion is not supported."; exporting a file that is not
  a Docs Editors file answers 403 ``fileNotExportable``, and ``alt=media`` on a Doc answers 403
  ``fileNotDownloadable`` ("Only files with binary content can be downloaded. Use Export with
  Docs Editors files.").
- **Scopes** ("Choose Google Drive API scopes", guides/api-specific-auth): with ``drive.file``
  alone an app sees only the files it created or was given (``isAppAuthorized``); others answer
  404 "File not found: <id>." like any file the caller cannot see (guides/handle-errors, 404).
- **Sharing** ("Share files, folders, and drives", guides/manage-sharing): permissions of type
  ``user``/``group``/``domain``/``anyone`` with roles ``reader``, ``commenter``, ``writer``
  (``owner`` only with ``transferOwnership``); ``sendNotificationEmail`` defaults to true and is
  recorded in :attr:`DriveBackend.notifications`.  Only owners and writers may change a file
  (403 ``insufficientFilePermissions`` otherwise).
- ``webViewLink`` of a Doc is ``https://docs.google.com/document/d/<id>/edit?usp=drivesdk``.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import fields as fieldsel
from .errors import ApiError, bad_request, required
from .mime import parts
from .recurrence import parse_datetime, rfc3339_ms
from .wire import Call, Reply

DOC = "application/vnd.google-apps.document"
FOLDER = "application/vnd.google-apps.folder"
GOOGLE_PREFIX = "application/vnd.google-apps."
IMPORTABLE = {
    "text/plain": "plain",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
}
WIDE_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/drive",
        "https://www.googleapis.com/auth/drive.readonly",
        "https://www.googleapis.com/auth/drive.metadata",
        "https://www.googleapis.com/auth/drive.metadata.readonly",
    }
)
ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")
WRITERS = ("owner", "organizer", "fileOrganizer", "writer")
FILE_DEFAULT = fieldsel.parse("kind,id,name,mimeType,resourceKey")
PERMISSION_DEFAULT = fieldsel.parse("kind,id,type,role")


def _now() -> str:
    return rfc3339_ms(datetime.now(UTC))


def _file_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "1" + "".join(secrets.choice(alphabet) for _ in range(32))


def markdown_to_text(text: str) -> str:
    """Roughly what a Doc imported from Markdown holds as plain text."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
        line = re.sub(r"^(\s*)[-+*]\s+\[( |x|X)\]\s+", r"\1* ", line)
        line = re.sub(r"^(\s*)[-+]\s+", r"\1* ", line)
        line = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
        line = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", line)
        line = re.sub(r"`([^`]*)`", r"\1", line)
        lines.append(line)
    return "\n".join(lines)


def html_to_text(text: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", text)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)<li\b[^>]*>", "* ", text)
    text = re.sub(r"(?i)</(p|div|h[1-6]|li|tr|ul|ol)>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip("\n")


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    owner: str
    created: str
    modified: str
    parents: list[str]
    order: int
    version: int = 1
    description: str | None = None
    app_properties: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    trashed: bool = False
    starred: bool = False
    content: bytes = b""
    #: a Doc's text, and its Markdown when it was imported from Markdown
    text: str = ""
    markdown: str | None = None
    apps: set[str] = field(default_factory=set)
    #: email (or "anyone"/domain) -> permission resource
    permissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_modifier: str = ""

    @property
    def google(self) -> bool:
        return self.mime_type.startswith(GOOGLE_PREFIX)


@dataclass
class Upload:
    """A resumable upload session."""

    method_id: str
    call: Call
    metadata: dict[str, Any]
    mime_type: str
    total: int | None = None
    received: bytearray = field(default_factory=bytearray)


@dataclass
class ListPage:
    user: str
    items: list[dict[str, Any]]
    size: int


class DriveBackend:
    """Every file; each method runs under the emulator's lock."""

    def __init__(self, base_url: str, users: Callable[[], set[str]]) -> None:
        self.base_url = base_url
        self.users = users
        self.files: dict[str, DriveFile] = {}
        self.roots: dict[str, str] = {}
        self.uploads: dict[str, Upload] = {}
        self.pages: dict[str, ListPage] = {}
        #: permissions.create calls that asked Google to e-mail the new reader
        self.notifications: list[dict[str, Any]] = []
        self._order = 0

    # ------------------------------------------------------------------ access

    def root(self, user: str) -> str:
        return self.roots.setdefault(user, "0A" + secrets.token_urlsafe(16).replace("-", "x"))

    @staticmethod
    def permission_id(email: str) -> str:
        digest = hashlib.sha256(email.lower().encode()).hexdigest()
        return str(int(digest[:16], 16) % 10**20).rjust(20, "0")

    def role(self, f: DriveFile, user: str) -> str | None:
        best = None
        domain = user.rsplit("@", 1)[-1]
        for key, permission in f.permissions.items():
            if key in (user, "anyone") or key == "domain:" + domain:
                role = permission["role"]
                if best is None or ROLES.index(role) < ROLES.index(best):
                    best = role
        return best

    def _visible(self, f: DriveFile, call: Call) -> bool:
        if self.role(f, call.user) is None:
            return False
        if call.grant.scopes & WIDE_SCOPES:
            return True
        return call.grant.client_id in f.apps

    def _file(self, call: Call, *, write: bool = False) -> DriveFile:
        file_id = call.params["fileId"]
        f = self.files.get(file_id)
        if f is None or not self._visible(f, call):
            raise ApiError(404, "notFound", f"File not found: {file_id}.", location="fileId")
        if write and self.role(f, call.user) not in WRITERS:
            raise ApiError(
                403,
                "insufficientFilePermissions",
                "The user does not have sufficient permissions for this file.",
            )
        return f

    # ------------------------------------------------------------------ rendering

    def web_view_link(self, f: DriveFile) -> str:
        if f.mime_type == DOC:
            return f"https://docs.google.com/document/d/{f.id}/edit?usp=drivesdk"
        if f.mime_type == FOLDER:
            return f"https://drive.google.com/drive/folders/{f.id}"
        return f"https://drive.google.com/file/d/{f.id}/view?usp=drivesdk"

    def _permission_json(self, permission: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(permission)

    def render(self, f: DriveFile, user: str, client_id: str = "") -> dict[str, Any]:
        role = self.role(f, user)
        can_write = role in WRITERS
        owner = {
            "kind": "drive#user",
            "displayName": f.owner.split("@", 1)[0],
            "me": f.owner == user,
            "permissionId": self.permission_id(f.owner),
            "emailAddress": f.owner,
        }
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": f.id,
            "name": f.name,
            "mimeType": f.mime_type,
            "starred": f.starred,
            "trashed": f.trashed,
            "explicitlyTrashed": f.trashed,
            "parents": list(f.parents),
            "spaces": ["drive"],
            "version": str(f.version),
            "webViewLink": self.web_view_link(f),
            "iconLink": "https://drive-thirdparty.googleusercontent.com/16/type/" + f.mime_type,
            "viewedByMe": f.owner == user,
            "createdTime": f.created,
            "modifiedTime": f.modified,
            "owners": [owner],
            "lastModifyingUser": {
                "kind": "drive#user",
                "displayName": (f.last_modifier or f.owner).split("@", 1)[0],
                "me": (f.last_modifier or f.owner) == user,
                "emailAddress": f.last_modifier or f.owner,
            },
            "shared": len(f.permissions) > 1,
            "ownedByMe": f.owner == user,
            "isAppAuthorized": client_id in f.apps,
            "capabilities": {
                "canEdit": can_write,
                "canComment": role in (*WRITERS, "commenter"),
                "canShare": can_write,
                "canDelete": role == "owner",
                "canTrash": can_write,
                "canDownload": True,
                "canCopy": True,
            },
            "permissionIds": [p["id"] for p in f.permissions.values()],
        }
        if can_write:
            out["permissions"] = [self._permission_json(p) for p in f.permissions.values()]
        if f.description is not None:
            out["description"] = f.description
        if f.app_properties:
            out["appProperties"] = dict(f.app_properties)
        if f.properties:
            out["properties"] = dict(f.properties)
        if f.google:
            if f.mime_type == DOC:
                out["exportLinks"] = {
                    mt: f"https://docs.google.com/feeds/download/documents/export/Export?id={f.id}&exportFormat={ext}"
                    for mt, ext in (
                        ("text/plain", "txt"),
                        ("text/markdown", "md"),
                        ("text/html", "html"),
                    )
                }
            out["quotaBytesUsed"] = "0"
        else:
            out["size"] = str(len(f.content))
            out["md5Checksum"] = hashlib.md5(f.content).hexdigest()
            out["quotaBytesUsed"] = str(len(f.content))
        return out

    def _reply(
        self, call: Call, value: dict[str, Any], default: fieldsel.Selection | None
    ) -> Reply:
        wanted = call.q("fields")
        selection = fieldsel.parse(wanted) if wanted is not None else default
        return Reply(200, fieldsel.apply(value, selection), raw=True)

    # ------------------------------------------------------------------ content

    def _set_content(self, f: DriveFile, media: bytes | None, media_type: str | None) -> None:
        if media is None:
            return
        if f.mime_type == DOC:
            kind = IMPORTABLE.get((media_type or "text/plain").split(";")[0].strip().lower())
            if kind is None:
                raise bad_request(
                    f"Conversion of {media_type} to a Google Doc is not supported.",
                    location="mimeType",
                )
            text = media.decode("utf-8-sig", errors="replace").replace("\r\n", "\n")
            if kind == "markdown":
                f.markdown, f.text = text, markdown_to_text(text)
            elif kind == "html":
                f.markdown, f.text = None, html_to_text(text)
            else:
                f.markdown, f.text = None, text
            return
        if f.google:
            raise bad_request(f"Cannot upload content to a file of type {f.mime_type}.")
        f.content = bytes(media)

    def _metadata_and_media(self, call: Call) -> tuple[dict[str, Any], bytes | None, str | None]:
        if not call.upload:
            return call.json(), None, None
        kind = call.q("uploadType", "media")
        content_type = call.header("content-type") or "application/octet-stream"
        if kind == "media":
            return {}, call.body, content_type
        if kind == "multipart":
            found = parts(content_type, call.body)
            if len(found) != 2:
                raise bad_request("A multipart upload needs a metadata part and a media part.")
            (_, meta_body), (media_headers, media_body) = found
            try:
                metadata = json.loads(meta_body or b"{}")
            except ValueError:
                raise bad_request("Parse Error", "parseError") from None
            return (
                metadata,
                media_body,
                media_headers.get("content-type", "application/octet-stream"),
            )
        raise bad_request(f"Invalid upload type: {kind}", location="uploadType")

    # ------------------------------------------------------------------ files

    def create(
        self,
        call: Call,
        media: tuple[bytes, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Reply:
        if media is None and metadata is None:
            metadata, body, media_type = self._metadata_and_media(call)
        else:
            body, media_type = media if media is not None else (None, None)
        assert metadata is not None
        mime_type = str(
            metadata.get("mimeType") or (media_type or "application/octet-stream").split(";")[0]
        )
        stamp = _now()
        self._order += 1
        parents = metadata.get("parents") or [self.root(call.user)]
        f = DriveFile(
            id=str(metadata.get("id") or _file_id()),
            name=str(metadata.get("name") or "Untitled"),
            mime_type=mime_type,
            owner=call.user,
            created=stamp,
            modified=stamp,
            parents=[str(p) for p in parents],
            order=self._order,
            description=metadata.get("description"),
            app_properties={
                str(k): str(v)
                for k, v in (metadata.get("appProperties") or {}).items()
                if v is not None
            },
            properties={
                str(k): str(v)
                for k, v in (metadata.get("properties") or {}).items()
                if v is not None
            },
            starred=bool(metadata.get("starred", False)),
            apps={call.grant.client_id},
            last_modifier=call.user,
        )
        if f.id in self.files:
            raise ApiError(409, "duplicate", "A file already exists with the provided ID.")
        f.permissions[call.user] = {
            "kind": "drive#permission",
            "id": self.permission_id(call.user),
            "type": "user",
            "emailAddress": call.user,
            "role": "owner",
            "displayName": call.user.split("@", 1)[0],
            "deleted": False,
            "pendingOwner": False,
        }
        self._set_content(f, body, media_type)
        self.files[f.id] = f
        return self._reply(call, self.render(f, call.user, call.grant.client_id), FILE_DEFAULT)

    def get(self, call: Call) -> Reply:
        f = self._file(call)
        if call.q("alt") == "media":
            if f.google:
                raise ApiError(
                    403,
                    "fileNotDownloadable",
                    "Only files with binary content can be downloaded. Use Export with Docs "
                    "Editors files.",
                    location="alt",
                )
            return Reply(200, bytes(f.content), content_type=f.mime_type)
        return self._reply(call, self.render(f, call.user, call.grant.client_id), FILE_DEFAULT)

    def update(
        self,
        call: Call,
        media: tuple[bytes, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Reply:
        if media is None and metadata is None:
            metadata, body, media_type = self._metadata_and_media(call)
        else:
            body, media_type = media if media is not None else (None, None)
        assert metadata is not None
        f = self._file(call, write=True)
        if "mimeType" in metadata and metadata["mimeType"] != f.mime_type:
            raise ApiError(
                403,
                "fieldNotWritable",
                "The resource body includes fields which are not directly writable.",
            )
        for key in ("name", "description"):
            if key in metadata:
                setattr(f, key, metadata[key])
        if "starred" in metadata:
            f.starred = bool(metadata["starred"])
        if "trashed" in metadata:
            f.trashed = bool(metadata["trashed"])
        for key, target in (("appProperties", f.app_properties), ("properties", f.properties)):
            for name, value in (metadata.get(key) or {}).items():
                if value is None:
                    target.pop(str(name), None)
                else:
                    target[str(name)] = str(value)
        for parent in (call.q("removeParents") or "").split(","):
            if parent and parent in f.parents:
                f.parents.remove(parent)
        for parent in (call.q("addParents") or "").split(","):
            if parent and parent not in f.parents:
                f.parents.append(parent)
        self._set_content(f, body, media_type)
        f.version += 1
        f.modified = _now()
        f.last_modifier = call.user
        f.apps.add(call.grant.client_id)
        return self._reply(call, self.render(f, call.user, call.grant.client_id), FILE_DEFAULT)

    def delete(self, call: Call) -> Reply:
        f = self._file(call)
        if self.role(f, call.user) != "owner":
            raise ApiError(
                403,
                "insufficientFilePermissions",
                "The user does not have sufficient permissions for this file.",
            )
        del self.files[f.id]
        return Reply(204)

    def export(self, call: Call) -> Reply:
        f = self._file(call)
        wanted = call.q("mimeType")
        if not wanted:
            raise required("Required parameter: mimeType", "mimeType")
        if not f.google:
            raise ApiError(
                403,
                "fileNotExportable",
                "Export only supports Docs Editors files.",
                location="fileId",
            )
        if f.mime_type != DOC:
            raise bad_request("The requested conversion is not supported.", location="mimeType")
        if wanted == "text/plain":
            data = "\ufeff" + f.text.replace("\r\n", "\n").replace("\n", "\r\n")
            return Reply(200, data.encode("utf-8"), content_type="text/plain")
        if wanted in ("text/markdown", "text/x-markdown"):
            data = f.markdown if f.markdown is not None else f.text
            return Reply(200, data.encode("utf-8"), content_type="text/markdown")
        if wanted == "text/html":
            body = "".join(f"<p>{html.escape(line)}</p>" for line in f.text.split("\n"))
            head = '<meta content="text/html; charset=UTF-8" http-equiv="content-type">'
            page = f"<html><head>{head}</head><body>{body}</body></html>"
            return Reply(200, page.encode("utf-8"), content_type="text/html")
        raise bad_request("The requested conversion is not supported.", location="mimeType")

    def list_files(self, call: Call) -> Reply:
        token = call.q("pageToken")
        if token:
            page = self.pages.pop(token, None)
            if page is None or page.user != call.user:
                raise bad_request("Invalid Value", "invalid", location="pageToken")
        else:
            size = call.q_int("pageSize", 100)
            if size < 1 or size > 1000:
                raise bad_request("Invalid Value", "invalid", location="pageSize")
            query = call.q("q")
            test = Query(query, call.user).evaluate if query else (lambda f: True)
            found = [f for f in self.files.values() if self._visible(f, call) and test(f)]
            order = call.q("orderBy")
            found.sort(key=lambda f: f.order)
            for clause in reversed([c.strip() for c in (order or "").split(",") if c.strip()]):
                name, _, direction = clause.partition(" ")
                keys: dict[str, Callable[[DriveFile], Any]] = {
                    "createdTime": lambda f: f.created,
                    "modifiedTime": lambda f: f.modified,
                    "name": lambda f: f.name.lower(),
                    "name_natural": lambda f: f.name.lower(),
                }
                if name not in keys:
                    raise bad_request("Invalid Value", "invalid", location="orderBy")
                found.sort(key=keys[name], reverse=direction.strip().lower() == "desc")
            page = ListPage(
                call.user, [self.render(f, call.user, call.grant.client_id) for f in found], size
            )
        chunk, rest = page.items[: page.size], page.items[page.size :]
        answer: dict[str, Any] = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": chunk,
        }
        if rest:
            next_token = secrets.token_urlsafe(24)
            self.pages[next_token] = ListPage(page.user, rest, page.size)
            answer["nextPageToken"] = next_token
        wanted = call.q("fields")
        if wanted is None:
            selection = fieldsel.parse(
                "kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType,resourceKey)"
            )
        else:
            selection = fieldsel.parse(wanted)
        return Reply(200, fieldsel.apply(answer, selection), raw=True)

    # ------------------------------------------------------------------ uploads

    def start_resumable(self, call: Call) -> tuple[Reply, str]:
        metadata = call.json()
        upload_id = secrets.token_urlsafe(24)
        mime = call.header("x-upload-content-type") or "application/octet-stream"
        total = call.header("x-upload-content-length")
        self.uploads[upload_id] = Upload(
            call.method_id, call, metadata, mime, int(total) if total else None
        )
        path = "upload/drive/v3/files" + (
            f"/{call.params['fileId']}" if "fileId" in call.params else ""
        )
        location = f"{self.base_url}{path}?uploadType=resumable&upload_id={upload_id}"
        return Reply(200, b"", headers={"Location": location}, content_type="text/plain"), upload_id

    def resume(self, upload_id: str, headers: dict[str, str], body: bytes) -> Reply:
        session = self.uploads.get(upload_id)
        if session is None:
            raise ApiError(404, "notFound", "No such upload session.")
        content_range = headers.get("content-range", "")
        match = re.match(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)", content_range)
        if match and match.group(3) != "*":
            session.total = int(match.group(3))
        if match and match.group(1) is not None:
            first = int(match.group(1))
            del session.received[first:]
        session.received.extend(body)
        if session.total is None and not content_range:
            session.total = len(session.received)
        if session.total is None or len(session.received) < session.total:
            reply = Reply(308, b"", content_type="text/plain")
            if session.received:
                reply.headers["Range"] = f"bytes=0-{len(session.received) - 1}"
            return reply
        del self.uploads[upload_id]
        media = (bytes(session.received), session.mime_type)
        if session.method_id == "drive.files.create":
            return self.create(session.call, media=media, metadata=session.metadata)
        return self.update(session.call, media=media, metadata=session.metadata)

    # ------------------------------------------------------------------ permissions

    def create_permission(self, call: Call) -> Reply:
        f = self._file(call, write=True)
        body = call.json()
        kind = body.get("type")
        role = body.get("role")
        if not kind:
            raise required("The permission type field is required.", "permission.type")
        if not role:
            raise required("The permission role field is required.", "permission.role")
        if role not in ROLES or kind not in ("user", "group", "domain", "anyone"):
            raise bad_request("Invalid Value", "invalid", location="permission")
        if role == "owner" and not call.q_bool("transferOwnership"):
            raise ApiError(
                403,
                "forbidden",
                "The transferOwnership parameter must be enabled when the permission role is "
                "'owner'.",
                location="transferOwnership",
            )
        notify = call.q_bool("sendNotificationEmail", True)
        if kind in ("user", "group"):
            email = str(body.get("emailAddress") or "").lower()
            if not email:
                raise required(
                    "The permission emailAddress field is required.", "permission.emailAddress"
                )
            key, permission_id = email, self.permission_id(email)
        elif kind == "domain":
            domain = str(body.get("domain") or "")
            if not domain:
                raise required("The permission domain field is required.", "permission.domain")
            key, permission_id = "domain:" + domain, self.permission_id("domain:" + domain) + "k"
            notify = False
        else:
            key, permission_id, notify = "anyone", "anyoneWithLink", False
        permission = {
            "kind": "drive#permission",
            "id": permission_id,
            "type": kind,
            "role": role,
            "deleted": False,
            "pendingOwner": False,
        }
        if kind in ("user", "group"):
            permission["emailAddress"] = key
            permission["displayName"] = key.split("@", 1)[0]
        if kind == "domain":
            permission["domain"] = body["domain"]
        if kind in ("domain", "anyone"):
            permission["allowFileDiscovery"] = bool(body.get("allowFileDiscovery", False))
        if role == "owner":
            f.permissions[f.owner]["role"] = "writer"
            f.owner = key
        f.permissions[key] = permission
        if notify:
            self.notifications.append(
                {
                    "fileId": f.id,
                    "to": key,
                    "role": role,
                    "from": call.user,
                    "message": call.q("emailMessage"),
                }
            )
        return self._reply(call, self._permission_json(permission), PERMISSION_DEFAULT)

    def list_permissions(self, call: Call) -> Reply:
        f = self._file(call)
        answer = {
            "kind": "drive#permissionList",
            "permissions": [self._permission_json(p) for p in f.permissions.values()],
        }
        wanted = call.q("fields")
        selection = (
            fieldsel.parse(wanted)
            if wanted is not None
            else fieldsel.parse("kind,nextPageToken,permissions(kind,id,type,role)")
        )
        return Reply(200, fieldsel.apply(answer, selection), raw=True)

    def _permission(self, f: DriveFile, permission_id: str) -> tuple[str, dict[str, Any]]:
        for key, permission in f.permissions.items():
            if permission["id"] == permission_id:
                return key, permission
        raise ApiError(
            404, "notFound", f"Permission not found: {permission_id}.", location="permissionId"
        )

    def get_permission(self, call: Call) -> Reply:
        f = self._file(call)
        _, permission = self._permission(f, call.params["permissionId"])
        return self._reply(call, self._permission_json(permission), PERMISSION_DEFAULT)

    def delete_permission(self, call: Call) -> Reply:
        f = self._file(call, write=True)
        key, permission = self._permission(f, call.params["permissionId"])
        if permission["role"] == "owner":
            raise ApiError(403, "cannotRemoveOwner", "The owner of a file cannot be removed.")
        del f.permissions[key]
        return Reply(204)

    # ------------------------------------------------------------------ control API

    def edit_doc(self, file_id: str, text: str, editor: str | None = None) -> None:
        f = self.files[file_id]
        f.text, f.markdown = text.replace("\r\n", "\n"), None
        f.version += 1
        f.modified = _now()
        f.last_modifier = editor or f.owner


# --------------------------------------------------------------------------- search queries

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>)|(?P<punct>[(){}])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<num>-?\d+))"
)
_FIELD_OPS = {
    "name": ("=", "!=", "contains"),
    "mimeType": ("=", "!=", "contains"),
    "fullText": ("contains",),
    "description": ("=", "!=", "contains"),
}


def _invalid_query() -> ApiError:
    return ApiError(400, "invalid", "Invalid Value", location="q")


class Query:
    """A Drive ``q`` expression, parsed once, tested against files."""

    def __init__(self, text: str, user: str = "") -> None:
        self.user = user
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = text.strip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                raise _invalid_query()
            kind = match.lastgroup
            assert kind is not None
            self.tokens.append((kind, match.group(kind)))
            position = match.end()
            while position < len(text) and text[position].isspace():
                position += 1
        self.position = 0
        self.tree = self._or()
        if self.position != len(self.tokens):
            raise _invalid_query()

    def evaluate(self, f: DriveFile) -> bool:
        return bool(self.tree(f))

    # recursive descent: or < and < not < atom
    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise _invalid_query()
        self.position += 1
        return token

    def _expect(self, value: str) -> None:
        _, text = self._next()
        if text.lower() != value.lower():
            raise _invalid_query()

    def _word(self, value: str) -> bool:
        token = self._peek()
        return token is not None and token[0] == "word" and token[1].lower() == value

    def _or(self) -> Callable[[DriveFile], bool]:
        left = self._and()
        while self._word("or"):
            self.position += 1
            right = self._and()
            left = (lambda a, b: lambda f: a(f) or b(f))(left, right)
        return left

    def _and(self) -> Callable[[DriveFile], bool]:
        left = self._not()
        while self._word("and"):
            self.position += 1
            right = self._not()
            left = (lambda a, b: lambda f: a(f) and b(f))(left, right)
        return left

    def _not(self) -> Callable[[DriveFile], bool]:
        if self._word("not"):
            self.position += 1
            inner = self._not()
            return lambda f: not inner(f)
        return self._atom()

    @staticmethod
    def _string(token: tuple[str, str]) -> str:
        if token[0] != "str":
            raise _invalid_query()
        return re.sub(r"\\(.)", r"\1", token[1][1:-1])

    def _atom(self) -> Callable[[DriveFile], bool]:
        token = self._next()
        if token == ("punct", "("):
            inner = self._or()
            self._expect(")")
            return inner
        if token[0] == "str":
            value = self._string(token)
            if value == "me":
                value = self.user
            self._expect("in")
            where = self._next()[1]
            if where == "parents":
                return lambda f: value in f.parents
            if where == "owners":
                return lambda f: f.owner == value.lower()
            if where in ("writers", "readers"):
                roles = WRITERS if where == "writers" else ROLES

                def shared_with(f: DriveFile) -> bool:
                    permission = f.permissions.get(value.lower())
                    return permission is not None and permission["role"] in roles

                return shared_with
            raise _invalid_query()
        if token[0] != "word":
            raise _invalid_query()
        name = token[1]
        if name in ("appProperties", "properties"):
            self._expect("has")
            self._expect("{")
            self._expect("key")
            self._expect("=")
            key = self._string(self._next())
            self._expect("and")
            self._expect("value")
            self._expect("=")
            value = self._string(self._next())
            self._expect("}")
            attribute = "app_properties" if name == "appProperties" else "properties"
            return lambda f: getattr(f, attribute).get(key) == value
        if name in ("trashed", "starred"):
            op = self._next()[1]
            literal = self._next()
            if op not in ("=", "!=") or literal[1] not in ("true", "false"):
                raise _invalid_query()
            flag = literal[1] == "true"
            attribute = name
            if op == "=":
                return lambda f: getattr(f, attribute) is flag
            return lambda f: getattr(f, attribute) is not flag
        if name == "sharedWithMe":
            return lambda f: len(f.permissions) > 1
        if name in _FIELD_OPS:
            op = self._next()[1]
            if op not in _FIELD_OPS[name]:
                raise _invalid_query()
            value = self._string(self._next())

            def text_of(f: DriveFile) -> str:
                if name == "name":
                    return f.name
                if name == "mimeType":
                    return f.mime_type
                if name == "description":
                    return f.description or ""
                return " ".join([f.name, f.description or "", f.text])

            if op == "=":
                return lambda f: text_of(f) == value
            if op == "!=":
                return lambda f: text_of(f) != value
            if name == "name":
                return lambda f: (
                    text_of(f).lower().startswith(value.lower())
                    or any(word.lower().startswith(value.lower()) for word in text_of(f).split())
                )
            return lambda f: value.lower() in text_of(f).lower()
        if name in ("modifiedTime", "createdTime"):
            op = self._next()[1]
            if op not in ("=", "!=", "<", "<=", ">", ">="):
                raise _invalid_query()
            try:
                moment = parse_datetime(self._string(self._next()), default_zone="UTC")
            except ValueError:
                raise _invalid_query() from None
            attribute = "modified" if name == "modifiedTime" else "created"
            compare: dict[str, Callable[[datetime, datetime], bool]] = {
                "=": lambda a, b: a == b,
                "!=": lambda a, b: a != b,
                "<": lambda a, b: a < b,
                "<=": lambda a, b: a <= b,
                ">": lambda a, b: a > b,
                ">=": lambda a, b: a >= b,
            }
            test = compare[op]
            return lambda f: test(parse_datetime(getattr(f, attribute)), moment)
        raise _invalid_query()
