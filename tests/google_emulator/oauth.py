"""Google's OAuth 2.0 token endpoint (``POST /token``) and a consenting authorization endpoint.

Grants, as Google documents them:

- ``urn:ietf:params:oauth:grant-type:jwt-bearer`` for service accounts, with domain-wide
  delegation through ``sub`` ("Using OAuth 2.0 for Server to Server Applications",
  https://developers.google.com/identity/protocols/oauth2/service-account, "Preparing to make
  an authorized API call" / "Forming the JWT"): header ``{"alg":"RS256","typ":"JWT"}`` with
  the key id in ``kid``; claims ``iss`` (the service account's e-mail), ``scope``
  (space-delimited), ``aud`` (``https://oauth2.googleapis.com/token``; google-auth sends that
  even when the key file's ``token_uri`` is elsewhere, so this endpoint accepts it and its own
  URI), ``exp`` ("a maximum of 1 hour after the issued time"), ``iat``, and optional ``sub``
  (the user to act as).  The signature is RS256 over ``base64url(header).base64url(claims)``
  and is checked against the public half of the key this emulator generated.  Google's
  refusals: ``invalid_grant`` "Invalid JWT Signature.", "Invalid JWT: Token must be a
  short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values
  in the JWT claim.", ``unauthorized_client`` "Client is unauthorized to retrieve access
  tokens using this method, or client not authorized for any of the scopes requested." when
  the Workspace admin has not allowed the client id and scopes for delegation (same page,
  "Delegating domain-wide authority to the service account").
- ``refresh_token`` ("Refreshing an access token (offline access)",
  https://developers.google.com/identity/protocols/oauth2/native-app#offline): an unknown or
  revoked token answers ``invalid_grant`` "Token has been expired or revoked.".
- ``authorization_code`` with PKCE ("OAuth 2.0 for iOS & Desktop Apps", same page, steps 1-5):
  the code is exchanged once for an access and a refresh token; the client may authenticate
  with ``client_secret`` in the form or with HTTP Basic (RFC 6749 section 2.3.1).

Access tokens live 3599 seconds (Google's ``expires_in``); each maps to (user, scopes, client).
``GET /o/oauth2/auth`` is a browser that always consents: it redirects to ``redirect_uri``
with a fresh code (and ``state``), for flows such as google-auth-oauthlib's
``InstalledAppFlow.run_local_server``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import OAuthError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_LIFETIME = 3599
#: How far iat may lie in the future / a JWT may be stale, like Google's clock-skew slack.
CLOCK_SKEW = 300

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
FULL_SCOPES = (CALENDAR_SCOPE, DRIVE_SCOPE)

#: ``aud`` values Google's token endpoint accepts: the documented one ("The value of this
#: claim is always https://oauth2.googleapis.com/token", service-account page) and the older
#: endpoints.  google-auth sends the first whatever the key file's ``token_uri`` is, so the
#: emulator accepts these besides its own token URI.
GOOGLE_AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
)

DENIED = (
    "Client is unauthorized to retrieve access tokens using this method, or client not "
    "authorized for any of the scopes requested."
)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class ServiceAccount:
    email: str
    client_id: str
    #: private_key_id -> public key
    keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str


@dataclass
class Grant:
    """What a token stands for: a person (or a service account), scopes, and the app."""

    user: str
    scopes: frozenset[str]
    client_id: str
    #: tokens of the emulator's own console (``emu.service``) are exempt from faults and counts
    console: bool = False


@dataclass
class AccessToken:
    grant: Grant
    expires: float


@dataclass
class PendingCode:
    grant: Grant
    redirect_uri: str | None
    challenge: str | None
    method: str | None
    expires: float
    #: answer with the granted ``scope`` (oauthlib compares it with what it asked for)
    with_scope: bool = True


class OAuthServer:
    """Keys, clients and tokens; every method is called under the emulator's lock."""

    def __init__(self, token_uri: str) -> None:
        self.token_uri = token_uri
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.clients: dict[str, OAuthClient] = {}
        self.denied: set[str] = set()
        self.tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.codes: dict[str, PendingCode] = {}
        self.users: set[str] = set()

    # ----------------------------------------------------------------- set-up

    def new_service_account_key(self, client_email: str) -> dict[str, Any]:
        """A fresh RSA key for ``client_email``, as the JSON Google Cloud console downloads."""
        account = self.service_accounts.get(client_email)
        if account is None:
            account = ServiceAccount(client_email, str(10**20 + secrets.randbelow(9 * 10**20)))
            self.service_accounts[client_email] = account
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_id = secrets.token_hex(20)
        account.keys[key_id] = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        host = client_email.partition("@")[2]
        project = host.split(".", 1)[0] if host.endswith("iam.gserviceaccount.com") else "demo"
        return {
            "type": "service_account",
            "project_id": project,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": client_email,
            "client_id": account.client_id,
            "auth_uri": self.token_uri.rsplit("/", 1)[0] + "/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + client_email.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }

    def client(self, client_id: str | None = None) -> OAuthClient:
        """An installed-app OAuth client (one by default)."""
        if client_id is None:
            client_id = "1234567890-oneonone.apps.googleusercontent.com"
        found = self.clients.get(client_id)
        if found is None:
            found = OAuthClient(client_id, "GOCSPX-" + secrets.token_urlsafe(21))
            self.clients[client_id] = found
        return found

    def issue_refresh_token(self, grant: Grant) -> str:
        token = "1//" + secrets.token_urlsafe(48)
        self.refresh_tokens[token] = grant
        return token

    def issue_access_token(self, grant: Grant) -> str:
        token = "ya29." + secrets.token_urlsafe(48)
        self.tokens[token] = AccessToken(grant, time.time() + TOKEN_LIFETIME)
        return token

    def issue_code(
        self,
        grant: Grant,
        redirect_uri: str | None = None,
        challenge: str | None = None,
        method: str | None = None,
        *,
        with_scope: bool = True,
    ) -> str:
        code = "4/0A" + secrets.token_urlsafe(40)
        self.codes[code] = PendingCode(
            grant, redirect_uri, challenge, method, time.time() + 600, with_scope
        )
        return code

    def expire_access_tokens(self) -> None:
        for token in self.tokens.values():
            if not token.grant.console:
                token.expires = 0.0

    def lookup(self, token: str) -> Grant | None:
        found = self.tokens.get(token)
        if found is None or found.expires <= time.time():
            return None
        return found.grant

    # ----------------------------------------------------------------- the endpoints

    def token(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        """Answer ``POST /token``; raises :class:`OAuthError` for Google's refusals."""
        grant_type = form.get("grant_type", "")
        if grant_type == JWT_GRANT:
            return self._jwt_grant(form.get("assertion", ""))
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise OAuthError(401, "invalid_client", "Unauthorized") from None
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, client_secret = unquote_plus(basic_id), unquote_plus(basic_secret)
        if grant_type == "refresh_token":
            return self._refresh_grant(form, client_id, client_secret)
        if grant_type == "authorization_code":
            return self._code_grant(form, client_id, client_secret)
        raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type: " + grant_type)

    def _check_client(self, client_id: str | None, client_secret: str | None) -> OAuthClient:
        client = self.clients.get(client_id or "")
        if client is None:
            raise OAuthError(401, "invalid_client", "The OAuth client was not found.")
        if client.client_secret != client_secret:
            raise OAuthError(401, "invalid_client", "Unauthorized")
        return client

    def _answer(self, grant: Grant, *, refresh: bool, with_scope: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.issue_access_token(grant),
            "expires_in": TOKEN_LIFETIME,
            "token_type": "Bearer",
        }
        if with_scope:
            body["scope"] = " ".join(sorted(grant.scopes))
        if refresh:
            body["refresh_token"] = self.issue_refresh_token(grant)
        return body

    def _refresh_grant(
        self, form: dict[str, str], client_id: str | None, client_secret: str | None
    ) -> dict[str, Any]:
        client = self._check_client(client_id, client_secret)
        grant = self.refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None or grant.client_id != client.client_id:
            raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
        asked = form.get("scope")
        if asked:
            wanted = frozenset(asked.split())
            if not wanted <= grant.scopes:
                raise OAuthError(
                    400, "invalid_scope", "The requested scopes were not granted originally."
                )
            grant = Grant(grant.user, wanted, grant.client_id, grant.console)
        return self._answer(grant, refresh=False)

    def _code_grant(
        self, form: dict[str, str], client_id: str | None, client_secret: str | None
    ) -> dict[str, Any]:
        client = self._check_client(client_id, client_secret)
        pending = self.codes.pop(form.get("code", ""), None)
        if pending is None or pending.expires <= time.time():
            raise OAuthError(400, "invalid_grant", "Malformed auth code.")
        if pending.grant.client_id not in ("", client.client_id):
            raise OAuthError(400, "invalid_grant", "Unauthorized")
        if pending.redirect_uri and form.get("redirect_uri") != pending.redirect_uri:
            raise OAuthError(400, "redirect_uri_mismatch", "Bad Request")
        if pending.challenge:
            verifier = form.get("code_verifier", "")
            if pending.method == "S256":
                digest = hashlib.sha256(verifier.encode("ascii")).digest()
                computed = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
            else:
                computed = verifier
            if computed != pending.challenge:
                raise OAuthError(400, "invalid_grant", "Invalid code verifier.")
        grant = Grant(pending.grant.user, pending.grant.scopes, client.client_id)
        return self._answer(grant, refresh=True, with_scope=pending.with_scope)

    def _jwt_grant(self, assertion: str) -> dict[str, Any]:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise OAuthError(400, "invalid_grant", "Invalid JWT: malformed assertion.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            raise OAuthError(400, "invalid_grant", "Invalid JWT: malformed assertion.") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise OAuthError(400, "invalid_grant", "Invalid JWT: malformed assertion.")
        if header.get("alg") != "RS256":
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        account = self.service_accounts.get(str(claims.get("iss", "")))
        if account is None:
            raise OAuthError(400, "invalid_grant", "Invalid grant: account not found")
        kid = header.get("kid")
        keys = [account.keys[kid]] if kid in account.keys else list(account.keys.values())
        signed = (parts[0] + "." + parts[1]).encode("ascii")
        if not any(_verifies(key, signed, signature) for key in keys):
            raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
        if claims.get("aud") not in (*GOOGLE_AUDIENCES, self.token_uri):
            raise OAuthError(
                400,
                "invalid_grant",
                "Invalid JWT: Failed audience check. The right audience is " + GOOGLE_AUDIENCES[0],
            )
        now = time.time()
        try:
            iat, exp = float(claims["iat"]), float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            raise OAuthError(
                400, "invalid_grant", "Invalid JWT: iat and exp are required."
            ) from None
        if exp - iat > 3600 or iat > now + CLOCK_SKEW or exp < now - CLOCK_SKEW or exp <= iat:
            raise OAuthError(
                400,
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )
        scopes = frozenset(str(claims.get("scope", "")).split())
        if not scopes:
            raise OAuthError(
                400, "invalid_scope", "Invalid OAuth scope or ID token audience provided."
            )
        subject = claims.get("sub")
        user = account.email
        if subject:
            subject = str(subject).lower()
            if subject in self.denied:
                raise OAuthError(401, "unauthorized_client", DENIED)
            if subject not in self.users:
                raise OAuthError(400, "invalid_grant", "Invalid email or User ID")
            user = subject
        return self._answer(Grant(user, scopes, account.client_id), refresh=False, with_scope=False)

    def authorize(self, query: dict[str, str]) -> str:
        """``GET /o/oauth2/auth``: the consent screen, approved; returns where to redirect."""
        redirect_uri = query.get("redirect_uri", "")
        client = self.clients.get(query.get("client_id", ""))
        if client is None or not redirect_uri:
            raise OAuthError(400, "invalid_request", "Missing or unknown client_id/redirect_uri")
        user = (query.get("login_hint") or "").lower() or next(iter(sorted(self.users)), "")
        if user not in self.users:
            raise OAuthError(400, "invalid_request", "Unknown login_hint " + user)
        scopes = frozenset(query.get("scope", "").split()) or frozenset(FULL_SCOPES)
        code = self.issue_code(
            Grant(user, scopes, client.client_id),
            redirect_uri,
            query.get("code_challenge"),
            query.get("code_challenge_method", "plain") if query.get("code_challenge") else None,
        )
        answer = {"code": code, "scope": " ".join(sorted(scopes))}
        if "state" in query:
            answer["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return redirect_uri + separator + urlencode(answer)


def _verifies(key: rsa.RSAPublicKey, signed: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
