"""Google credentials: whom oneonone acts as, with which scopes, and the organizer's token file.

Two ways to sign in (``[google]`` in the org file, ``GoogleSettings``):

- **A service account with domain-wide delegation** (``service_account_file``): one key acts as
  every person in the Workspace (``with_subject(email)``). Tokens are asked for at the key
  file's own ``token_uri``, so an emulator's key file sends them to the emulator.
- **A single organizer's installed-app sign-in** (``token_file``, written by
  ``oneonone auth google`` through ``run_installed_app_flow``): reaches only the calendar of
  the person who signed in, whose e-mail the file records under ``oneonone_email``. Any other
  person is told they need the service account.

``credentials_for(settings, email)`` gives a person's credentials, cached per process. Their
``refresh`` turns Google's refusals (``RefreshError``) into ``AuthError`` sentences that say
what to do: ``unauthorized_client`` names the client id and scopes a Workspace admin must
delegate, ``invalid_grant`` on the token file says to sign in again. Network errors are left
as ``TransportError`` for the API client's retry loop. A renewed organizer token is saved back
to the token file at once.

The token file is a secret: it is written 0600 through a temp file and an atomic rename
(``scheduler.store.files``), and one found readable by others is tightened to 0600 with a
warning. Nothing here logs or prints a token, a refresh token or a private key.

I/O: reads the key and token files, writes the token file, and the installed-app flow listens
on 127.0.0.1 and talks to the OAuth client's ``token_uri``.

Exports: SCOPES, TOKEN_EMAIL_KEY, credentials_for, clear_cache, load_service_account_key,
read_token_file, token_owner, run_installed_app_flow.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import stat
import threading
import urllib.parse
import webbrowser
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import google.auth.credentials
import google.oauth2.credentials
from google.auth.exceptions import RefreshError
from google.auth.transport import Request
from google.oauth2 import service_account

from scheduler.errors import AuthError, CalendarError, TransientError, UserError
from scheduler.store.files import write_atomically

if TYPE_CHECKING:
    from scheduler.orgfile import GoogleSettings

__all__ = [
    "SCOPES",
    "TOKEN_EMAIL_KEY",
    "clear_cache",
    "credentials_for",
    "load_service_account_key",
    "read_token_file",
    "run_installed_app_flow",
    "token_owner",
]

log = logging.getLogger(__name__)

#: The least oneonone needs (https://developers.google.com/workspace/calendar/api/auth and
#: https://developers.google.com/workspace/drive/api/guides/api-specific-auth); nothing broader.
SCOPES: tuple[str, ...] = (
    # Create and change events on calendars the person owns: the 1:1 series on the manager's
    # calendar, make-ups, reading their own events back. Not other people's calendars, not
    # calendar settings or sharing ("calendar" or "calendar.events" would allow those).
    "https://www.googleapis.com/auth/calendar.events.owned",
    # Free/busy of calendars the person can see, without their events' details: one query
    # asks for the busy time of several people at once when placing a 1:1.
    "https://www.googleapis.com/auth/calendar.events.freebusy",
    # Only files oneonone itself created (the agendas), never the rest of anyone's Drive.
    "https://www.googleapis.com/auth/drive.file",
)

#: The key under which the token file records whose sign-in it holds.
TOKEN_EMAIL_KEY = "oneonone_email"

#: Google's token endpoint, for token files that do not name one.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"

_KEY_FIELDS = ("client_email", "client_id", "private_key", "token_uri")
_TOKEN_FIELDS = ("refresh_token", "client_id", "client_secret")
_DELEGATION_PLACE = (
    "Admin console › Security › Access and data control › API controls › "
    "Manage domain-wide delegation"
)


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class _Context:
    """What a refusal message needs to say who, which file and what to do."""

    email: str
    file: Path
    service_account: str = ""  # empty: the organizer's token file
    client_id: str = ""


def _error_code(error: RefreshError) -> tuple[str, str]:
    """(OAuth error code, description) of a token endpoint's refusal, as far as known."""
    data = error.args[1] if len(error.args) > 1 else None
    if isinstance(data, Mapping):
        return str(data.get("error") or ""), str(data.get("error_description") or "")
    text = str(error.args[0]) if error.args else ""
    code, colon, rest = text.partition(":")
    if colon and code.strip().replace("_", "").isalpha():
        return code.strip(), rest.strip()
    return "", text.strip()


