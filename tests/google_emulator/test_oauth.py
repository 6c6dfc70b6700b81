"""The token endpoint through google-auth and google-auth-oauthlib, and API authentication."""

from __future__ import annotations

import json
import os
import stat
import threading
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account
from google_auth_oauthlib.flow import Flow, InstalledAppFlow
from googleapiclient.errors import HttpError

from tests.google_emulator import GoogleEmulator, build_service

from .conftest import ANN, BOB, PRODUCT_SCOPES, Factory, error_of, timed

EVENT = {"summary": "1:1", **timed("2024-03-04T10:00:00", "2024-03-04T10:30:00")}


def test_key_file_is_a_real_service_account_key_readable_by_its_owner_only(key_file: Path) -> None:
    info = json.loads(key_file.read_text())
    assert info["type"] == "service_account"
    assert info["token_uri"].endswith("/token")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)


def test_delegated_token_acts_as_the_subject(emu: GoogleEmulator, delegated: Factory) -> None:
    calendar = delegated("calendar", ANN)
    made = calendar.events().insert(calendarId="primary", body=EVENT).execute()
    assert made["organizer"] == {"email": ANN, "self": True}
    assert made["creator"] == {"email": ANN}
    assert emu.counts["oauth.token"] == 1
    assert emu.counts["calendar.events.insert"] == 1


def test_a_key_the_emulator_did_not_issue_is_refused(emu: GoogleEmulator, key_file: Path) -> None:
    info = json.loads(key_file.read_text())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info["private_key"] = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    credentials = service_account.Credentials.from_service_account_info(
        info, scopes=PRODUCT_SCOPES
    ).with_subject(ANN)
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        credentials.refresh(Request())


def test_denied_delegation_answers_unauthorized_client(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    emu.deny_delegation(BOB)
    with pytest.raises(RefreshError) as raised:
        delegated("calendar", BOB).events().list(calendarId="primary").execute()
    assert "unauthorized_client" in str(raised.value)
    assert "Client is unauthorized to retrieve access tokens" in str(raised.value)
    # others are unaffected
    delegated("calendar", ANN).events().list(calendarId="primary").execute()


def test_unknown_subject_is_an_invalid_grant(emu: GoogleEmulator, delegated: Factory) -> None:
    with pytest.raises(RefreshError, match="invalid_grant"):
        delegated("calendar", "nobody@acme.example").events().list(calendarId="primary").execute()


def test_expired_access_tokens_are_refreshed_by_the_client(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    calendar = delegated("calendar", ANN)
    calendar.events().list(calendarId="primary").execute()
    emu.expire_access_tokens()
    calendar.events().list(calendarId="primary").execute()
    assert emu.counts["oauth.token"] == 2
    assert ("calendar.events.list", "", 401) in emu.requests_log


def test_missing_token_is_401_and_wrong_scope_is_403(
    emu: GoogleEmulator, delegated: Factory
) -> None:
    request = urllib.request.Request(emu.url + "calendar/v3/calendars/primary/events")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 401
    assert "WWW-Authenticate" in raised.value.headers
    raised.value.close()
    drive_only = delegated("calendar", ANN, ["https://www.googleapis.com/auth/drive.file"])
    with pytest.raises(HttpError) as error:
        drive_only.events().list(calendarId="primary").execute()
    status, reason, body = error_of(error)
    assert (status, reason) == (403, "insufficientPermissions")
    assert body["status"] == "PERMISSION_DENIED"


def test_authorized_user_file_refreshes_with_the_refresh_token_grant(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    path = emu.write_authorized_user_file(tmp_path / "token.json", ANN)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = user_credentials.Credentials.from_authorized_user_file(
        str(path), scopes=PRODUCT_SCOPES
    )
    # google-auth (2.63) replaces the file's token_uri with Google's ("always overrides")
    assert loaded.token_uri == "https://oauth2.googleapis.com/token"
    credentials = loaded.with_token_uri(json.loads(path.read_text())["token_uri"])
    calendar = build_service("calendar", emu.url, credentials)
    calendar.events().insert(calendarId="primary", body=EVENT).execute()
    assert credentials.token and credentials.refresh_token
    # a revoked refresh token is an invalid_grant
    broken = user_credentials.Credentials(
        token=None,
        refresh_token="1//revoked",
        token_uri=credentials.token_uri,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
    )
    with pytest.raises(RefreshError, match="invalid_grant"):
        broken.refresh(Request())


def test_authorization_code_exchange(
    emu: GoogleEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # oauthlib wants https otherwise
    client_file = emu.write_oauth_client_file(tmp_path / "client.json")
    flow = Flow.from_client_secrets_file(
        str(client_file), scopes=PRODUCT_SCOPES, redirect_uri="http://127.0.0.1:1/"
    )
    flow.fetch_token(code=emu.issue_authorization_code(ANN))
    credentials = flow.credentials
    assert credentials.refresh_token
    calendar = build_service("calendar", emu.url, credentials)
    assert calendar.events().list(calendarId="primary").execute()["items"] == []
    with pytest.raises(Exception, match=r"invalid_grant|Malformed"):
        flow.fetch_token(code="4/0Anot-issued")


def test_installed_app_flow_against_the_consenting_browser(
    emu: GoogleEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client_file = emu.write_oauth_client_file(tmp_path / "client.json")
    flow = InstalledAppFlow.from_client_secrets_file(str(client_file), scopes=PRODUCT_SCOPES)
    original = flow.authorization_url
    browsers: list[threading.Thread] = []

    def authorization_url(**kwargs: object) -> tuple[str, str]:
        url, state = original(**kwargs)

        def browse() -> None:  # follows the 302 to the flow's one-request server
            with urllib.request.urlopen(url, timeout=10) as answer:
                answer.read()

        browser = threading.Thread(target=browse)
        browsers.append(browser)
        browser.start()
        return url, state

    flow.authorization_url = authorization_url
    credentials = flow.run_local_server(
        host="127.0.0.1",
        bind_addr="127.0.0.1",
        port=0,
        open_browser=False,
        login_hint=BOB,
        timeout_seconds=10,
    )
    for browser in browsers:
        browser.join(timeout=10)
    assert credentials.refresh_token
    calendar = build_service("calendar", emu.url, credentials)
    made = calendar.events().insert(calendarId="primary", body=EVENT).execute()
    assert made["organizer"]["email"] == BOB
