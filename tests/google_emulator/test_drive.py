"""Drive v3: agenda Docs made from Markdown, export, appProperties search, sharing, scopes."""

from __future__ import annotations

import io
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload

from tests.google_emulator import GoogleEmulator

from .conftest import ANN, BOB, Factory, error_of

DOC = "application/vnd.google-apps.document"
AGENDA = "# 1:1 Ann / Bob\n\n## Action items\n\n- [ ] send the forecast\n- **call** the client\n"


def create_doc(
    drive: Any, name: str, text: str, pair: str, *, resumable: bool = False
) -> dict[str, Any]:
    media = MediaIoBaseUpload(
        io.BytesIO(text.encode()), mimetype="text/markdown", resumable=resumable
    )
    made: dict[str, Any] = (
        drive.files()
        .create(
            body={"name": name, "mimeType": DOC, "appProperties": {"oneonone": pair}},
            media_body=media,
            fields="id,name,mimeType,webViewLink,appProperties,version",
        )
        .execute()
    )
    return made


def test_markdown_upload_becomes_a_doc(emu: GoogleEmulator, delegated: Factory) -> None:
    drive = delegated("drive", ANN)
    made = create_doc(drive, "Agenda 2024-03-04", AGENDA, "ann-bob")
    assert made["mimeType"] == DOC
    assert (
        made["webViewLink"] == f"https://docs.google.com/document/d/{made['id']}/edit?usp=drivesdk"
    )
    assert made["appProperties"] == {"oneonone": "ann-bob"}
    assert emu.counts["drive.files.create"] == 1
    text = emu.doc_text(made["id"])
    assert "1:1 Ann / Bob" in text and "#" not in text and "**" not in text
    plain = drive.files().export(fileId=made["id"], mimeType="text/plain").execute()
    assert plain.startswith("\ufeff".encode())  # Google's text export starts with a BOM
    assert b"\r\n" in plain
    assert plain.decode("utf-8-sig").replace("\r\n", "\n") == text
    markdown = drive.files().export(fileId=made["id"], mimeType="text/markdown").execute()
    assert markdown.decode() == AGENDA
    with pytest.raises(HttpError) as raised:
        drive.files().export(fileId=made["id"], mimeType="application/pdf").execute()
    assert error_of(raised)[0] == 400
    with pytest.raises(HttpError) as download:
        drive.files().get_media(fileId=made["id"]).execute()
    assert error_of(download)[:2] == (403, "fileNotDownloadable")


def test_default_fields_are_few(delegated: Factory) -> None:
    drive = delegated("drive", ANN)
    made = drive.files().create(body={"name": "x", "mimeType": DOC}).execute()
    assert set(made) == {"kind", "id", "name", "mimeType"}
    got = drive.files().get(fileId=made["id"], fields="*").execute()
    assert got["webViewLink"] and got["owners"][0]["emailAddress"] == ANN
    nested = drive.files().list(fields="files(id,appProperties)").execute()
    assert nested == {"files": [{"id": made["id"]}]}


def test_search_by_app_properties_and_trash(delegated: Factory) -> None:
    drive = delegated("drive", ANN)
    one = create_doc(drive, "a", "one", "ann-bob")
    two = create_doc(drive, "b", "two", "ann-cat")
    three = create_doc(drive, "c", "three", "ann-bob")
    drive.files().update(fileId=three["id"], body={"trashed": True}).execute()
    query = "appProperties has { key='oneonone' and value='ann-bob' } and trashed = false"
    found = drive.files().list(q=query, fields="files(id)").execute()["files"]
    assert [f["id"] for f in found] == [one["id"]]
    # trashed files are listed unless the query says otherwise
    anything = (
        drive.files().list(q="appProperties has { key='oneonone' and value='ann-bob' }").execute()
    )
    assert {f["id"] for f in anything["files"]} == {one["id"], three["id"]}
    either = (
        drive.files()
        .list(
            q="(appProperties has { key='oneonone' and value='ann-cat' } or name = 'a') "
            "and not trashed = true"
        )
        .execute()
    )
    assert {f["id"] for f in either["files"]} == {one["id"], two["id"]}
    mine = drive.files().list(q="'me' in owners and name = 'b'").execute()["files"]
    assert [f["id"] for f in mine] == [two["id"]]
    with pytest.raises(HttpError) as raised:
        drive.files().list(q="appProperties contains 'x'").execute()
    status, reason, body = error_of(raised)
    assert (status, reason) == (400, "invalid")
    assert body["errors"][0]["location"] == "q"


