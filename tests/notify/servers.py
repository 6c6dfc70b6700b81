"""What the test servers record and answer, shared by the fixtures and the tests."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
USER = "ops@acme.example"
PASSWORD = "correct horse battery staple"


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it receives and refuses what it is told to."""

    messages: list[Delivered] = field(default_factory=list)
    #: recipient address -> SMTP reply refusing it ("550 no such user")
    refuse: dict[str, str] = field(default_factory=dict)
    #: the mechanisms clients logged in with
    mechanisms: list[str] = field(default_factory=list)
    #: the reply to QUIT (a server may answer anything, or nothing, to it)
    quit_reply: str = "221 Bye"

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append(Delivered(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Session, envelope: Envelope) -> str:
        return self.quit_reply

    def authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self.mechanisms.append(mechanism)
        ok = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == PASSWORD.encode()
        )
        # handled=False: let aiosmtpd answer 535 itself (handled=True means we already did).
        return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    recorder: Recorder
    port: int


@dataclass
class WebhookServer:
    """A local stand-in for Slack: the path picks the answer (see ``ANSWERS``)."""

    port: int
    bodies: list[Any]

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"


# path -> (status, body); a secret-looking token in each path, as in a real webhook address.
ANSWERS = {
    "/services/T0/B0/OKSECRET": (200, b"ok"),
    "/services/T0/B0/BUSYSECRET": (500, b"internal_error"),
    "/services/T0/B0/SLOWDOWNSECRET": (429, b"rate_limited"),
    "/services/T0/B0/GONESECRET": (404, b"no_service"),
}


@contextmanager
def serve_webhook() -> Iterator[WebhookServer]:
    """A stand-in for Slack's incoming webhooks on 127.0.0.1, in a thread, stopped on exit."""
    bodies: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            bodies.append(json.loads(self.rfile.read(length)))
            status, body = ANSWERS.get(self.path, (404, b"no_such_path"))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield WebhookServer(server.server_address[1], bodies)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
