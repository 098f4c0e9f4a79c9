"""Serving the app for real: uvicorn on a loopback port of the system's choosing, in a thread,
for HTTP clients; a pool of query workers on its own; Oxigraph's server and Virtuoso in
processes (the benchmark starts its Virtuoso here too); and what tests wait with.

No test here may depend on how fast a loaded machine is (CI runs on two shared cores): a test
waits for an event it can observe, and HANG_GUARD_S only turns a hang into a failure.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from atrocity_kg.config import Settings
from atrocity_kg.query.sandbox import QueryPool
from atrocity_kg.storage import store
from atrocity_kg.web import create_app

HANG_GUARD_S = 300.0
"""How long a test waits for anything (a server to start, an answer, a state) before it fails:
only a guard against a hang, far beyond what any step takes on a loaded machine."""


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Return once ``condition()`` holds; fail (with ``what``) only past HANG_GUARD_S."""
    deadline = time.monotonic() + HANG_GUARD_S
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {HANG_GUARD_S:g} s"
        time.sleep(0.02)


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port where nothing listens, and nothing can start to while the test runs: it
    is held by a socket bound to it that does not listen, so connecting is refused."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port: int = holder.getsockname()[1]
        yield port


@contextmanager
def served(app: FastAPI, log_level: str = "warning") -> Iterator[str]:
    """``app`` under uvicorn in a thread of this process; yields its base URL. The system
    chooses the port when uvicorn binds it (port 0), so no other process can take it first."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "the server did not start")
    assert server.started, "the server stopped while starting"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=HANG_GUARD_S)


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app made from ``settings``, served (see ``served``)."""
    with served(create_app(settings)) as url:
        yield url


@asynccontextmanager
async def query_pool(settings: Settings, *, size: int, timeout: float) -> AsyncIterator[QueryPool]:
    """A pool of ``size`` query workers on the current build of ``settings``' store, every worker
    started (on the running event loop; closed after)."""
    pool = QueryPool(
        store.current_path(settings.store_root),
        size=size,
        timeout=timeout,
        max_waiting=size,
        max_wait=HANG_GUARD_S,
    )
    try:
        await pool.started(timeout=HANG_GUARD_S)
        yield pool
    finally:
        pool.close()


OXIGRAPH = Path(sys.executable).parent / "oxigraph"
BIND_ATTEMPTS = 5


def _unused_port() -> int:
    """A port free a moment ago. Another process may take it before ours binds it: callers
    that cannot bind port 0 themselves try again when the bind fails."""
    with closed_port() as port:
        return port


def answering(process: subprocess.Popen[bytes], endpoint: str) -> Callable[[], bool]:
    """For ``wait_until``: the SPARQL server at ``endpoint`` answers, or its process has ended
    (then there is nothing to wait for). A probe that gets no answer within a second is only
    tried again: it may have reached whoever took the port, and the server's exit is what
    tells."""

    def up() -> bool:
        if process.poll() is not None:
            return True
        try:
            ask = httpx.get(endpoint, params={"query": "ASK {}"}, timeout=1)
        except httpx.TransportError:
            return False
        return ask.status_code == 200

    return up


def _start_oxigraph(options: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    """`oxigraph serve` answering on a loopback port, and its base URL.

    It cannot bind port 0 and say which port it got, so it is given one free a moment ago; if
    another process took that port first, the server exits saying so (seen by its exit, not by
    a delay) and is started again on another. Its messages go to a file, which cannot fill up
    and stall it as a pipe nobody reads would."""
    for _ in range(BIND_ATTEMPTS):
        port = _unused_port()
        command = [str(OXIGRAPH), "serve", "--bind", f"127.0.0.1:{port}", *options]
        with tempfile.TemporaryFile() as messages:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=messages)
            base = f"http://127.0.0.1:{port}"

            wait_until(answering(process, f"{base}/query"), "oxigraph serve did not answer")
            if process.poll() is None:
                return process, base
            messages.seek(0)
            error = messages.read().decode(errors="replace")
        assert "Address already in use" in error, f"oxigraph serve exited: {error[:2000]}"
    raise AssertionError(f"oxigraph serve found no free port in {BIND_ATTEMPTS} attempts")


@contextmanager
def oxigraph_server(*, union_default_graph: bool = True) -> Iterator[str]:
    """`oxigraph serve` (in memory) on a free loopback port; yields its base URL. With
    ``union_default_graph`` its default graph is the union of the named graphs."""
    assert OXIGRAPH.is_file(), f"no {OXIGRAPH}: pip install -e '.[dev]' installs oxigraph"
    process, base = _start_oxigraph(["--union-default-graph"] if union_default_graph else [])
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=HANG_GUARD_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def media(response: httpx.Response) -> str:
    """The media type of a response, without its parameters."""
    return response.headers["content-type"].split(";")[0].strip()


VIRTUOSO = shutil.which("virtuoso-t")
"""Debian's Virtuoso (apt-get install virtuoso-opensource), if installed."""
VIRTUOSO_ISQL = shutil.which("isql-vt")
"""Virtuoso's SQL client, from the same package (Debian names it isql-vt)."""
VIRTUOSO_USER = ("dba", "dba")
"""The administrator of a new Virtuoso database, and the password it starts with."""

_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{isql}
DisableUnixSocket = 1
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
ThreadsPerQuery = {threads}
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {folder}
ServerThreads = 8
MaxClientConnections = 8
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""
"""A scratch database in ``folder``: no checkpoints while the tests run, no row cap on answers
(Debian's default is 10000), no time limit (the app's own limits are under test). Files may be
read from the folder only (DirsAllowed), as the bulk loader does."""


