"""Certificate sign-in to Microsoft 365 (``[microsoft365] certificate_file``): msal signs a client
assertion with the app's key, and the Graph emulator's token endpoint checks it against the
certificate uploaded to the app registration (a key and certificate made by each test)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msal
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from scheduler.errors import AuthError
from scheduler.orgfile import load_org, problems_in_calendars
from scheduler.providers.microsoft365.auth import clear_cache, token_source
from scheduler.providers.microsoft365.client import GraphClient, GraphRequest
from tests.graph_emulator import GraphEmulator

MIA = "mia@example.com"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "oneonone test app")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def _private(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def emu() -> Iterator[GraphEmulator]:
    emulator = GraphEmulator().start()
    emulator.add_user(MIA, time_zone="America/New_York")
    clear_cache()
    try:
        yield emulator
    finally:
        clear_cache()
        emulator.stop()


def _org(tmp_path: Path, emu: GraphEmulator, pem: bytes) -> Path:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "app.pem").write_bytes(pem)
    (tmp_path / "ca.pem").write_bytes(emu.ca_file.read_bytes())
    path = tmp_path / "oneonone.toml"
    path.write_text(
        f"""
[org]
name = "Certificate"
timezone = "America/New_York"

[microsoft365]
tenant_id = "{emu.tenant}"
client_id = "{emu.client_id}"
certificate_file = "secrets/app.pem"
authority = "{emu.authority}"
graph_endpoint = "{emu.graph_url}"
ca_file = "ca.pem"

[[person]]
email = "{MIA}"
calendar = {{ provider = "microsoft365" }}
"""
    )
    return path


def test_the_certificate_named_in_the_org_file_signs_in_and_graph_answers(
    tmp_path: Path, emu: GraphEmulator
) -> None:
    key = _key()
    certificate = _certificate(key)
    emu.add_certificate(certificate)
    org = load_org(_org(tmp_path, emu, _private(key) + certificate), env={})
    assert org.microsoft365.certificate_file == tmp_path / "secrets" / "app.pem"
    assert problems_in_calendars(org) == []
    client = GraphClient(
        token_source(org.microsoft365, env={}), emu.graph_url, ca_file=str(emu.ca_file)
    )
    try:
        found = client.call(MIA, GraphRequest("GET", f"/users/{MIA}/mailboxSettings"), what="x")
        client.call(MIA, GraphRequest("GET", f"/users/{MIA}/mailboxSettings"), what="x")
    finally:
        client.close()
    assert found["timeZone"] == "Eastern Standard Time"
    assert emu.token_requests == 1  # the token is kept (msal's cache) for the second call


@pytest.mark.parametrize("case", ["another key", "an unregistered certificate"])
def test_a_wrong_key_is_refused_in_a_sentence_that_names_the_file_never_the_key(
    tmp_path: Path,
    emu: GraphEmulator,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    key = _key()
    registered = _certificate(key)
    emu.add_certificate(registered)
    other = _key()
    # The registered certificate with a key that is not its own, or a pair never uploaded.
    pem = _private(other) + (registered if case == "another key" else _certificate(other))
    org = load_org(_org(tmp_path, emu, pem), env={})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as refused:
        token_source(org.microsoft365, env={})()
    message = str(refused.value)
    assert "invalid_client" in message and "AADSTS700027" in message
    assert emu.client_id in message and emu.tenant in message
    assert str(org.microsoft365.certificate_file) in message
    assert "is the certificate uploaded to the app registration" in message
    said = message + caplog.text
    body = [line for line in _private(other).decode().splitlines() if "-----" not in line]
    assert not any(line in said for line in body)
    assert "PRIVATE KEY" not in said


def test_a_file_without_the_private_key_is_named_plainly(
    tmp_path: Path, emu: GraphEmulator
) -> None:
    certificate = _certificate(_key())
    emu.add_certificate(certificate)
    org = load_org(_org(tmp_path, emu, certificate), env={})
    with pytest.raises(AuthError, match="holds no unencrypted private key"):
        token_source(org.microsoft365, env={})()
    assert emu.token_requests == 0


@pytest.mark.skipif(
    tuple(int(n) for n in msal.__version__.split(".")[:2]) < (1, 35),
    reason="msal signs PS256 with x5t#S256 from 1.35 on",
)
def test_the_emulator_takes_msals_newer_sha256_form_too(emu: GraphEmulator) -> None:
    key = _key()
    certificate = _certificate(key)
    emu.add_certificate(certificate)
    from scheduler.providers.microsoft365.auth import _VerifyingSession

    session = _VerifyingSession()  # REQUESTS_CA_BUNDLE would win over a plain Session's
    session.verify = str(emu.ca_file)
    app = msal.ConfidentialClientApplication(
        emu.client_id,
        client_credential={
            "private_key": _private(key).decode(),
            "public_certificate": certificate.decode(),
        },
        authority=emu.authority,
        http_client=session,
        instance_discovery=False,
    )
    try:
        answer = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    finally:
        session.close()
    assert "access_token" in answer, answer
