"""Fixtures for the channel tests: real servers on 127.0.0.1 (aiosmtpd for SMTP, http.server
for Slack), started and stopped per test.

Nothing here touches the internet: every server binds the loopback address, and the TLS
certificates come from a throwaway CA made by ``trustme``.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from tests.notify.servers import (
    HOST,
    Recorder,
    SmtpServer,
    WebhookServer,
    free_port,
    serve_webhook,
)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(context)
    return context


@pytest.fixture(scope="session")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts only the test CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def _serve(recorder: Recorder, **options: Any) -> Iterator[SmtpServer]:
    port = free_port()
    controller = Controller(recorder, hostname=HOST, port=port, ready_timeout=5, **options)
    controller.start()
    try:
        yield SmtpServer(recorder, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server without TLS or login (a local relay)."""
    yield from _serve(Recorder())


@pytest.fixture
def smtp_tls_server(server_tls: ssl.SSLContext) -> Iterator[SmtpServer]:
    """An SMTP server that demands STARTTLS and then AUTH LOGIN (PLAIN is not offered)."""
    recorder = Recorder()
    yield from _serve(
        recorder,
        tls_context=server_tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN"],
        authenticator=recorder.authenticate,
    )


@pytest.fixture
def smtps_server(server_tls: ssl.SSLContext) -> Iterator[SmtpServer]:
    """An SMTP server behind implicit TLS (what port 465 speaks)."""
    yield from _serve(Recorder(), ssl_context=server_tls)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy from the environment would send loopback requests elsewhere (urllib obeys it)."""
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    with serve_webhook() as server:
        yield server


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (into the kernel's backlog) and never says a word."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(4)
        yield int(listener.getsockname()[1])
