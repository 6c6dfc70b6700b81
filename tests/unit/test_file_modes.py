"""Everything the product writes under the data folder is its user's only: files 0600,
folders 0700, whatever the umask (``state.db`` holds the agenda secret and every notice; it
was 0644, agenda folders 0755)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from scheduler.store.files import private_file, private_folder
from scheduler.store.ledger import Ledger
from tests.system.helpers import REPO, oneonone


def modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.stat().st_mode)
        for path in [root, *root.rglob("*")]
        if not path.is_symlink()
    }


@pytest.mark.slow
@pytest.mark.parametrize("umask", [0o000])
def test_a_pass_leaves_every_file_0600_and_every_folder_0700(tmp_path: Path, umask: int) -> None:
    config = tmp_path / "org" / "oneonone.toml"
    config.parent.mkdir(parents=True)
    shutil.copy(REPO / "scheduler" / "examples" / "oneonone.toml", config)
    old = os.umask(umask)
    try:
        oneonone(config, "sync", now="2027-01-05T08:00:00-05:00", check=True)
        oneonone(config, "sync", now="2027-01-08T08:00:00-05:00", check=True)
    finally:
        os.umask(old)
    data = config.parent / "data"
    found = modes(data)
    assert "state.db" in found and any(name.startswith("agendas/") for name in found)
    wrong = {
        name: oct(mode)
        for name, mode in found.items()
        if mode != (0o700 if (data / name).is_dir() and name != "." else 0o600)
        and not (name == "." and mode == 0o700)
    }
    assert wrong == {}


def test_an_existing_ledger_left_0644_is_made_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "state.db"
    Ledger(f"sqlite:///{path}").engine.dispose()
    os.chmod(path, 0o644)
    Ledger(f"sqlite:///{path}").engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_private_helpers_ignore_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        private_folder(tmp_path / "a" / "b")
        private_file(tmp_path / "a" / "b" / "f")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b" / "f").stat().st_mode) == 0o600
