"""Serving the app for real: uvicorn on a free loopback port, in a thread, for HTTP clients."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from atrocity_kg.api import create_app
from atrocity_kg.config import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


OXIGRAPH = Path(sys.executable).parent / "oxigraph"


@contextmanager
def oxigraph_server(*, union_default_graph: bool = True) -> Iterator[str]:
    """`oxigraph serve` (in memory) on a free loopback port; yields its base URL. With
    ``union_default_graph`` its default graph is the union of the named graphs."""
    assert OXIGRAPH.is_file(), f"no {OXIGRAPH}: pip install -e '.[dev]' installs oxigraph"
    port = free_port()
    command = [str(OXIGRAPH), "serve", "--bind", f"127.0.0.1:{port}"]
    if union_default_graph:
        command.append("--union-default-graph")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "oxigraph serve exited"
            try:
                if httpx.get(f"{base}/query", params={"query": "ASK {}"}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "oxigraph serve did not answer in 30 s"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def media(response: httpx.Response) -> str:
    """The media type of a response, without its parameters."""
    return response.headers["content-type"].split(";")[0].strip()
