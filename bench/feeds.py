"""Benchmark: the daemon's feeds against a static file server, with wrk, for a 1,000-person org.

Builds an org file of one VP, managers with 8 reps each and the remaining people as reps, on
vdir calendars; runs weekly passes so every series has history; issues every person a feed
token; serves it with the product's server (uvicorn, in this process, on a free port of
127.0.0.1). Then, with wrk (one thread, ``--connections`` keep-alive connections):

1. cold: every person's feed fetched once (each built on its first fetch; by a Python client
   in a process of its own, as wrk cannot stop after a count);
2. warm 200: ``--seconds`` of fetches of random people's feeds;
3. 304: ``--seconds`` of conditional fetches of random people's feeds with their ETags.

The same feeds are then written as files and served by nginx (one worker process, access log
off, sendfile and an open-file cache: a fast static server on the same cores), and phases 2
and 3 run against it with the same paths; the table gives requests per second of both and
the ratio (the goal of issue 17: at least 0.5 of static and 1,000 requests/s for warm 200s and
304s).

Not a test, and it installs nothing: it needs ``wrk`` and ``nginx`` on PATH (Debian:
``apt-get install wrk nginx-light``) and says so when either is missing. Run
``python bench/feeds.py [--people N] [--seconds S] [--connections C] [--folder DIR]``;
``--folder`` keeps the org and its ledger there and reuses them on the next run (the passes
are the slow part). Every request goes to 127.0.0.1 only, each phase is bounded in time, and
both servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scheduler import feeds
from scheduler.orgfile import load_org
from scheduler.server import App, ServerState, start_server
from scheduler.store.ledger import Ledger
from scheduler.sync import run_pass

ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
START = datetime(2027, 3, 1, 7, 0, tzinfo=ZoneInfo("America/New_York"))
#: Where Debian puts nginx, which is not on a normal user's PATH.
_SBIN = ("/usr/sbin", "/usr/local/sbin")


def org_file(folder: Path, people: int) -> Path:
    lines = [
        "[org]",
        'name = "Bench Sales"',
        'timezone = "America/New_York"',
        'country = "US"',
        "",
        "[defaults]",
        'working_hours = "08:00-18:00"',
        "",
    ]

    def person(email: str, name: str, zone: str, manager: str | None) -> None:
        lines.extend(["[[person]]", f'email = "{email}"', f'name = "{name}"'])
        lines.append(f'timezone = "{zone}"')
        if manager:
            lines.append(f'manager = "{manager}"')
        lines.append(f'calendar = {{ provider = "vdir", path = "data/cal/{email}" }}')
        lines.append("")

    rng = random.Random(7)
    person("vp@bench.example", "Vera Vance", ZONES[0], None)
    managers = max(1, (people - 1) // 9)
    count = 1
    for m in range(managers):
        manager = f"m{m}@bench.example"
        person(manager, f"Manager {m}", rng.choice(ZONES), "vp@bench.example")
        count += 1
    index = 0
    while count < people:
        manager = f"m{index % managers}@bench.example"
        person(f"r{index}@bench.example", f"Rep {index}", rng.choice(ZONES), manager)
        index += 1
        count += 1
    path = folder / "org.toml"
    path.write_text("\n".join(lines))
    return path


# --------------------------------------------------------------------------- tools


def find_tool(name: str, install: str) -> str:
    """The path of ``name``, or exit saying how to install it (nothing is installed here)."""
    found = shutil.which(name) or shutil.which(name, path=os.pathsep.join(_SBIN))
    if found is None:
        sys.exit(f"bench/feeds.py needs {name}, which is not installed: {install}")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(folder: Path, name: str, paths: list[str], etags: dict[str, str] | None) -> Path:
    """A wrk script: every request pre-built in ``init``, each a random one of ``paths``
    (with its ETag in ``If-None-Match`` when ``etags`` are given)."""
    entries = []
    for path in paths:
        headers = f"{{['If-None-Match'] = {_lua_string(etags[path])}}}" if etags else "nil"
        entries.append(f"  {{{_lua_string(path)}, {headers}}},")
    script = folder / f"{name}.lua"
    script.write_text(
        "local specs = {\n" + "\n".join(entries) + "\n}\n"
        """
local built = {}
local n = #specs

function init(args)
  math.randomseed(12345)
  for i, spec in ipairs(specs) do
    built[i] = wrk.format("GET", spec[1], spec[2])
  end
end

function request()
  return built[math.random(n)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(99.0)))
