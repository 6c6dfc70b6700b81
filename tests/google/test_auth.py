"""Google credentials: scopes, whom each sign-in reaches, the token file, Google's refusals.

The refusals are driven through the real ``refresh`` code with a stub transport here; the
``*_emulator`` tests further down do the same against the Google emulator's token endpoint.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import stat
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.transport.requests import Request

from scheduler.cli import main
from scheduler.errors import AuthError, CalendarError, TransientError, UserError
from scheduler.orgfile import GoogleSettings
from scheduler.providers.google import auth
from scheduler.providers.google.auth import (
    SCOPES,
    TOKEN_EMAIL_KEY,
    credentials_for,
    run_installed_app_flow,
)
from tests.google_emulator import GoogleEmulator

ORGANIZER = "marco@acme.example"
REP = "ana@acme.example"
REFRESH_TOKEN = "1//refresh-token-that-must-never-be-shown"
ACCESS_TOKEN = "ya29.access-token-that-must-never-be-shown"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    auth.clear_cache()
    yield
    auth.clear_cache()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_key(path: Path, token_uri: str = "https://oauth2.googleapis.com/token") -> str:
    """A service account JSON key with a fresh private key; returns the key's PEM text."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "acme",
        "private_key_id": "key-1",
        "private_key": pem,
        "client_email": "oneonone@acme.iam.gserviceaccount.com",
        "client_id": "109876543210",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return pem


def write_token(path: Path, email: str = ORGANIZER, **extra: Any) -> None:
    token = {
        "token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "token_uri": "https://oauth2.example/token",
        "client_id": "client.apps.googleusercontent.com",
        "client_secret": "client-secret",
        "scopes": list(SCOPES),
        TOKEN_EMAIL_KEY: email,
        **extra,
    }
    path.write_text(json.dumps(token), encoding="utf-8")
    path.chmod(0o600)


@dataclass
class StubResponse:
    status: int
    data: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})


@dataclass
class StubTransport:
    """A ``google.auth.transport.Request`` that answers every request with one JSON reply."""

    status: int
    reply: dict[str, Any]
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def __call__(self, url: str, method: str = "GET", body: Any = None, **_: Any) -> StubResponse:
        self.calls.append((url, body))
        return StubResponse(self.status, json.dumps(self.reply).encode())


# --------------------------------------------------------------------------- scopes


def test_scopes_are_the_least_privilege_three() -> None:
    assert SCOPES == (
        "https://www.googleapis.com/auth/calendar.events.owned",
        "https://www.googleapis.com/auth/calendar.events.freebusy",
        "https://www.googleapis.com/auth/drive.file",
    )
    broad = {"https://www.googleapis.com/auth/calendar", "https://www.googleapis.com/auth/drive"}
    assert not broad & set(SCOPES)


# --------------------------------------------------------------------------- whom a sign-in reaches


def test_no_credentials_says_what_to_set_up(tmp_path: Path) -> None:
    settings = GoogleSettings(token_file=tmp_path / "google-token.json")
    with pytest.raises(CalendarError) as caught:
        credentials_for(settings, ORGANIZER)
    message = str(caught.value)
    assert message.startswith(f"{ORGANIZER}: no Google credentials")
    assert "service_account_file" in message
    assert f"oneonone auth google --email {ORGANIZER}" in message


def test_token_file_reaches_only_its_organizer(tmp_path: Path) -> None:
    token_file = tmp_path / "google-token.json"
    write_token(token_file)
    settings = GoogleSettings(token_file=token_file)
    credentials = credentials_for(settings, "Marco@Acme.example")
    assert credentials is credentials_for(settings, ORGANIZER)  # cached per e-mail
    with pytest.raises(CalendarError) as caught:
        credentials_for(settings, REP)
    message = str(caught.value)
    assert message.startswith(f"{REP}: the Google sign-in in {token_file} is for {ORGANIZER} only")
    assert "service_account_file" in message and "domain-wide delegation" in message
    assert REFRESH_TOKEN not in message and ACCESS_TOKEN not in message


