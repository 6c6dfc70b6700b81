"""Temp files a killed write leaves behind are removed later; nothing else ever is."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from scheduler import sync as sync_module
from scheduler.cli import main
from scheduler.orgfile import EXAMPLE_PATH
from scheduler.store.files import (
    STALE_AFTER,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    is_temp_name,
    remove_stale_temp_files,
    temp_copy,
    write_atomically,
)

NOW = "2026-03-02T09:00"
LONG_AGO = time.time() - 2 * STALE_AFTER.total_seconds()


def left_behind(folder: Path, random: str = "0123456789abcdef", *, age: float = LONG_AGO) -> Path:
    """A temp file as a write killed between creating it and renaming it leaves it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{TEMP_PREFIX}{random}{TEMP_SUFFIX}"
    path.write_bytes(b"BEGIN:VCALENDAR\r\n")  # torn: the write never finished
    os.utime(path, (age, age))
    return path


def not_ours(folder: Path) -> dict[Path, bytes]:
    """Files that look a little like temp files, none of them the product's; all old."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        folder / ".oneonone-notes.tmp": b"someone's notes",
        folder / ".oneonone-0123456789abcdef.tmp.bak": b"a backup",
        folder / "oneonone-0123456789abcdef.tmp": b"not a dotfile",
        folder / ".oneonone-0123456789ABCDEF.tmp": b"upper case",
        folder / ".other-0123456789abcdef.tmp": b"another program's",
        folder / "event.ics": b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    }
    for path, data in files.items():
        path.write_bytes(data)
        os.utime(path, (LONG_AGO, LONG_AGO))
    return files


def test_temp_names_are_recognisable() -> None:
    assert is_temp_name(".oneonone-0123456789abcdef.tmp")
    assert is_temp_name(".oneonone-k2_x9q0a.tmp")  # what earlier versions left (mkstemp)
    assert not is_temp_name(".oneonone-notes.tmp")
    assert not is_temp_name("oneonone-0123456789abcdef.tmp")
    assert not is_temp_name(".oneonone-0123456789abcdef.tmp.bak")


def test_a_write_leaves_only_its_target(tmp_path: Path) -> None:
    target = tmp_path / "a.ics"
    write_atomically(target, b"one")
    write_atomically(target, b"two", keep_mode=True)
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ics"]


def test_a_temp_file_is_a_0600_dotfile_in_the_folder_and_gone_afterwards(tmp_path: Path) -> None:
    with temp_copy(tmp_path, b"data") as temp:
        assert temp.parent == tmp_path
        assert is_temp_name(temp.name)
        assert temp.read_bytes() == b"data"
        assert temp.stat().st_mode & 0o777 == 0o600
    assert not temp.exists()


def test_old_temp_files_go_and_everything_else_stays(tmp_path: Path) -> None:
    stale = [left_behind(tmp_path), left_behind(tmp_path / "a" / "b", "k2_x9q0a")]
    fresh = left_behind(tmp_path, "fedcba9876543210", age=time.time())
    others = not_ours(tmp_path)
    (tmp_path / "link").mkdir()
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"kept")
    symlink = tmp_path / "link" / f"{TEMP_PREFIX}aaaaaaaaaaaaaaaa{TEMP_SUFFIX}"
    symlink.symlink_to(target)
    os.utime(symlink, (LONG_AGO, LONG_AGO), follow_symlinks=False)

    removed = remove_stale_temp_files(tmp_path, tmp_path / "a", tmp_path / "missing")

    assert sorted(removed) == sorted(stale)
    assert not any(path.exists() for path in stale)
    assert fresh.exists()  # another writer may be busy with it
    assert {path: path.read_bytes() for path in others} == others
    assert symlink.is_symlink() and target.read_bytes() == b"kept"


def test_a_temp_file_being_written_is_never_removed(tmp_path: Path) -> None:
    with temp_copy(tmp_path, b"data") as temp:
        os.utime(temp, (LONG_AGO, LONG_AGO))
        assert remove_stale_temp_files(tmp_path) == []
        assert temp.exists()


def test_the_next_write_into_a_folder_removes_what_a_killed_write_left(tmp_path: Path) -> None:
    stale = left_behind(tmp_path)
    others = not_ours(tmp_path)
    write_atomically(tmp_path / "new.ics", b"new")
    assert not stale.exists()
    assert {path: path.read_bytes() for path in others} == others


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("ONEONONE_"):
            monkeypatch.delenv(name)
    target = tmp_path / "oneonone.toml"
    target.write_bytes(EXAMPLE_PATH.read_bytes())
    return target


def sync(config: Path) -> None:
    assert main(["sync", "--config", str(config), "--now", NOW]) == 0


def contents(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_pass_removes_the_temp_files_a_killed_pass_left(example: Path) -> None:
    data = example.parent / "data"
    sync(example)
    before = {path: data for path, data in contents(data).items() if path.name != "state.db"}
    # The pass was killed mid-write: in a calendar folder, an agenda folder, the outbox.
    calendar = data / "calendars" / "ana"
    agendas = next(path for path in (data / "agendas").rglob("*") if path.is_dir())
    stale = [left_behind(calendar), left_behind(agendas), left_behind(data / "outbox")]
    others = not_ours(calendar)
    fresh = left_behind(data / "calendars" / "tom", age=time.time())

    sync_module._SWEPT.clear()  # a new process: the killed one's is gone
    sync(example)  # at the same time: nothing else to write

    assert not any(path.exists() for path in stale)
    assert fresh.exists()
    assert {path: path.read_bytes() for path in others} == others
    after = contents(data)
    assert {path: after[path] for path in before} == before