end
"""
    )
    return script


#: The cold phase's client, in a process of its own (wrk cannot stop after a count: its
#: ``thread:stop()`` idles until the duration ends): ``connections`` threads, one keep-alive
#: connection each, fetch every path once. Prints the seconds taken and the statuses.
_COLD_CLIENT = """
import http.client, sys, threading, time
host, port, listing, connections = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
paths = open(listing).read().split()
statuses = {}
lock = threading.Lock()
def work(chunk):
    conn = http.client.HTTPConnection(host, port, timeout=120)
    for path in chunk:
        conn.request("GET", path)
        answer = conn.getresponse()
        answer.read()
        with lock:
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
    conn.close()
threads = [threading.Thread(target=work, args=(paths[i::connections],)) for i in range(connections)]
began = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
print(time.perf_counter() - began, sum(statuses.values()), statuses.get(200, 0))
"""


def run_cold(url: str, paths: list[str], connections: int, folder: Path) -> Run:
    listing = folder / "paths.txt"
    listing.write_text("\n".join(paths))
    host, port = url.removeprefix("http://").split(":")
    done = subprocess.run(
        [sys.executable, "-c", _COLD_CLIENT, host, port, str(listing), str(connections)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    seconds, total, ok = done.stdout.split()
    return Run(int(total), float(seconds), 0, 0, int(total) - int(ok), 0.0)


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    bytes: int
    socket_errors: int
    status_errors: int
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(wrk: str, url: str, script: Path, connections: int, seconds: float) -> Run:
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            requests, micros, size, sockets, status, p99 = (int(x) for x in line.split()[1:])
            return Run(requests, micros / 1e6, size, sockets, status, p99 / 1000)
    raise RuntimeError(f"wrk gave no result: {done.stdout}\n{done.stderr}")


# --------------------------------------------------------------------------- nginx


class Nginx:
    """nginx serving ``root`` on 127.0.0.1, one worker, until ``stop()``."""

    def __init__(self, binary: str, folder: Path, root: Path) -> None:
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / "temp"
        temp.mkdir(exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = folder / "nginx.conf"
        conf.write_text(
            f"""{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  keepalive_timeout 60s;
  open_file_cache max=10000 inactive=60s;
  types {{ text/calendar ics; }}
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  server {{
    listen 127.0.0.1:{self.port};
    root {root};
  }}
}}
"""
        )
        self.process = subprocess.Popen(
            [binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    error = (folder / "error.log").read_text() if conf.exists() else ""
                    raise RuntimeError(f"nginx did not start: {error}") from None
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Fixed:
    """The least an ASGI app on uvicorn can do: one fixed answer (headers as a feed's) to
    every request. What uvicorn alone costs, to tell it from what the product adds."""

    def __init__(self, body: bytes, etag: str) -> None:
        self.body = body
        self.etag = etag.encode()
        self.full = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"text/calendar; charset=utf-8"),
            (b"etag", self.etag),
            (b"cache-control", b"private, max-age=300"),
        ]
        self.unchanged = [(b"content-length", b"0"), (b"etag", self.etag)]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        matched = any(
            name == b"if-none-match" and value == self.etag for name, value in scope["headers"]
        )
        headers, body = (self.unchanged, b"") if matched else (self.full, self.body)
        await send(
            {"type": "http.response.start", "status": 304 if matched else 200, "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- fetching


def fetch(url: str, paths: list[str], method: str = "GET") -> dict[str, tuple[int, str, bytes]]:
    """(status, ETag, body) of every path, over one keep-alive connection."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    found: dict[str, tuple[int, str, bytes]] = {}
    try:
        for path in paths:
            connection.request(method, path)
            answer = connection.getresponse()
            body = answer.read()
            found[path] = (answer.status, answer.getheader("etag") or "", body)
    finally:
        connection.close()
    return found


def build(folder: Path, people: int, weeks: int) -> tuple[Path, float | None]:
    """The org file in ``folder``, with its ledger's passes run unless they were already."""
    config = folder / "org.toml"
    done = folder / "passes-done"
    if config.exists() and done.exists():
        return config, None
    folder.mkdir(parents=True, exist_ok=True)
    org = load_org(org_file(folder, people))
    ledger = Ledger(org.database_url)
    began = time.perf_counter()
    try:
        for week in range(weeks):
            run_pass(org, ledger, START + timedelta(weeks=week), apply=True)
    finally:
        ledger.close()
    done.write_text(str(weeks))
    return config, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=2, help="weekly passes of history")
    parser.add_argument("--seconds", type=float, default=5.0, help="per measured phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--folder", type=Path, help="keep (and reuse) the org and ledger here")
    args = parser.parse_args()
    wrk = find_tool("wrk", "apt-get install wrk (Debian)")
    nginx = find_tool("nginx", "apt-get install nginx-light (Debian)")

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        folder = args.folder or work / "org"
        config, passes = build(folder, args.people, args.weeks)
        org = load_org(config)
        ledger = Ledger(org.database_url)
        weeks = int((folder / "passes-done").read_text())
        now = START + timedelta(weeks=weeks - 1)
        tokens = {email: feeds.issue_token(ledger, email, now) for email in org.people}
        took = "reused" if passes is None else f"in {passes:.1f} s"
        fast = [m for m in ("httptools", "uvloop") if importlib.util.find_spec(m) is not None]
        print(
            f"{len(org.people)} people, {len(org.pairs)} pairs, {weeks} weekly passes ({took}); "
            f"wrk -t1 -c{args.connections}, {args.seconds:g} s a phase; uvicorn with "
            f"{', '.join(fast) or 'h11 and asyncio'}; baseline: nginx, 1 worker, same files"
        )
        paths = [f"/feeds/{token}.ics" for token in tokens.values()]
        random.Random(1).shuffle(paths)

        product: dict[str, Run] = {}
        static: dict[str, Run] = {}
        server = start_server(App(ServerState(org, ledger, lambda: now)), "127.0.0.1", 0)
        try:
            product["cold"] = run_cold(server.url, paths, args.connections, work)
            plain = wrk_script(work, "plain", paths, None)
            product["200"] = run_wrk(wrk, server.url, plain, args.connections, args.seconds)
            got = fetch(server.url, paths)
            bad = {status for status, _, _ in got.values() if status != 200}
            if bad:
                sys.exit(f"the product answered {sorted(bad)} to feed fetches")
            etags = {path: etag for path, (_, etag, _) in got.items()}
            conditional = wrk_script(work, "conditional", paths, etags)
            product["304"] = run_wrk(wrk, server.url, conditional, args.connections, args.seconds)
        finally:
            server.stop()
            ledger.close()

        # uvicorn alone, with the median feed: same paths, one fixed answer.
        middle = sorted(got.values(), key=lambda found: len(found[2]))[len(got) // 2]
        alone: dict[str, Run] = {}
        fixed = start_server(Fixed(middle[2], middle[1]), "127.0.0.1", 0)  # type: ignore[arg-type]
        try:
            alone["200"] = run_wrk(wrk, fixed.url, plain, args.connections, args.seconds)
            same = wrk_script(work, "fixed", paths, dict.fromkeys(paths, middle[1]))
            alone["304"] = run_wrk(wrk, fixed.url, same, args.connections, args.seconds)
        finally:
            fixed.stop()

        root = work / "static"
        (root / "feeds").mkdir(parents=True)
        for path, (_, _, body) in got.items():
            (root / path.lstrip("/")).write_bytes(body)
        baseline = Nginx(nginx, work / "nginx", root)
        try:
            static["200"] = run_wrk(wrk, baseline.url, plain, args.connections, args.seconds)
            heads = fetch(baseline.url, paths, "HEAD")
            static_etags = {path: etag for path, (_, etag, _) in heads.items()}
            conditional = wrk_script(work, "static-conditional", paths, static_etags)
            static["304"] = run_wrk(wrk, baseline.url, conditional, args.connections, args.seconds)
        finally:
            baseline.stop()

    sizes = sorted(len(body) for _, _, body in got.values())
    print(f"feed sizes: {sizes[0]:,}-{sizes[-1]:,} bytes, median {sizes[len(sizes) // 2]:,}")
    print(
        f"{'phase':<10}{'product req/s':>15}{'p99 ms':>9}{'static req/s':>15}{'ratio':>8}"
        f"{'uvicorn alone':>15}{'ratio':>8}"
    )
    for phase, run in product.items():
        base = static.get(phase)
        errors = run.socket_errors + run.status_errors + (base.status_errors if base else 0)
        p99 = f"{run.p99_ms:.1f}" if phase != "cold" else "-"
        line = f"{phase:<10}{run.rate:>15,.0f}{p99:>9}"
        if base is not None:
            line += f"{base.rate:>15,.0f}{run.rate / base.rate:>8.2f}"
            floor = alone[phase]
            line += f"{floor.rate:>15,.0f}{run.rate / floor.rate:>8.2f}"
        if errors:
            line += f"   ({errors} errors)"
        print(line)
    for phase in ("200", "304"):
        run, base = product[phase], static[phase]
        per = run.bytes // max(1, run.requests)
        print(
            f"{phase}: {run.requests:,} requests in {run.seconds:.1f} s ({per:,} bytes each), "
            f"static {base.requests:,} in {base.seconds:.1f} s"
        )
    goal = all(product[p].rate >= max(1000.0, 0.5 * static[p].rate) for p in ("200", "304"))
    print(
        f"goal (>= 0.5 of static and >= 1,000 req/s for warm 200s and 304s): "
        f"{'met' if goal else 'not met'}"
    )


if __name__ == "__main__":
    main()