def _refusal(error: RefreshError, context: _Context) -> CalendarError:
    code, description = _error_code(error)
    # The description is the token endpoint's own text (never a token); keep it short.
    detail = code or (description.splitlines()[0][:160] if description else "refused")
    email, file = context.email, context.file
    if error.retryable:
        return TransientError(
            f"{email}: Google's token service is not answering properly ({detail}); the next "
            "pass tries again"
        )
    if context.service_account:
        if code == "unauthorized_client":
            return AuthError(
                f"{email}: Google does not let the service account {context.service_account} "
                f"act as {email} (unauthorized_client): the account lacks domain-wide delegation "
                f"for client id {context.client_id} and oneonone's scopes; a Workspace admin "
                f"must add client id {context.client_id} with the scopes {','.join(SCOPES)} in "
                f"{_DELEGATION_PLACE}"
            )
        if code == "invalid_grant":
            why = f": {description[:160]}" if description else ""
            return AuthError(
                f"{email}: Google refused the service account {context.service_account} "
                f"acting as {email} (invalid_grant{why}); check that {email} is a user of your "
                f"Google Workspace, that the key in {file} has not been deleted, and that this "
                "computer's clock is right"
            )
        return AuthError(
            f"{email}: Google refused a token for the service account "
            f"{context.service_account} acting as {email} ({detail}); check the key in {file} "
            f"and its domain-wide delegation in {_DELEGATION_PLACE}"
        )
    if code == "invalid_grant":
        return AuthError(
            f"{email}: the Google sign-in saved in {file} no longer works (invalid_grant: it "
            f"expired or was revoked); run `oneonone auth google --email {email}` again"
        )
    return AuthError(
        f"{email}: Google refused to renew the sign-in saved in {file} ({detail}); run "
        f"`oneonone auth google --email {email}` again"
    )


# --------------------------------------------------------------------------- credentials


class _Refusals:
    """What both kinds of credentials add: Google's refusals leave as ``AuthError`` (or
    ``TransientError``) naming the person, and copies (``with_subject``, ``with_scopes``, ...)
    keep the context that says whom they are for."""

    _oneonone: _Context | None = None

    def _make_copy(self) -> Any:
        copy = super()._make_copy()  # type: ignore[misc]
        copy._oneonone = self._oneonone
        return copy

    def refresh(self, request: Request) -> None:
        try:
            super().refresh(request)  # type: ignore[misc]
        except RefreshError as error:
            if self._oneonone is None:
                raise
            raise _refusal(error, self._oneonone) from error


class _DelegatedCredentials(_Refusals, service_account.Credentials):
    """A service account acting as one person."""


class _TokenFileCredentials(_Refusals, google.oauth2.credentials.Credentials):
    """The organizer's own sign-in; a renewed token is saved back to the token file."""

    def refresh(self, request: Request) -> None:
        super().refresh(request)
        if self._oneonone is not None:
            try:
                _write_token(self._oneonone.file, self, self._oneonone.email)
            except OSError as error:
                # The renewed token still works in this process; the next one renews again.
                log.warning(
                    "cannot save the renewed Google sign-in of %s to %s (%s)",
                    self._oneonone.email,
                    self._oneonone.file,
                    error.strerror,
                )


_cache: dict[tuple[GoogleSettings, str], google.auth.credentials.Credentials] = {}
_cache_lock = threading.Lock()
_write_lock = threading.Lock()


def credentials_for(settings: GoogleSettings, email: str) -> google.auth.credentials.Credentials:
    """The credentials oneonone uses to act as ``email``, cached per process.

    The service account when ``service_account_file`` is set, else the organizer's token file,
    which serves only the person it was made for. Raises ``CalendarError`` with a sentence
    saying what to set up; a refusal by Google comes later, from ``refresh``, as ``AuthError``.
    """
    email = email.strip().lower()
    with _cache_lock:
        found = _cache.get((settings, email))
        if found is None:
            found = _cache[(settings, email)] = _make_credentials(settings, email)
        return found


