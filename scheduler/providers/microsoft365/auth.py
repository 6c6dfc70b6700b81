"""App-only sign-in to Microsoft Graph: client credentials through ``msal``.

One ``ConfidentialClientApplication`` per app registration and process; msal keeps the token
in its in-memory cache and ``acquire_token_for_client`` answers from it until it nears its
expiry, then asks the token endpoint again (so a daemon signs in about once an hour). The
secret is read from the environment variable named by ``[microsoft365] client_secret_env`` and
nowhere else, and appears in no message or log; a certificate (``certificate_file``, a PEM with
the private key and the certificate) is the other way.

``authority`` and ``ca_file`` point msal elsewhere (an emulator, a proxy). msal talks through
``requests``; a plain ``Session.verify`` loses to ``REQUESTS_CA_BUNDLE`` in requests' merge of
the environment (psf/requests#3829), so the session here passes ``verify`` on every request.
Instance discovery is off: it asks login.microsoftonline.com about any other authority host.

Exports: ``TokenSource``, ``token_source``, ``clear_cache``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

import msal
import requests

from scheduler.domain.settings import Microsoft365Settings
from scheduler.errors import AuthError, TransientError

__all__ = ["SCOPE", "TokenSource", "clear_cache", "token_source"]

#: app-only tokens ask for the app's granted application permissions as a whole
SCOPE = "https://graph.microsoft.com/.default"

TokenSource = Callable[[], str]

_APPS: dict[tuple[Any, ...], msal.ConfidentialClientApplication] = {}
_LOCK = threading.Lock()


class _VerifyingSession(requests.Session):
    """A session whose ``verify`` is used on every request, whatever the environment says."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


def clear_cache() -> None:
    """Forget every app and its tokens (tests that start a fresh emulator)."""
    with _LOCK:
        _APPS.clear()


def _credential(settings: Microsoft365Settings, env: Mapping[str, str]) -> Any:
    if settings.certificate_file is not None:
        try:
            pem = settings.certificate_file.read_text()
        except OSError as error:
            raise AuthError(
                f"cannot read the Microsoft 365 certificate_file {settings.certificate_file}: "
                f"{error.strerror}"
            ) from error
        from cryptography import x509

        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
        except ValueError as error:
            raise AuthError(
                f"{settings.certificate_file} holds no PEM certificate; it must hold the app's "
                "private key and its certificate"
            ) from error
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError) as error:
            # Named, never shown: the file's text is a secret.
            raise AuthError(
                f"{settings.certificate_file} holds no unencrypted private key; it must hold "
                "the app's private key (PEM, without a passphrase) and its certificate"
            ) from error
        # msal's "thumbprint" is the certificate's SHA-1 fingerprint (what the app registration
        # shows for an uploaded certificate); msal then signs the client assertion RS256 with
        # the thumbprint in its ``x5t`` header and the certificate in ``x5c``. (msal 1.35+
        # takes the certificate alone and signs PS256 with ``x5t#S256``; the pin is 1.28.)
        thumbprint = certificate.fingerprint(_sha1())
        return {"private_key": pem, "thumbprint": thumbprint.hex(), "public_certificate": pem}
    variable = settings.client_secret_env
    secret = env.get(variable, "") if variable else ""
    if not secret:
        raise AuthError(
            f"the Microsoft 365 client secret is read from the environment variable "
            f"{variable or '(none named in [microsoft365] client_secret_env)'}, which is not "
            "set; set it to the app registration's client secret value"
        )
    return secret


def _sha1() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA1()  # a certificate's thumbprint, not a signature


def token_source(
    settings: Microsoft365Settings, env: Mapping[str, str] | None = None
) -> TokenSource:
    """A function giving a valid access token for Graph (cached by msal, refreshed near its
    expiry); it raises ``AuthError`` with a sentence when the sign-in is refused, and
    ``TransientError`` when the token endpoint cannot be reached."""
    environ = os.environ if env is None else env

    def app() -> msal.ConfidentialClientApplication:
        credential = _credential(settings, environ)
        key = (settings, repr(credential) if isinstance(credential, dict) else hash(credential))
        with _LOCK:
            found = _APPS.get(key)
            if found is None:
                session = _VerifyingSession()
                session.verify = str(settings.ca_file) if settings.ca_file else True
                try:
                    found = msal.ConfidentialClientApplication(
                        settings.client_id,
                        client_credential=credential,
                        authority=settings.authority_url,
                        http_client=session,
                        instance_discovery=False,
                    )
                except ValueError as error:
                    raise AuthError(
                        f"Microsoft 365 sign-in: {settings.authority_url} is not an authority "
                        f"msal accepts ({error}); set [microsoft365] authority to "
                        "https://login.microsoftonline.com/<tenant_id>"
                    ) from error
                except requests.RequestException as error:
                    raise TransientError(
                        f"Microsoft 365 sign-in: cannot reach {settings.authority_url} "
                        f"({type(error).__name__})"
                    ) from error
                _APPS[key] = found
            return found

    def token() -> str:
        try:
            answer = app().acquire_token_for_client(scopes=[SCOPE])
        except requests.RequestException as error:
            raise TransientError(
                f"Microsoft 365 sign-in: cannot reach {settings.authority_url} "
                f"({type(error).__name__})"
            ) from error
        if "access_token" in answer:
            return str(answer["access_token"])
        code = str(answer.get("error", "error"))
        detail = str(answer.get("error_description", "")).split("\r\n")[0].split(" Trace ID")[0]
        how = (
            f"check that {settings.client_secret_env} holds the current client secret VALUE "
            "of the app registration"
            if settings.certificate_file is None
            else f"check that {settings.certificate_file} is the certificate uploaded to the "
            "app registration"
        )
        raise AuthError(
            f"Microsoft 365 refused the sign-in of app {settings.client_id} in tenant "
            f"{settings.tenant_id} ({code}: {detail}); {how}"
        )

    return token