@dataclass(frozen=True)
class Virtuoso:
    """A running Virtuoso: its HTTP base URL, its SQL port's address (for isql-vt), the folder
    of its database (the one folder it may read files from) and its process."""

    base: str
    isql: str
    folder: Path
    process: subprocess.Popen[bytes]


@contextmanager
def virtuoso_database(*, buffers: int = 20_000, threads: int = 1) -> Iterator[Virtuoso]:
    """Virtuoso (``virtuoso-t`` in the foreground) with a new database in a temporary folder,
    on free loopback ports. ``buffers`` pages of 8 KB are its cache (the default suits the
    tests' data; the benchmark gives more for 10^7 triples), ``threads`` the threads one query
    may use. Like ``oxigraph serve`` it is given ports free a moment ago and started again if
    it exits (another process took one)."""
    assert VIRTUOSO is not None, "virtuoso-t is not installed"
    with tempfile.TemporaryDirectory(prefix="virtuoso-") as name:
        folder = Path(name)
        for _ in range(BIND_ATTEMPTS):
            http, isql = _unused_port(), _unused_port()
            ini = folder / "virtuoso.ini"
            ini.write_text(
                _VIRTUOSO_INI.format(
                    folder=folder,
                    http=http,
                    isql=isql,
                    buffers=buffers,
                    dirty=buffers * 3 // 4,
                    threads=threads,
                )
            )
            command = [VIRTUOSO, "+foreground", "+configfile", str(ini)]
            with tempfile.TemporaryFile() as messages:
                process = subprocess.Popen(
                    command, cwd=folder, stdout=messages, stderr=subprocess.STDOUT
                )
                base = f"http://127.0.0.1:{http}"

                wait_until(answering(process, f"{base}/sparql"), "virtuoso-t did not answer")
                if process.poll() is None:
                    try:
                        yield Virtuoso(base, f"127.0.0.1:{isql}", folder, process)
                    finally:
                        _stop(process)
                    return
                messages.seek(0)
                error = messages.read().decode(errors="replace")
            for leftover in folder.glob("virtuoso*"):
                leftover.unlink()
            assert "listen" in error, f"virtuoso-t exited: {error[-2000:]}"
    raise AssertionError(f"virtuoso-t found no free ports in {BIND_ATTEMPTS} attempts")


@contextmanager
def virtuoso_server() -> Iterator[str]:
    """A new Virtuoso database sized for the tests (``virtuoso_database``); yields its base URL
    (``/sparql`` answers queries, ``/sparql-graph-crud-auth`` takes graphs from VIRTUOSO_USER by
    digest authentication)."""
    with virtuoso_database() as virtuoso:
        yield virtuoso.base


def virtuoso_sql(virtuoso: Virtuoso, statements: str) -> str:
    """Run SQL statements on ``virtuoso`` as VIRTUOSO_USER (isql-vt); what it printed. An
    error fails with the statements and Virtuoso's message."""
    assert VIRTUOSO_ISQL is not None, "isql-vt is not installed (virtuoso-opensource has it)"
    done = subprocess.run(
        [VIRTUOSO_ISQL, virtuoso.isql, *VIRTUOSO_USER, f"exec={statements}"],
        capture_output=True,
        text=True,
        check=False,
    )
    printed = done.stdout + done.stderr
    assert done.returncode == 0, f"{statements}: {printed[-2000:]}"
    assert "*** Error" not in printed, f"{statements}: {printed[-2000:]}"
    return printed


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


NGINX = shutil.which("nginx", path="/usr/sbin:/usr/bin")
"""Debian's nginx, a real shared cache in front of the app (tests/web/test_caching.py)."""
CACHE_STATUS = "X-Cache-Status"
"""The header nginx adds here: HIT, MISS, EXPIRED, REVALIDATED ... ($upstream_cache_status)."""

_NGINX_CONF = """\
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    proxy_cache_path {folder}/cache keys_zone=answers:1m;
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_cache answers;
        proxy_cache_revalidate on;
        add_header {status} $upstream_cache_status always;
        location / {{
            proxy_pass {upstream};
        }}
        # The same answers, kept one second whatever the app says: once that second is over,
        # nginx asks the app again with the ETag it holds.
        location /expiring/ {{
            proxy_pass {upstream}/;
            proxy_ignore_headers Cache-Control Expires;
            proxy_cache_valid 200 1s;
        }}
    }}
}}
"""


@contextmanager
def nginx_cache(upstream: str) -> Iterator[str]:
    """nginx caching what ``upstream`` answers, on a free loopback port (tried again if another
    process takes it first, as for Oxigraph's server); yields its base URL."""
    assert NGINX is not None, "nginx is not installed (apt-get install nginx-light)"
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for _ in range(BIND_ATTEMPTS):
            port = _unused_port()
            conf = folder / "nginx.conf"
            conf.write_text(
                _NGINX_CONF.format(folder=folder, port=port, upstream=upstream, status=CACHE_STATUS)
            )
            process = subprocess.Popen(
                [NGINX, "-c", str(conf), "-p", str(folder), "-e", str(folder / "error.log")],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            wait_until(answering(process, f"{base}/sparql"), "nginx did not answer")
            if process.poll() is None:
                break
            error = (folder / "error.log").read_text(errors="replace")
            assert "Address already in use" in error, f"nginx exited: {error[-2000:]}"
        else:
            raise AssertionError(f"nginx found no free port in {BIND_ATTEMPTS} attempts")
        try:
            yield base
        finally:
            _stop(process)