def clear_cache() -> None:
    """Forget every cached credential (after a new sign-in, and between tests)."""
    with _cache_lock:
        _cache.clear()
        _accounts.clear()


def _make_credentials(settings: GoogleSettings, email: str) -> google.auth.credentials.Credentials:
    if settings.service_account_file is not None:
        path = settings.service_account_file
        try:
            base, info = _service_account(path)
        except CalendarError as error:
            raise CalendarError(f"{email}: {error}") from None
        # Domain-wide delegation: the token is asked for as the person ("sub" in the JWT).
        delegated: _DelegatedCredentials = base.with_subject(email)  # type: ignore[no-untyped-call]
        delegated._oneonone = _Context(
            email, path, service_account=str(info["client_email"]), client_id=str(info["client_id"])
        )
        return delegated
    path = settings.token_file
    try:
        token = read_token_file(path)
    except CalendarError as error:
        raise CalendarError(f"{email}: {error}") from None
    if token is None:
        raise CalendarError(
            f"{email}: no Google credentials: set [google] service_account_file to a service "
            "account key with domain-wide delegation, or run `oneonone auth google --email "
            f"{email}` to sign in a single organizer (it writes {path})"
        )
    owner = token_owner(token)
    if owner != email:
        raise CalendarError(
            f"{email}: the Google sign-in in {path} is for {owner} only, so oneonone cannot "
            f"reach the calendar of {email}; set [google] service_account_file to a service "
            "account key with domain-wide delegation to reach everyone's calendar"
        )
    return _token_credentials(token, path, email)


_accounts: dict[Path, tuple[_DelegatedCredentials, dict[str, Any]]] = {}


def _service_account(path: Path) -> tuple[_DelegatedCredentials, dict[str, Any]]:
    """The service account of the key at ``path``, read once per process: reading an RSA
    private key takes about 0.1 s, which for every person of a large org would be minutes."""
    found = _accounts.get(path)
    if found is None:
        info = load_service_account_key(path)
        base = _DelegatedCredentials.from_service_account_info(info, scopes=list(SCOPES))  # type: ignore[no-untyped-call]
        found = _accounts[path] = (base, info)
    return found


def load_service_account_key(path: Path) -> dict[str, Any]:
    """The parsed JSON key of a service account; ``CalendarError`` saying what is wrong.

    Also makes sure its private key can be read, so ``oneonone check`` catches a broken key.
    """
    fresh = (
        "create a JSON key for the service account in Google Cloud console › IAM & Admin › "
        "Service accounts › Keys"
    )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CalendarError(f"{path} does not exist; {fresh}, or fix the path") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise CalendarError(f"{path} cannot be read ({reason}); check the file") from None
    try:
        info = json.loads(text)
    except ValueError:
        info = None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise CalendarError(
            f'{path} is not a service account key (a JSON file with "type": "service_account"); '
            f"{fresh}"
        )
    missing = [field for field in _KEY_FIELDS if not info.get(field)]
    if missing:
        raise CalendarError(f"{path} lacks {', '.join(missing)}; {fresh}")
    try:
        service_account.Credentials.from_service_account_info(info)  # type: ignore[no-untyped-call]
    except (ValueError, TypeError):
        # Never repeat the library's text here: it could quote part of the key.
        raise CalendarError(f"{path} holds a private key that cannot be read; {fresh}") from None
    return info


# --------------------------------------------------------------------------- the token file


def read_token_file(path: Path) -> dict[str, Any] | None:
    """The organizer's saved sign-in, or None when there is no file.

    A file that others can read is made 0600 first, with a warning. ``CalendarError`` when the
    file cannot be read or is not a sign-in saved by ``oneonone auth google``.
    """
    again = "run `oneonone auth google --email EMAIL` again"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CalendarError(f"{path} cannot be read ({error.strerror}); {again}") from None
    if stat.S_ISREG(mode) and mode & 0o077:
        try:
            os.chmod(path, 0o600)
        except OSError as error:
            log.warning(
                "the Google token file %s can be read by other users and cannot be made "
                "private (%s); run `chmod 600 %s`",
                path,
                error.strerror,
                path,
            )
        else:
            log.warning(
                "the Google token file %s could be read by other users (mode %o); it is now "
                "0600, readable by its owner only",
                path,
                stat.S_IMODE(mode),
            )
    try:
        token = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        token = None
    if (
        not isinstance(token, dict)
        or any(not isinstance(token.get(field), str) for field in _TOKEN_FIELDS)
        or token_owner(token) is None
    ):
        raise CalendarError(f"{path} is not a sign-in saved by `oneonone auth google`; {again}")
    return token


