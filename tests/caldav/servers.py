"""Real CalDAV servers for the tests: Radicale (and Xandikos, where it is installed), each
started as a child process bound to 127.0.0.1 on a free port, with htpasswd accounts, and
stopped by its own process id.

I/O: writes the server's configuration, htpasswd file and storage under the folder given;
starts and stops one process; speaks HTTP to it only to wait until it answers and to make
calendars (MKCALENDAR).

Exports: DavServer, start_radicale, start_xandikos, free_port, xandikos_available.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import niquests

__all__ = ["DavServer", "free_port", "start_radicale", "start_xandikos", "xandikos_available"]

HOST = "127.0.0.1"
STARTUP_SECONDS = 20.0

_MKCALENDAR = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
    "<D:displayname>{name}</D:displayname>"
    '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
    "</C:supported-calendar-component-set>"
    "</D:prop></D:set></C:mkcalendar>"
)


class _Session(niquests.Session):
    """A session that verifies TLS with ``verify`` on every request (niquests takes no
    session-wide ``verify`` attribute)."""

    def __init__(self, verify: str | bool) -> None:
        super().__init__()
        self._verify = verify

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("verify") is None:  # put(), get() and delete() pass verify=None
            kwargs["verify"] = self._verify
        return super().request(method, url, *args, **kwargs)


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def xandikos_available() -> bool:
    return importlib.util.find_spec("xandikos") is not None


@dataclass
class DavServer:
    """One running server: where it answers, its accounts and how to reach their calendars."""

    kind: str
    url: str
    process: subprocess.Popen[bytes]
    root: Path
    #: username -> password
    accounts: dict[str, str] = field(default_factory=dict)
    #: a CA bundle to trust (a server on TLS with its own certificate), else None
    ca_file: Path | None = None
    #: the path under which ``calendar_url`` makes each calendar ("/{user}/{name}/")
    layout: str = "/{user}/{name}/"

    def calendar_url(self, user: str, name: str) -> str:
        return self.url.rstrip("/") + self.layout.format(user=user, name=name)

    def session(self, user: str) -> niquests.Session:
        session = _Session(str(self.ca_file) if self.ca_file else True)
        session.auth = (user, self.accounts[user])
        return session

    def make_calendar(self, user: str, name: str) -> str:
        """A new, empty calendar of ``user`` (as their client makes one); its URL."""
        url = self.calendar_url(user, name)
        with self.session(user) as session:
            answer = session.request(
                "MKCALENDAR",
                url,
                data=_MKCALENDAR.format(name=name).encode(),
                headers={"Content-Type": "application/xml; charset=utf-8"},
            )
        if answer.status_code not in (201, 200):
            raise RuntimeError(f"MKCALENDAR {url}: {answer.status_code} {answer.text}")
        return url

    def stop(self) -> None:
        """Stop the server this helper started, by its process id."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _wait_until_up(server: DavServer, log: Path) -> DavServer:
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.kind} exited with {server.process.returncode}: "
                f"{log.read_text(errors='replace')[-2000:]}"
            )
        try:
            with socket.create_connection((HOST, port), 0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.kind} did not answer within {STARTUP_SECONDS} s")


def _htpasswd_plain(accounts: dict[str, str]) -> str:
    return "".join(f"{user}:{password}\n" for user, password in accounts.items())


def _htpasswd_bcrypt(accounts: dict[str, str]) -> str:
    import bcrypt

    return "".join(
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
        for user, password in accounts.items()
    )


def start_radicale(
    root: Path,
    accounts: dict[str, str],
    *,
    bcrypt: bool = False,
    tls: tuple[Path, Path] | None = None,
) -> DavServer:
    """Radicale on 127.0.0.1 with htpasswd accounts (plain, or ``bcrypt`` hashes), each
    owning only their own collections; its storage under ``root``; over HTTPS with ``tls``
    (the certificate and key files)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    users = _htpasswd_bcrypt(accounts) if bcrypt else _htpasswd_plain(accounts)
    (root / "users").write_text(users)
    config = root / "radicale.conf"
    tls_lines = f"ssl = True\ncertificate = {tls[0]}\nkey = {tls[1]}\n" if tls else ""
    config.write_text(
        "[server]\n"
        f"hosts = {HOST}:{port}\n"
        f"{tls_lines}"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {root / 'users'}\n"
        f"htpasswd_encryption = {'bcrypt' if bcrypt else 'plain'}\n"
        "delay = 0\n"
        "cache_logins = True\n"
        "htpasswd_cache = True\n"
        "[rights]\n"
        "type = owner_only\n"
        "[storage]\n"
        f"filesystem_folder = {root / 'collections'}\n"
        "[web]\n"
        "type = none\n"
        "[logging]\n"
        "level = warning\n"
        "mask_passwords = True\n"
    )
    log = root / "radicale.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    scheme = "https" if tls else "http"
    server = DavServer("radicale", f"{scheme}://{HOST}:{port}", process, root, dict(accounts))
    return _wait_until_up(server, log)


def start_xandikos(root: Path, accounts: dict[str, str]) -> DavServer:
    """Xandikos on 127.0.0.1 over HTTPS (its ``--htpasswd`` needs TLS) with bcrypt htpasswd
    accounts; every person's calendar a collection under its one principal ``/user/``.

    Its ``--autocert`` certificate names 127.0.0.1 as a DNS name, not an IP address, so no
    client can verify it; the certificate it finds in its state folder is reused, so one from
    a test CA (``trustme``) is put there and that CA is the server's ``ca_file``."""
    import trustme

    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "users").write_text(_htpasswd_bcrypt(accounts))
    certs = root / "state" / "certs"
    certs.mkdir(parents=True)
    authority = trustme.CA()
    issued = authority.issue_cert(HOST)
    issued.cert_chain_pems[0].write_to_path(str(certs / "selfsigned.crt"))
    issued.private_key_pem.write_to_path(str(certs / "selfsigned.key"))
    authority.cert_pem.write_to_path(str(root / "ca.pem"))
    log = root / "xandikos.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xandikos",
                "serve",
                "--defaults",
                "--no-detect-systemd",
                "-d",
                str(root / "data"),
                "--state-dir",
                str(root / "state"),
                "--autocert",
                "--htpasswd",
                str(root / "users"),
                "-l",
                HOST,
                "-p",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = DavServer(
        "xandikos",
        f"https://{HOST}:{port}",
        process,
        root,
        dict(accounts),
        ca_file=root / "ca.pem",
        layout="/user/calendars/{user}-{name}/",
    )
    return _wait_until_up(server, log)
