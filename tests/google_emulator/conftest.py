"""Fixtures: an emulator per test with three people, and services acting as them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.oauth2 import service_account
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from tests.google_emulator import GoogleEmulator, build_service

ANN = "ann@acme.example"  # a manager
BOB = "bob@acme.example"  # a rep
CAT = "cat@acme.example"
#: the product's scopes (scheduler/providers/google/auth.py)
PRODUCT_SCOPES = [
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    "https://www.googleapis.com/auth/drive.file",
]


def emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("google-emulator")]


@pytest.fixture
def emu() -> Iterator[GoogleEmulator]:
    emulator = GoogleEmulator()
    emulator.start()
    for email in (ANN, BOB, CAT):
        emulator.add_user(email)
    try:
        yield emulator
    finally:
        emulator.stop()
        assert emulator_threads() == [], "the emulator left threads behind"


@pytest.fixture
def key_file(emu: GoogleEmulator, tmp_path: Path) -> Path:
    return emu.write_service_account_key(tmp_path / "key.json")


Factory = Callable[..., Resource]


@pytest.fixture
def delegated(emu: GoogleEmulator, key_file: Path) -> Factory:
    """``delegated(api, email)``: a service as the product builds it (service account + DWD)."""

    def make(api: str, email: str, scopes: list[str] | None = None) -> Resource:
        credentials = service_account.Credentials.from_service_account_file(
            str(key_file), scopes=scopes or PRODUCT_SCOPES
        ).with_subject(email)
        return build_service(api, emu.url, credentials)

    return make


def error_of(raised: pytest.ExceptionInfo[HttpError]) -> tuple[int, str, dict[str, Any]]:
    """(HTTP status, first reason, whole error object) of an HttpError."""
    body = json.loads(raised.value.content)["error"]
    return raised.value.resp.status, body["errors"][0]["reason"], body


def timed(start: str, end: str, tz: str = "Europe/Berlin") -> dict[str, Any]:
    return {
        "start": {"dateTime": start, "timeZone": tz},
        "end": {"dateTime": end, "timeZone": tz},
    }