def token_owner(token: Mapping[str, Any]) -> str | None:
    """The e-mail (lowercase) a token file was made for, or None when it names none."""
    owner = token.get(TOKEN_EMAIL_KEY)
    return owner.strip().lower() if isinstance(owner, str) and owner.strip() else None


def _token_credentials(token: Mapping[str, Any], path: Path, email: str) -> _TokenFileCredentials:
    # Built by hand: Credentials.from_authorized_user_info always sends refreshes to Google's
    # own endpoint, whatever token_uri the file names (an emulator's, a proxy's).
    expiry: datetime | None = None
    if isinstance(token.get("expiry"), str):
        with contextlib.suppress(ValueError):
            expiry = datetime.strptime(
                token["expiry"].rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S"
            )
    if expiry is None or not token.get("token"):
        # Unknown age: treat the access token as spent so the first request renews it.
        expiry = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
    scopes = token.get("scopes")
    credentials = _TokenFileCredentials(  # type: ignore[no-untyped-call]
        token=token.get("token") or None,
        refresh_token=token["refresh_token"],
        token_uri=token.get("token_uri") or GOOGLE_TOKEN_URI,
        client_id=token["client_id"],
        client_secret=token["client_secret"],
        scopes=list(scopes) if isinstance(scopes, list) and scopes else list(SCOPES),
        expiry=expiry,
    )
    credentials._oneonone = _Context(email, path)
    return credentials


def _write_token(
    path: Path, credentials: google.oauth2.credentials.Credentials, email: str
) -> None:
    """Save a sign-in: 0600 from the start (a temp file made 0600, renamed into place)."""
    data = json.loads(credentials.to_json())  # type: ignore[no-untyped-call]
    data[TOKEN_EMAIL_KEY] = email
    with _write_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


# --------------------------------------------------------------------------- oneonone auth google


