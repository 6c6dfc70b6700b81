"""OutboxMailer: one .eml file per message, atomic, private and idempotent."""

from __future__ import annotations

import email
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.errors import DeliveryError
from scheduler.notify import OutboxMailer, compose, message_id_for, outbox_filename, recipients

SENDER = "oneonone@acme.example"


def notice(key: str = "nudge/marco/ana/2027-W05", subject: str = "No 1:1 in 2027-W05") -> str:
    return compose(
        sender=SENDER,
        to=[("Marco Rossi", "marco@acme.example")],
        cc=[("Ana Álvarez", "ana@acme.example")],
        subject=subject,
        text="Your 1:1 with Ana did not take place.\n",
        html=None,
        message_id=message_id_for(key, SENDER),
        date=datetime(2027, 2, 1, 14, 0, tzinfo=UTC),
    )


def deliver(mailer: OutboxMailer, raw: str) -> None:
    mailer.send(raw, SENDER, recipients(raw))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_one_private_eml_named_after_the_message_id(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "outbox"
    raw = notice()
    deliver(OutboxMailer(folder), raw)
    digest = message_id_for("nudge/marco/ana/2027-W05", SENDER).strip("<>")
    assert os.listdir(folder) == [f"{digest}.eml"]
    assert outbox_filename(raw) == f"{digest}.eml"
    assert mode(folder) == 0o700
    assert mode(folder / f"{digest}.eml") == 0o600
    assert (folder / f"{digest}.eml").read_bytes() == raw.encode()


def test_the_file_parses_back(tmp_path: Path) -> None:
    raw = notice()
    deliver(OutboxMailer(tmp_path), raw)
    (file,) = tmp_path.iterdir()
    message = email.message_from_string(file.read_text())
    assert message["Message-ID"] == message_id_for("nudge/marco/ana/2027-W05", SENDER)
    assert message["To"] == "Marco Rossi <marco@acme.example>"
    assert message["Subject"] == "No 1:1 in 2027-W05"


def test_the_same_message_twice_leaves_one_identical_file(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    deliver(mailer, notice())
    (file,) = tmp_path.iterdir()
    before = file.stat()
    deliver(mailer, notice())
    assert list(tmp_path.iterdir()) == [file]
    assert file.read_bytes() == notice().encode()
    # Not rewritten at all: a reader never sees the file change under it.
    assert file.stat().st_ino == before.st_ino and file.stat().st_mtime_ns == before.st_mtime_ns


def test_a_changed_notice_replaces_its_file_and_others_get_their_own(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    deliver(mailer, notice(subject="first wording"))
    deliver(mailer, notice(subject="second wording"))
    deliver(mailer, notice(key="nudge/marco/ana/2027-W06"))
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2
    assert any(b"second wording" in file.read_bytes() for file in files)
    assert not any(b"first wording" in file.read_bytes() for file in files)
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    deliver(OutboxMailer(tmp_path), notice())
    assert mode(tmp_path) == 0o755


def test_odd_message_ids_become_safe_file_names() -> None:
    raw = "Message-ID: <../../etc/passwd@x>\r\n\r\nbody\r\n"
    assert outbox_filename(raw) == "_.._.._etc_passwd@x.eml"
    assert outbox_filename("Subject: none\r\n\r\nbody\r\n").endswith(".eml")


def test_an_unwritable_outbox_is_a_permanent_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DeliveryError, match=f"outbox folder {blocker}: cannot write") as caught:
        deliver(OutboxMailer(blocker), notice())
    assert caught.value.transient is False
