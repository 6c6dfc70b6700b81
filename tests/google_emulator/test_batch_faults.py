"""Batches as googleapiclient sends them, injected faults, rate limits and counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.oauth2 import service_account
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload

from tests.google_emulator import GoogleEmulator, build_service

from .conftest import ANN, BOB, PRODUCT_SCOPES, Factory, error_of, timed


def event(n: int) -> dict[str, Any]:
    return {
        "id": f"batch{n:05d}",
        "summary": f"1:1 #{n}",
        "attendees": [{"email": BOB}],
        **timed(f"2024-04-{1 + n % 28:02d}T10:00:00", f"2024-04-{1 + n % 28:02d}T10:30:00"),
    }


def run_batch(service: Any, requests: list[Any]) -> dict[str, tuple[Any, Exception | None]]:
    results: dict[str, tuple[Any, Exception | None]] = {}

    def done(request_id: str, response: Any, exception: Exception | None) -> None:
        results[request_id] = (response, exception)

    batch = service.new_batch_http_request(callback=done)
    for n, request in enumerate(requests):
        batch.add(request, request_id=f"r{n}")
    batch.execute()
    return results


def test_a_batch_of_50_is_50_calls_answered_by_content_id(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    calendar = delegated("calendar", ANN)
    results = run_batch(
        calendar, [calendar.events().insert(calendarId="primary", body=event(n)) for n in range(50)]
    )
    assert len(results) == 50
    for n in range(50):
        response, exception = results[f"r{n}"]
        assert exception is None
        assert response["id"] == f"batch{n:05d}"
    assert emu.counts["calendar.events.insert"] == 50
    assert emu.counts["batch"] == 1
    assert len(emu.events(BOB)) == 50
    # errors come back per part
    again = run_batch(
        calendar,
        [
            calendar.events().insert(calendarId="primary", body=event(0)),
            calendar.events().get(calendarId="primary", eventId="batch00001"),
        ],
    )
    assert isinstance(again["r0"][1], HttpError) and again["r0"][1].resp.status == 409
    assert again["r1"][0]["id"] == "batch00001"


def test_drive_batches_over_100_are_refused_whole(emu: GoogleEmulator, delegated: Factory) -> None:
    drive = delegated("drive", ANN)
    requests = [drive.files().list(q="trashed = false") for _ in range(101)]
    with pytest.raises(HttpError) as raised:
        run_batch(drive, requests)
    assert raised.value.resp.status == 400
    assert emu.counts["drive.files.list"] == 0


def test_an_upload_in_a_drive_batch_is_refused_and_makes_no_file(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    # "You cannot use a media upload object in a batch request": the product creates each
    # agenda document on its own and batches only the looks and the shares.
    drive = delegated("drive", ANN)
    media = MediaInMemoryUpload(b"# Agenda\n", mimetype="text/markdown", resumable=False)
    upload = drive.files().create(
        body={"name": "Agenda", "mimeType": "application/vnd.google-apps.document"},
        media_body=media,
    )
    answers = run_batch(drive, [upload, drive.files().list(q="trashed = false")])
    refused = answers["r0"][1]
    assert isinstance(refused, HttpError) and refused.resp.status == 400
    assert answers["r1"][1] is None
    assert emu.drive_files() == []


def test_batch_parts_with_expired_tokens_are_refreshed_and_redone(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    calendar = delegated("calendar", ANN)
    calendar.events().list(calendarId="primary").execute()
    emu.expire_access_tokens()
    results = run_batch(
        calendar, [calendar.events().insert(calendarId="primary", body=event(n)) for n in range(3)]
    )
    assert all(exception is None for _, exception in results.values())
    assert emu.counts["oauth.token"] == 2
    assert emu.counts["batch"] == 2  # the first try, and the redo of its 401 parts


def outcomes(key_dir: Path, seed: int) -> list[str]:
    """The same 30 calls against a fresh emulator with faults seeded ``seed``."""
    with GoogleEmulator() as emu:
        emu.add_user(ANN)
        key = emu.write_service_account_key(key_dir / f"key-{seed}.json")
        credentials = service_account.Credentials.from_service_account_file(
            str(key), scopes=PRODUCT_SCOPES
        ).with_subject(ANN)
        calendar = build_service("calendar", emu.url, credentials)
        emu.faults.set(rate=0.3, seed=seed, kinds=("rateLimitExceeded", "500", "429"))
        seen = []
        for _ in range(30):
            try:
                calendar.events().list(calendarId="primary").execute()
                seen.append("ok")
            except HttpError as error:
                seen.append(f"{error.resp.status}")
        calendar.close()
        return seen


def test_faults_repeat_with_a_seed(tmp_path: Path) -> None:
    first, second, other = outcomes(tmp_path, 1), outcomes(tmp_path, 1), outcomes(tmp_path, 2)
    assert first == second
    assert first != other
    assert {"403", "500", "429"} & set(first) and "ok" in first


def test_fail_next_and_google_error_bodies(emu: GoogleEmulator, delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    emu.faults.fail_next(2, "rateLimitExceeded")
    with pytest.raises(HttpError) as raised:
        calendar.events().list(calendarId="primary").execute()
    status, reason, body = error_of(raised)
    assert (status, reason) == (403, "rateLimitExceeded")
    assert body["errors"][0]["domain"] == "usageLimits"
    # googleapiclient's own retries see the second failure, then success
    calendar.events().list(calendarId="primary").execute(num_retries=2)
    assert emu.counts["calendar.events.list"] == 3
    emu.faults.fail_next(1, "503")
    with pytest.raises(HttpError) as unavailable:
        calendar.events().list(calendarId="primary").execute()
    assert error_of(unavailable)[:2] == (503, "backendError")
    # faults hit batch parts one by one
    emu.faults.fail_next(1, "quotaExceeded")
    results = run_batch(calendar, [calendar.events().list(calendarId="primary") for _ in range(2)])
    assert results["r0"][1] is not None and results["r1"][1] is None
    # the people tests play are never faulted
    emu.faults.set(rate=1.0, seed=3)
    emu.service("calendar", BOB).events().list(calendarId="primary").execute()
    emu.faults.clear()
    calendar.events().list(calendarId="primary").execute()


def test_faults_at_the_token_endpoint_only_when_asked(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    emu.faults.set(rate=1.0, seed=1, kinds=("503",), include_token=True)
    with pytest.raises(Exception, match=r"temporarily_unavailable|503"):
        delegated("calendar", ANN).events().list(calendarId="primary").execute()
    emu.faults.clear()
    delegated("calendar", ANN).events().list(calendarId="primary").execute()


def test_user_rate_limit(emu: GoogleEmulator, delegated: Factory) -> None:
    emu.user_rate_limit = (3, 60.0)
    ann = delegated("calendar", ANN)
    for _ in range(3):
        ann.events().list(calendarId="primary").execute()
    with pytest.raises(HttpError) as raised:
        ann.events().list(calendarId="primary").execute()
    assert error_of(raised)[:2] == (403, "userRateLimitExceeded")
    delegated("calendar", BOB).events().list(calendarId="primary").execute()  # per user
    emu.reset_counts()
    assert emu.counts == {}


def test_a_5xx_after_the_write_took_effect(emu: GoogleEmulator, delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    emu.faults.fail_next(1, "503", applied=True)
    with pytest.raises(HttpError) as raised:
        calendar.events().insert(calendarId="primary", body=event(1)).execute()
    assert raised.value.resp.status == 503
    assert [e["id"] for e in emu.events(ANN)] == ["batch00001"]  # it was made all the same
    with pytest.raises(HttpError) as retried:
        calendar.events().insert(calendarId="primary", body=event(1)).execute()
    assert error_of(retried)[:2] == (409, "duplicate")
    with pytest.raises(ValueError):
        emu.faults.fail_next(1, "429", applied=True)


def test_fail_next_writes_lets_reads_through(emu: GoogleEmulator, delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    emu.faults.fail_next_writes(2, "503")
    calendar.events().list(calendarId="primary").execute()  # a read: not failed
    assert emu.faults.pending_writes == 2
    for _ in range(2):
        with pytest.raises(HttpError) as raised:
            calendar.events().insert(calendarId="primary", body=event(1)).execute()
        assert error_of(raised)[:2] == (503, "backendError")
    assert emu.events(ANN) == []  # not applied
    assert calendar.events().insert(calendarId="primary", body=event(1)).execute()["id"]
    emu.faults.fail_next_writes(1, "500", applied=True)
    with pytest.raises(HttpError):
        calendar.events().patch(
            calendarId="primary", eventId="batch00001", body={"summary": "late"}
        ).execute()
    assert emu.events(ANN)[0]["summary"] == "late"  # the answer was lost, not the write
    with pytest.raises(ValueError):
        emu.faults.fail_next_writes(1, "nope")
    emu.faults.fail_next_writes(3)
    emu.faults.clear()
    assert emu.faults.pending_writes == 0
