"""What the benchmark's sections share: timing, percentiles, servers started as child processes,
the catalogue's query texts, and the report (a table on the terminal and a JSON file)."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from atrocity_kg.query.queries import load_catalogue

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OXIGRAPH = BIN / "oxigraph"


def server_env(store_root: Path, **settings: object) -> dict[str, str]:
    """The environment of `atrocity-kg serve` under measurement: the checkout's queries and
    templates, the store root given, no access log, and no rate limit (the benchmark's clients
    all come from one address, as the limit counts them); ``settings`` are further settings by
    their field name (``query_timeout=300`` is ATROCITY_KG_QUERY_TIMEOUT=300)."""
    env = {
        "ATROCITY_KG_HOME": str(REPO),
        "ATROCITY_KG_STORE_DIR": str(store_root),
        "ATROCITY_KG_ACCESS_LOG": "false",
        "ATROCITY_KG_RATE_LIMIT_PER_MINUTE": "0",
    }
    for name, value in settings.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        env[f"ATROCITY_KG_{name.upper()}"] = text
    return env


def catalogue_texts() -> dict[str, str]:
    """Every catalogue query with its parameters at their defaults, as the app would run it."""
    return {name: entry.bound_text({}) for name, entry in load_catalogue(REPO / "queries").items()}


def percentile(samples: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share in [0, 1]) of the samples."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def megabytes(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def children_peak_megabytes() -> float:
    """The largest resident set of any finished child process so far (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def child_server(
    command: Sequence[str],
    ready_url: str,
    env: dict[str, str] | None = None,
    wait: float = 600,
    log_path: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server as a child process (its own process group) and wait until ``ready_url``
    answers 200; stop the whole group afterwards. What it writes goes to ``log_path``, kept
    for a look after the run, or nowhere."""
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        list(command),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + wait
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            try:
                if httpx.get(ready_url, timeout=30).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not answer at {ready_url}")
            time.sleep(0.2)
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except ProcessLookupError:  # the server and its group are gone already
            process.wait()
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@dataclass
class Latency:
    """Sequential requests on one keep-alive connection, then several clients at once; a
    query that did not answer within the timeout has no latency and no throughput."""

    p50_ms: float
    p99_ms: float
    samples: int
    throughput: float
    clients: int
    failures: int = 0
    rows: int | None = None
    timed_out: bool = False


class TimedOutError(Exception):
    """The endpoint did not answer within the timeout."""


HEADERS = {"Accept": "application/sparql-results+json"}


def _timed_get(client: httpx.Client, url: str, query: str, timeout: float) -> tuple[float, bytes]:
    """One GET of the query, its answer read whole: seconds taken and the body."""
    start = time.perf_counter()
    try:
        response = client.get(url, params={"query": query}, headers=HEADERS)
        body = response.content
    except httpx.TimeoutException:
        raise TimedOutError(f"{url}: no answer in {timeout} s") from None
    seconds = time.perf_counter() - start
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {body[:300]!r}")
    return seconds, body


def _throughput(
    url: str, query: str, clients: int, seconds: float, timeout: float
) -> tuple[float, int]:
    """Answers per second with ``clients`` threads for ``seconds``, and the failures."""
    done = [0] * clients
    failed = [0] * clients
    stop = time.monotonic() + seconds

    def work(slot: int) -> None:
        with httpx.Client(timeout=timeout) as client:
            while time.monotonic() < stop:
                try:
                    response = client.get(url, params={"query": query}, headers=HEADERS)
                    _ = response.content
                except httpx.TimeoutException:
                    failed[slot] += 1
                    continue
                if response.status_code == 200:
                    done[slot] += 1
                else:
                    failed[slot] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started), sum(failed)


def _latency(
    durations: list[float], throughput: float, clients: int, failures: int, body: bytes
) -> Latency:
    return Latency(
        p50_ms=percentile(durations, 0.5) * 1000,
        p99_ms=percentile(durations, 0.99) * 1000,
        samples=len(durations),
        throughput=throughput,
        clients=clients,
        failures=failures,
        rows=_rows(json.loads(body)),
    )


def _rows(answer: dict[str, Any]) -> int:
    """The solutions of a SELECT's JSON answer; an ASK's answer counts as one row."""
    return len(answer["results"]["bindings"]) if "results" in answer else 1


def measure_http(
    url: str,
    query: str,
    *,
    samples: int,
    clients: int,
    seconds: float,
    timeout: float = 120,
) -> Latency:
    """p50 and p99 of ``samples`` sequential GETs, then answers per second with ``clients``
    threads for ``seconds``, every answer read whole (SPARQL JSON)."""
    return side_by_side(
        {url: url}, query, samples=samples, clients=clients, seconds=seconds, timeout=timeout
    )[url]


def side_by_side(
    urls: dict[str, str],
    query: str,
    *,
    samples: int,
    clients: int,
    seconds: float,
    timeout: float = 120,
) -> dict[str, Latency]:
    """``measure_http`` for several endpoints (by label) at once: their sequential GETs taken
    in turns, one to each endpoint a round, the first of a round changing from round to round,
    so that a change in the machine's load falls on each alike; then each one's throughput,
    one after another."""
    clients_by_label = {label: httpx.Client(timeout=timeout) for label in urls}
    durations: dict[str, list[float]] = {label: [] for label in urls}
    bodies: dict[str, bytes] = {}
    labels = list(urls)
    try:
        for round_ in range(samples):
            turn = labels[round_ % len(labels) :] + labels[: round_ % len(labels)]
            for label in turn:
                took, body = _timed_get(clients_by_label[label], urls[label], query, timeout)
                durations[label].append(took)
                bodies.setdefault(label, body)
    finally:
        for client in clients_by_label.values():
            client.close()
    found = {}
    for label, url in urls.items():
        throughput, failures = _throughput(url, query, clients, seconds, timeout)
        found[label] = _latency(durations[label], throughput, clients, failures, bodies[label])
    return found


SCALE_PAGES = (
    "/page/tool/peace-operations",
    "/page/release/v3",
    "/compare/releases?tool=peace-operations&from=V2&to=V3",
    "/page/factor/large-force",
    "/",
)
"""Pages timed on the scaled graphs, embedded (bench/workers.py) and on Virtuoso
(bench/virtuoso.py): the ones that read the most queries (a factor's page and the home page
draw evidence gap maps too)."""
SCALE_PAGE_SAMPLES = 3
SLOW_PAGE_S = 10.0


def page_p50_ms(url: str, samples: int, timeout: float = 120) -> float | None:
    """The median time of up to ``samples`` sequential GETs of a page, each read whole, in ms;
    one GET that takes over SLOW_PAGE_S is the only sample (a page that slow is measured, not
    averaged); None if a GET does not answer within ``timeout`` seconds."""
    return page_timing(url, samples, timeout)[0]


def page_timing(url: str, samples: int, timeout: float = 120) -> tuple[float | None, str | None]:
    """``page_p50_ms``, and the ETag the page came with (None: it had none)."""
    durations = []
    etag = None
    with httpx.Client(timeout=timeout) as client:
        for _ in range(samples):
            start = time.perf_counter()
            try:
                response = client.get(url)
                _ = response.content
            except httpx.TimeoutException:
                return None, None
            durations.append(time.perf_counter() - start)
            etag = response.headers.get("etag")
            if durations[-1] > SLOW_PAGE_S:
                break
    return percentile(durations, 0.5) * 1000, etag


REVALIDATION_SAMPLES = 9


def revalidation_p50_ms(url: str, etag: str | None, timeout: float = 120) -> float | None:
    """The median time of GETs of a page sending back its ``etag`` (If-None-Match), in ms:
    what a cache in front pays to learn that what it holds is current. None without an ETag,
    or if an answer is not the 304 it should be."""
    if etag is None:
        return None
    durations = []
    with httpx.Client(timeout=timeout) as client:
        for _ in range(REVALIDATION_SAMPLES):
            start = time.perf_counter()
            response = client.get(url, headers={"If-None-Match": etag})
            durations.append(time.perf_counter() - start)
            if response.status_code != 304:
                return None
    return percentile(durations, 0.5) * 1000


def page_figure(p50_ms: float | None) -> str:
    """A page's p50 as printed: in ms, or that it timed out."""
    return "timed out" if p50_ms is None else f"{p50_ms:.0f} ms"


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


@dataclass
class Target:
    """One line of the benchmark's verdict."""

    name: str
    passed: bool
    measured: str
    wanted: str


@dataclass
class Report:
    """Everything measured in one run, printed as it comes and written as JSON at the end."""

    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    machine: dict[str, Any] = field(
        default_factory=lambda: {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    )
    sections: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    def target(self, name: str, passed: bool, measured: str, wanted: str) -> None:
        self.targets.append(Target(name, passed, measured, wanted))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


def heading(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


def line(*cells: object, widths: Sequence[int] = (40, 12, 12, 12, 12, 12)) -> None:
    """One row of a table: the first cell left-aligned, numbers right-aligned."""
    out = []
    for index, cell in enumerate(cells):
        width = widths[index] if index < len(widths) else 12
        text = f"{cell:.2f}" if isinstance(cell, float) else str(cell)
        out.append(text.ljust(width) if index == 0 else text.rjust(width))
    print(" ".join(out), flush=True)