def test_token_file_sends_refreshes_to_its_own_token_uri(tmp_path: Path) -> None:
    token_file = tmp_path / "google-token.json"
    write_token(token_file)
    credentials: Any = credentials_for(GoogleSettings(token_file=token_file), ORGANIZER)
    assert credentials.token_uri == "https://oauth2.example/token"
    assert list(credentials.scopes) == list(SCOPES)


def test_token_file_without_an_owner_asks_for_a_new_sign_in(tmp_path: Path) -> None:
    token_file = tmp_path / "google-token.json"
    write_token(token_file)
    data = json.loads(token_file.read_text())
    del data[TOKEN_EMAIL_KEY]
    token_file.write_text(json.dumps(data))
    with pytest.raises(CalendarError) as caught:
        credentials_for(GoogleSettings(token_file=token_file), ORGANIZER)
    assert "is not a sign-in saved by `oneonone auth google`" in str(caught.value)


def test_service_account_acts_as_each_person(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    write_key(key_file, token_uri="http://127.0.0.1:9/token")
    settings = GoogleSettings(service_account_file=key_file, token_file=tmp_path / "t.json")
    first: Any = credentials_for(settings, ORGANIZER)
    second: Any = credentials_for(settings, REP)
    assert first is not second
    assert (first._subject, second._subject) == (ORGANIZER, REP)
    assert list(first.scopes) == list(SCOPES)
    # The key file's own token_uri: an emulator's key sends token requests to the emulator.
    assert first._token_uri == "http://127.0.0.1:9/token"


def test_broken_key_file_is_a_plain_sentence(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    key_file.write_text("{not json")
    settings = GoogleSettings(service_account_file=key_file)
    with pytest.raises(CalendarError) as caught:
        credentials_for(settings, REP)
    assert str(caught.value).startswith(f"{REP}: {key_file} is not a service account key")


# --------------------------------------------------------------------------- the token file


def test_loose_token_file_is_tightened_and_said_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token_file = tmp_path / "google-token.json"
    write_token(token_file)
    token_file.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        credentials_for(GoogleSettings(token_file=token_file), ORGANIZER)
    assert mode(token_file) == 0o600
    assert "could be read by other users" in caplog.text and "0600" in caplog.text
    assert REFRESH_TOKEN not in caplog.text and ACCESS_TOKEN not in caplog.text


def test_renewed_token_is_saved_back_0600(tmp_path: Path) -> None:
    token_file = tmp_path / "google-token.json"
    write_token(token_file)
    credentials: Any = credentials_for(GoogleSettings(token_file=token_file), ORGANIZER)
    transport = StubTransport(200, {"access_token": "ya29.renewed", "expires_in": 3600})
    credentials.refresh(transport)
    assert transport.calls[0][0] == "https://oauth2.example/token"
    saved = json.loads(token_file.read_text())
    assert saved["token"] == "ya29.renewed"
    assert saved["refresh_token"] == REFRESH_TOKEN
    assert saved["token_uri"] == "https://oauth2.example/token"
    assert saved[TOKEN_EMAIL_KEY] == ORGANIZER
    assert mode(token_file) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


# --------------------------------------------------------------------------- Google's refusals


def test_revoked_token_file_says_to_sign_in_again(tmp_path: Path) -> None:
    token_file = tmp_path / "google-token.json"
    write_token(token_file)
    credentials: Any = credentials_for(GoogleSettings(token_file=token_file), ORGANIZER)
    refusal = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    with pytest.raises(AuthError) as caught:
        credentials.refresh(StubTransport(400, refusal))
    message = str(caught.value)
    assert message.startswith(f"{ORGANIZER}: the Google sign-in saved in {token_file}")
    assert f"run `oneonone auth google --email {ORGANIZER}` again" in message
    assert REFRESH_TOKEN not in message and "client-secret" not in message


def test_missing_delegation_names_the_client_id_and_scopes(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    pem = write_key(key_file)
    credentials: Any = credentials_for(GoogleSettings(service_account_file=key_file), REP)
    refusal = {
        "error": "unauthorized_client",
        "error_description": "Client is unauthorized to retrieve access tokens using this method",
    }
    with pytest.raises(AuthError) as caught:
        credentials.refresh(StubTransport(401, refusal))
    message = str(caught.value)
    assert message.startswith(f"{REP}: Google does not let the service account")
    assert "domain-wide delegation for client id 109876543210" in message
    assert ",".join(SCOPES) in message
    assert "Admin console › Security" in message and "domain-wide delegation" in message
    assert "PRIVATE KEY" not in message and pem.splitlines()[1] not in message


def test_unknown_person_for_the_service_account(tmp_path: Path) -> None:
    key_file = tmp_path / "sa.json"
    write_key(key_file)
    credentials: Any = credentials_for(GoogleSettings(service_account_file=key_file), REP)
    refusal = {"error": "invalid_grant", "error_description": "Invalid email or User ID"}
    with pytest.raises(AuthError) as caught:
        credentials.refresh(StubTransport(400, refusal))
    message = str(caught.value)
    assert "invalid_grant: Invalid email or User ID" in message
    assert f"{REP} is a user of your Google Workspace" in message


def test_token_service_trouble_is_transient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import google.auth._exponential_backoff as backoff

    monkeypatch.setattr(backoff.time, "sleep", lambda _seconds: None)
    key_file = tmp_path / "sa.json"
    write_key(key_file)
    credentials: Any = credentials_for(GoogleSettings(service_account_file=key_file), REP)
    # 500 is retried inside google-auth first; a retryable refusal that persists is transient.
    refusal = {"error": "internal_failure"}
    transport = StubTransport(500, refusal)
    with pytest.raises(TransientError) as caught:
        credentials.refresh(transport)
    assert "the next pass tries again" in str(caught.value)
    assert len(transport.calls) > 1  # google-auth retried before giving up


# --------------------------------------------------------------------------- oneonone auth google


def org_file(tmp_path: Path, google: str = "") -> Path:
    text = f"""\
[org]
name = "Acme"
timezone = "America/New_York"

[[person]]
email = "{ORGANIZER}"
calendar = {{ provider = "google" }}

[[person]]
email = "{REP}"
manager = "{ORGANIZER}"
calendar = {{ provider = "vdir", path = "cal/ana" }}

[google]
{google}
"""
    path = tmp_path / "org.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_auth_google_without_a_client_file_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONEONONE_GOOGLE__OAUTH_CLIENT_FILE", raising=False)
    code = main(["auth", "google", "--config", str(org_file(tmp_path))])
    err = capsys.readouterr().err
    assert code == 1
    assert "google.oauth_client_file: not set" in err and "Desktop app" in err
    assert "Traceback" not in err


def test_auth_google_email_must_be_someone_on_google(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = org_file(tmp_path, 'oauth_client_file = "client.json"')
    code = main(["auth", "google", "--config", str(config), "--email", REP])
    assert code == 1
    assert 'provider = "vdir", not "google"' in capsys.readouterr().err
    code = main(["auth", "google", "--config", str(config), "--email", "who@acme.example"])
    assert code == 1
    assert "is not a person in" in capsys.readouterr().err


def test_auth_google_missing_client_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = org_file(tmp_path, 'oauth_client_file = "client.json"')
    code = main(["auth", "google", "--config", str(config), "--no-browser"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"google.oauth_client_file: {tmp_path / 'client.json'} does not exist" in err


def test_auth_google_bad_port_is_usage(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["auth", "google", "--config", str(org_file(tmp_path)), "--port", "70000"])
    assert caught.value.code == 2


def test_installed_app_flow_refuses_a_web_client_file(tmp_path: Path) -> None:
    client = tmp_path / "client.json"
    client.write_text(json.dumps({"other": {}}))
    with pytest.raises(UserError) as caught:
        run_installed_app_flow(client, tmp_path / "token.json", email=ORGANIZER, open_browser=False)
    assert "is not the JSON of an OAuth client of type Desktop app" in str(caught.value)


# --------------------------------------------------------------------------- against the emulator


@pytest.fixture
def emu() -> Iterator[GoogleEmulator]:
    emulator = GoogleEmulator()
    emulator.start()
    for email in (ORGANIZER, REP):
        emulator.add_user(email)
    try:
        yield emulator
    finally:
        emulator.stop()


def organizer_token_file(emu: GoogleEmulator, path: Path, email: str = ORGANIZER) -> Path:
    """The emulator's installed-app token file, recorded as ``email``'s sign-in."""
    emu.write_authorized_user_file(path, email, scopes=list(SCOPES))
    data = json.loads(path.read_text())
    data[TOKEN_EMAIL_KEY] = email
    path.write_text(json.dumps(data))
    return path


def test_service_account_gets_a_token_as_the_person_from_the_emulator(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    key_file = emu.write_service_account_key(tmp_path / "sa.json")
    credentials: Any = credentials_for(GoogleSettings(service_account_file=key_file), REP)
    credentials.refresh(Request())
    assert credentials.valid and credentials.token
    assert emu.counts["oauth.token"] == 1


def test_denied_delegation_from_the_emulator_names_client_id_and_scopes(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    key_file = emu.write_service_account_key(tmp_path / "sa.json")
    emu.deny_delegation(REP)
    settings = GoogleSettings(service_account_file=key_file)
    with pytest.raises(AuthError) as caught:
        credentials_for(settings, REP).refresh(Request())
    message = str(caught.value)
    client_id = emu.service_account_client_id()
    assert f"lacks domain-wide delegation for client id {client_id}" in message
    assert ",".join(SCOPES) in message
    assert "Manage domain-wide delegation" in message
    assert json.loads(key_file.read_text())["private_key"].splitlines()[1] not in message
    # Everyone else is still reached.
    credentials_for(settings, ORGANIZER).refresh(Request())


def test_person_outside_the_workspace_from_the_emulator(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    key_file = emu.write_service_account_key(tmp_path / "sa.json")
    stranger = "nobody@acme.example"
    with pytest.raises(AuthError) as caught:
        credentials_for(GoogleSettings(service_account_file=key_file), stranger).refresh(Request())
    assert f"check that {stranger} is a user of your Google Workspace" in str(caught.value)


def test_organizer_token_is_renewed_by_the_emulator_and_saved_back(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    token_file = organizer_token_file(emu, tmp_path / "google-token.json")
    credentials: Any = credentials_for(GoogleSettings(token_file=token_file), ORGANIZER)
    credentials.refresh(Request())
    first = credentials.token
    assert json.loads(token_file.read_text())["token"] == first
    emu.expire_access_tokens()
    credentials.refresh(Request())
    saved = json.loads(token_file.read_text())
    assert saved["token"] == credentials.token != first
    assert saved["token_uri"] == emu.url + "token"
    assert saved[TOKEN_EMAIL_KEY] == ORGANIZER
    assert mode(token_file) == 0o600


def test_revoked_organizer_token_from_the_emulator_says_sign_in_again(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    token_file = organizer_token_file(emu, tmp_path / "google-token.json")
    data = json.loads(token_file.read_text())
    data["refresh_token"] = "1//revoked"
    token_file.write_text(json.dumps(data))
    with pytest.raises(AuthError) as caught:
        credentials_for(GoogleSettings(token_file=token_file), ORGANIZER).refresh(Request())
    message = str(caught.value)
    assert "invalid_grant" in message
    assert f"run `oneonone auth google --email {ORGANIZER}` again" in message
    assert "1//revoked" not in message and data["client_secret"] not in message


def sign_in_in_background(
    client_file: Path, token_file: Path, urls: queue.Queue[str]
) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def sign_in() -> None:
        try:
            outcome["email"] = run_installed_app_flow(
                client_file,
                token_file,
                email=ORGANIZER,
                open_browser=False,
                port=0,
                on_url=urls.put,
                timeout_seconds=30,
            )
        except BaseException as error:  # handed to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=sign_in, name="oneonone-sign-in")
    thread.start()
    return thread, outcome


def test_installed_app_flow_end_to_end(
    emu: GoogleEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    caplog.set_level(logging.INFO)
    client_file = emu.write_oauth_client_file(tmp_path / "client.json")
    token_file = tmp_path / "data" / "google-token.json"
    urls: queue.Queue[str] = queue.Queue()
    thread, outcome = sign_in_in_background(client_file, token_file, urls)
    try:
        address = urls.get(timeout=10)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(address).query)
        assert address.startswith(emu.url + "o/oauth2/auth?")
        assert query["scope"][0].split() == list(SCOPES)
        assert query["login_hint"] == [ORGANIZER]
        assert query["access_type"] == ["offline"]
        redirect = query["redirect_uri"][0]
        assert redirect.startswith("http://127.0.0.1:")
        # The browser's part: Google redirects back with a code and the state it was given.
        code = emu.issue_authorization_code(ORGANIZER)
        answer = urllib.parse.urlencode({"code": code, "state": query["state"][0]})
        with urllib.request.urlopen(f"{redirect}?{answer}", timeout=10) as page:
            assert b"signed in" in page.read()
    finally:
        thread.join(timeout=30)
    assert outcome == {"email": ORGANIZER}
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
    # The redirect's request line, which carries the code, is not logged.
    assert code not in caplog.text and urllib.parse.quote(code, safe="") not in caplog.text
    saved = json.loads(token_file.read_text())
    assert saved[TOKEN_EMAIL_KEY] == ORGANIZER
    assert saved["token_uri"] == emu.url + "token"
    assert saved["refresh_token"].startswith("1//")
    assert mode(token_file) == 0o600
    # The saved sign-in works: an expired access token is renewed through the emulator.
    credentials: Any = credentials_for(GoogleSettings(token_file=token_file), ORGANIZER)
    emu.expire_access_tokens()
    credentials.refresh(Request())
    assert credentials.valid


def test_installed_app_flow_with_the_emulators_consent_screen(
    emu: GoogleEmulator, tmp_path: Path
) -> None:
    """The whole browser round trip: the emulator consents and redirects (PKCE checked)."""
    client_file = emu.write_oauth_client_file(tmp_path / "client.json")
    token_file = tmp_path / "google-token.json"
    urls: queue.Queue[str] = queue.Queue()
    thread, outcome = sign_in_in_background(client_file, token_file, urls)
    try:
        with urllib.request.urlopen(urls.get(timeout=10), timeout=10) as page:
            assert b"signed in" in page.read()
    finally:
        thread.join(timeout=30)
    assert outcome == {"email": ORGANIZER}
    assert json.loads(token_file.read_text())[TOKEN_EMAIL_KEY] == ORGANIZER


def test_a_refused_sign_in_is_a_plain_sentence(emu: GoogleEmulator, tmp_path: Path) -> None:
    client_file = emu.write_oauth_client_file(tmp_path / "client.json")
    token_file = tmp_path / "google-token.json"
    urls: queue.Queue[str] = queue.Queue()
    thread, outcome = sign_in_in_background(client_file, token_file, urls)
    try:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(urls.get(timeout=10)).query)
        answer = urllib.parse.urlencode({"code": "4/0Aforged", "state": query["state"][0]})
        with urllib.request.urlopen(f"{query['redirect_uri'][0]}?{answer}", timeout=10):
            pass
    finally:
        thread.join(timeout=30)
    error = outcome["error"]
    assert isinstance(error, UserError)
    assert "signing in to Google failed" in str(error) and "4/0Aforged" not in str(error)
    assert not token_file.exists()


def test_oneonone_auth_google_end_to_end(
    emu: GoogleEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu.write_oauth_client_file(tmp_path / "client.json")
    config = org_file(tmp_path, 'oauth_client_file = "client.json"')
    visits: list[threading.Thread] = []

    def browser(url: str, new: int = 0, autoraise: bool = True) -> bool:
        # A browser that follows Google's (the emulator's) redirect back to oneonone.
        def visit() -> None:
            with urllib.request.urlopen(url, timeout=10) as page:
                page.read()

        visits.append(threading.Thread(target=visit))
        visits[-1].start()
        return True

    monkeypatch.setattr("webbrowser.open", browser)
    code = main(["auth", "google", "--config", str(config)])
    for visit in visits:
        visit.join(timeout=10)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"Sign in to Google as {ORGANIZER}" in out
    token_file = tmp_path / "data" / "google-token.json"
    assert f"saved the Google sign-in of {ORGANIZER} to {token_file}" in out
    assert mode(token_file) == 0o600
    saved = json.loads(token_file.read_text())
    assert saved["refresh_token"] not in out + err and saved["token"] not in out + err