def test_update_metadata_and_content(emu: GoogleEmulator, delegated: Factory) -> None:
    drive = delegated("drive", ANN)
    made = create_doc(drive, "a", AGENDA, "ann-bob")
    media = MediaIoBaseUpload(io.BytesIO(b"# New\n\nnotes"), mimetype="text/markdown")
    updated = (
        drive.files()
        .update(
            fileId=made["id"],
            body={"name": "renamed", "appProperties": {"oneonone": None, "week": "10"}},
            media_body=media,
            fields="name,appProperties,version",
        )
        .execute()
    )
    assert updated == {"name": "renamed", "appProperties": {"week": "10"}, "version": "2"}
    assert emu.doc_text(made["id"]) == "New\n\nnotes"
    emu.edit_doc(made["id"], "typed by a person\n- [x] done")
    exported = drive.files().export(fileId=made["id"], mimeType="text/plain").execute()
    assert exported.decode("utf-8-sig") == "typed by a person\r\n- [x] done"


def test_resumable_upload(emu: GoogleEmulator, delegated: Factory) -> None:
    drive = delegated("drive", ANN)
    text = AGENDA * 200
    made = (
        drive.files()
        .create(
            body={"name": "big", "mimeType": DOC},
            media_body=MediaIoBaseUpload(
                io.BytesIO(text.encode()),
                mimetype="text/markdown",
                chunksize=256 * 1024,
                resumable=True,
            ),
            fields="id",
        )
        .execute()
    )
    assert emu.drive.files[made["id"]].markdown == text


def test_drive_file_scope_sees_only_the_apps_files(emu: GoogleEmulator, delegated: Factory) -> None:
    mine = create_doc(delegated("drive", ANN), "by the app", "x", "ann-bob")
    person = emu.service("drive", ANN)  # Ann herself, in Drive's own UI
    hers = person.files().create(body={"name": "private notes", "mimeType": DOC}).execute()
    app = delegated("drive", ANN)
    assert [f["id"] for f in app.files().list().execute()["files"]] == [mine["id"]]
    with pytest.raises(HttpError) as raised:
        app.files().get(fileId=hers["id"]).execute()
    status, reason, body = error_of(raised)
    assert (status, reason) == (404, "notFound")
    assert body["message"] == f"File not found: {hers['id']}."
    assert {f["id"] for f in person.files().list().execute()["files"]} == {mine["id"], hers["id"]}


def test_sharing_with_the_rep(emu: GoogleEmulator, delegated: Factory) -> None:
    ann = delegated("drive", ANN)
    made = create_doc(ann, "agenda", AGENDA, "ann-bob")
    bob = delegated("drive", BOB)
    with pytest.raises(HttpError):
        bob.files().get(fileId=made["id"]).execute()
    permission = (
        ann.permissions()
        .create(
            fileId=made["id"],
            body={"type": "user", "role": "writer", "emailAddress": BOB},
            sendNotificationEmail=False,
        )
        .execute()
    )
    assert permission == {
        "kind": "drive#permission",
        "id": permission["id"],
        "type": "user",
        "role": "writer",
    }
    ann.permissions().create(
        fileId=made["id"],
        body={"type": "user", "role": "commenter", "emailAddress": "cat@acme.example"},
    ).execute()
    assert emu.drive_notifications == [
        {
            "fileId": made["id"],
            "to": "cat@acme.example",
            "role": "commenter",
            "from": ANN,
            "message": None,
        }
    ]
    listed = (
        ann.permissions().list(fileId=made["id"], fields="permissions(role,emailAddress)").execute()
    )
    assert {p["emailAddress"]: p["role"] for p in listed["permissions"]} == {
        ANN: "owner",
        BOB: "writer",
        "cat@acme.example": "commenter",
    }
    # the rep sees it now, through the same app
    assert bob.files().get(fileId=made["id"], fields="id,capabilities/canEdit").execute() == {
        "id": made["id"],
        "capabilities": {"canEdit": True},
    }
    with pytest.raises(HttpError) as raised:
        ann.permissions().create(
            fileId=made["id"], body={"type": "user", "role": "writer"}
        ).execute()
    assert error_of(raised)[0] == 400
    with pytest.raises(HttpError) as owner:
        ann.permissions().create(
            fileId=made["id"], body={"type": "user", "role": "owner", "emailAddress": BOB}
        ).execute()
    assert error_of(owner)[0] == 403