def run_installed_app_flow(
    client_file: Path,
    token_file: Path,
    *,
    email: str,
    open_browser: bool,
    port: int = 0,
    on_url: Callable[[str], None] | None = None,
    timeout_seconds: float | None = None,
) -> str:
    """Sign ``email`` in through the browser and save the sign-in to ``token_file``.

    Google's answer comes to a one-request server on ``127.0.0.1:port`` (0: any free port).
    ``on_url`` is told the sign-in address (default: printed), which is opened in a browser
    when ``open_browser``. Returns the e-mail the file is saved for. ``UserError`` with a
    sentence for everything that can go wrong (no client file, port taken, refusal, no answer).

    Google does not say whose account signed in without one more scope (``openid email``), so
    the file records the ``email`` given, and the address asks the browser for that account.
    """
    from google_auth_oauthlib.flow import InstalledAppFlow, WSGITimeoutError

    email = email.strip().lower()
    key = "google.oauth_client_file"
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_file), scopes=list(SCOPES))
    except FileNotFoundError:
        raise UserError(
            f"{key}: {client_file} does not exist; download the OAuth client (type Desktop app) "
            "from Google Cloud console › APIs & Services › Credentials to that path"
        ) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(
            f"{key}: {client_file} is not the JSON of an OAuth client of type Desktop app; "
            "download it again from Google Cloud console › APIs & Services › Credentials"
        ) from None
    token_uri = str(flow.client_config.get("token_uri") or GOOGLE_TOKEN_URI)
    auth_uri = str(flow.client_config.get("auth_uri") or "")

    def tell(url: str) -> None:
        (on_url or _print_url)(url)
        if open_browser:
            with contextlib.suppress(webbrowser.Error):
                webbrowser.open(url, new=1, autoraise=True)

    original = flow.authorization_url

    def authorization_url(**kwargs: Any) -> tuple[str, str]:
        # run_local_server builds the address (with its redirect port and state) here; this
        # is the one place to learn it, so the user is told it here too.
        url, state = original(**kwargs)
        tell(url)
        return url, state

    flow.authorization_url = authorization_url
    try:
        with _loopback_http_allowed(auth_uri, token_uri), _quiet("google_auth_oauthlib.flow"):
            credentials = flow.run_local_server(
                host="127.0.0.1",
                bind_addr="127.0.0.1",
                port=port,
                open_browser=False,
                authorization_prompt_message=None,
                success_message="oneonone is signed in to Google. You may close this window.",
                timeout_seconds=timeout_seconds,
                # A refresh token every time, and the right account picked in the browser.
                prompt="consent",
                login_hint=email,
            )
    except WSGITimeoutError:
        raise UserError(
            "no answer came from the browser in time; run `oneonone auth google` again and "
            "finish signing in"
        ) from None
    except Warning as warning:
        # oauthlib raises "Scope has changed" when the user unticked a permission.
        raise UserError(
            f"Google granted fewer permissions than oneonone needs ({_short(warning)}); run "
            "`oneonone auth google` again and allow every one asked for"
        ) from None
    except Exception as error:
        problem = _flow_problem(error, port, token_uri)
        if problem is None:
            raise
        raise UserError(problem) from None
    if not credentials.refresh_token:
        raise UserError(
            "Google gave no refresh token, so the sign-in would stop working within an hour; "
            "remove oneonone's access at https://myaccount.google.com/permissions and run "
            "`oneonone auth google` again"
        )
    try:
        _write_token(token_file, credentials, email)
    except OSError as error:
        raise UserError(
            f"google.token_file: cannot write {token_file} ({error.strerror}); make its folder "
            "writable or set token_file somewhere writable"
        ) from None
    clear_cache()
    return email


def _flow_problem(error: Exception, port: int, token_uri: str) -> str | None:
    """The sentence for what went wrong in the installed-app flow; None: not ours to explain."""
    package = type(error).__module__.split(".")[0]
    if package in ("requests", "urllib3"):
        # Checked before OSError: requests' connection errors are OSErrors too.
        return (
            f"cannot reach Google's token service at {token_uri} ({type(error).__name__}); "
            "check the network and run `oneonone auth google` again"
        )
    if package == "oauthlib":
        # The OAuth2Error family: access_denied, invalid_grant, a state that does not match.
        return f"signing in to Google failed ({_short(error)}); run `oneonone auth google` again"
    if isinstance(error, OSError):
        return (
            f"cannot listen on 127.0.0.1:{port} for Google's answer ({error.strerror}); pass "
            "another --port, or --port 0 for any free one"
        )
    return None


def _print_url(url: str) -> None:
    print(f"Open this address in a browser and sign in:\n\n    {url}\n", flush=True)


def _short(error: BaseException) -> str:
    description = getattr(error, "description", None) or getattr(error, "error", None)
    text = str(description or error).strip() or type(error).__name__
    return text.splitlines()[0][:160]


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Keep a logger below INFO for a while: google_auth_oauthlib logs the redirect's request
    line at INFO, and that line carries the authorization code."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _is_loopback_http(uri: str) -> bool:
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != "http":
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def _loopback_http_allowed(*uris: str) -> Iterator[None]:
    """Let oauthlib use plain-http OAuth endpoints when they are on this machine (an emulator).

    oauthlib refuses any endpoint that is not https unless OAUTHLIB_INSECURE_TRANSPORT is set;
    a loopback address never leaves the machine, so it is allowed for the flow's duration when
    every plain-http endpoint is one. Anything else stays refused.
    """
    plain = [uri for uri in uris if uri.lower().startswith("http:")]
    if (
        not plain
        or not all(_is_loopback_http(uri) for uri in plain)
        or "OAUTHLIB_INSECURE_TRANSPORT" in os.environ
    ):
        yield
        return
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        yield
    finally:
        os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
