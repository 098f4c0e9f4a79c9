"""The server on a large graph: resident memory of its query workers and start-up to first answer.

For a store folder (an on-disk Oxigraph store, as bench/scale.py loads one), ``measure`` makes it
the current build of a store root, starts ``atrocity-kg serve`` on it (its own process, the
default two query workers), times the start until /sparql first answers, runs every catalogue
query once through /sparql, and reads the resident set (VmRSS, and its peak VmHWM) of the server
and of each query worker from /proc; then it times a few pages (common.SCALE_PAGES, the median of
a few GETs), and each again sent with its ETag, answered 304 (what a cache in front pays).
With ``in_memory`` the server copies the build into memory in itself and in every worker
(``store_in_memory``), for comparison.

Run alone (by bench/suite.py too, in its scale section):
  python bench/workers.py [--scales 1e5,1e6,1e7] [--modes disk,memory]
generates graphs shaped like ours (bench/scale.py) from the checkout's store, loads each, and
measures it in each mode. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BIN,
    REPO,
    SCALE_PAGE_SAMPLES,
    SCALE_PAGES,
    catalogue_texts,
    child_server,
    free_port,
    heading,
    line,
    page_figure,
    page_timing,
    revalidation_p50_ms,
    server_env,
)

from atrocity_kg.config import Settings
from atrocity_kg.query import sandbox
from atrocity_kg.storage import store

WORKER_RSS_TARGET_MB = 300.0
STARTUP_TARGET_S = 30.0
QUERY_TIMEOUT_S = 300.0


def status_megabytes(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB (/proc reports kB)."""
    found = {}
    for text in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        key, _, value = text.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def workers_of(parent: int) -> list[int]:
    """The query worker processes whose parent is ``parent``."""
    return sorted(sandbox.worker_processes(parent))


def store_root_for(folder: Path, root: Path) -> Path:
    """A store root whose current build is ``folder`` (linked, not copied)."""
    builds = root / store.BUILDS
    builds.mkdir(parents=True)
    (builds / "bench").symlink_to(folder.resolve())
    (root / store.CURRENT).symlink_to(Path(store.BUILDS) / "bench")
    return root


def measure(folder: Path, root: Path, *, in_memory: bool) -> dict[str, Any]:
    """Start the server on ``folder``; start-up to first answer, then every catalogue query
        once, then the resident memory of the server and of its query workers (of the workers at
    start too: the store opened, no query run)."""
    store_root = store_root_for(folder, root)
    port = free_port()
    url = f"http://127.0.0.1:{port}/sparql"
    env = server_env(store_root, store_in_memory=in_memory, query_timeout=QUERY_TIMEOUT_S)
    command = [str(BIN / "atrocity-kg"), "serve", "--port", str(port)]
    start = time.perf_counter()
    with child_server(command, url + "?query=ASK%7B%7D", env) as server:
        startup = time.perf_counter() - start
        idle = [status_megabytes(pid)["VmRSS"] for pid in workers_of(server.pid)]
        queries_s = {}
        failed = []
        with httpx.Client(timeout=QUERY_TIMEOUT_S + 30) as client:
            for name, text in catalogue_texts().items():
                began = time.perf_counter()
                response = client.post(
                    url,
                    data={"query": text},
                    headers={"Accept": "application/sparql-results+json"},
                )
                queries_s[name] = time.perf_counter() - began
                if response.status_code != 200:
                    failed.append(f"{name}: {response.status_code}")
        workers = {pid: status_megabytes(pid) for pid in workers_of(server.pid)}
        app = status_megabytes(server.pid)
        base = url.removesuffix("/sparql")
        pages, revalidated = {}, {}
        for path in SCALE_PAGES:
            pages[path], etag = page_timing(base + path, SCALE_PAGE_SAMPLES)
            revalidated[path] = revalidation_p50_ms(base + path, etag)
    return {
        "mode": "memory" if in_memory else "disk",
        "startup_s": startup,
        "app_rss_mb": app["VmRSS"],
        "app_peak_mb": app["VmHWM"],
        "worker_idle_mb": idle,
        "worker_rss_mb": [figures["VmRSS"] for figures in workers.values()],
        "worker_peak_mb": [figures["VmHWM"] for figures in workers.values()],
        "queries_s": queries_s,
        "page_p50_ms": pages,
        "page_revalidated_ms": revalidated,
        "failed": failed,
    }


def print_measure(label: str, figures: dict[str, Any]) -> None:
    idle = ", ".join(f"{mb:.0f}" for mb in figures["worker_idle_mb"])
    rss = ", ".join(f"{mb:.0f}" for mb in figures["worker_rss_mb"])
    peaks = ", ".join(f"{mb:.0f}" for mb in figures["worker_peak_mb"])
    print(
        f"  {label} ({figures['mode']}): start-up to first answer {figures['startup_s']:.1f} s; "
        f"server RSS {figures['app_rss_mb']:.0f} MB (peak {figures['app_peak_mb']:.0f}); "
        f"query workers RSS {idle} MB at start, {rss} MB after the catalogue (peak {peaks}); "
        f"catalogue through /sparql {sum(figures['queries_s'].values()):.1f} s",
        flush=True,
    )
    pages = "; ".join(f"{path} {page_figure(p50)}" for path, p50 in figures["page_p50_ms"].items())
    print(f"  pages (p50): {pages}", flush=True)
    again = "; ".join(
        f"{path} {'no 304' if p50 is None else f'{p50:.1f} ms'}"
        for path, p50 in figures["page_revalidated_ms"].items()
    )
    print(f"  the same pages revalidated with their ETag (304, p50): {again}", flush=True)
    for failure in figures["failed"]:
        print(f"  ! {failure}", flush=True)


def verdicts(target: int, figures: dict[str, Any]) -> list[tuple[str, bool, str, str]]:
    """The targets judged at 10^7 triples (and above): (name, passed, measured, wanted). A
    worker's memory is judged twice: with its store open and no query run (what holding the
    graph costs), and at its peak over the catalogue (what evaluating the queries adds)."""
    if target < 10**7:
        return []
    at_start = max(figures["worker_idle_mb"], default=float("inf"))
    peak = max(figures["worker_peak_mb"], default=float("inf"))
    size = f"{target:.0e} triples ({figures['mode']})"
    wanted = f"< {WORKER_RSS_TARGET_MB:.0f} MB"
    return [
        (
            f"resident memory per query worker at {size}, store open",
            at_start < WORKER_RSS_TARGET_MB,
            f"{at_start:.0f} MB",
            wanted,
        ),
        (
            f"resident memory per query worker at {size}, peak over the catalogue",
            peak < WORKER_RSS_TARGET_MB,
            f"{peak:.0f} MB",
            wanted,
        ),
        (
            f"start-up to first answer at {size}",
            figures["startup_s"] < STARTUP_TARGET_S,
            f"{figures['startup_s']:.1f} s",
            f"< {STARTUP_TARGET_S:.0f} s",
        ),
    ]


def load(source: Path, folder: Path) -> tuple[int, float]:
    """Load an N-Quads file into a new on-disk store, as bench/scale.py does; quads, seconds."""
    start = time.perf_counter()
    loaded = ox.Store(str(folder))
    loaded.bulk_load(path=str(source), format=ox.RdfFormat.N_QUADS)
    loaded.flush()
    loaded.optimize()
    quads = len(loaded)
    del loaded
    return quads, time.perf_counter() - start


def main() -> None:
    import scale

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--scales", default="1e5,1e6", help="sizes, comma-separated")
    parser.add_argument("--modes", default="disk,memory", help="disk, memory or both")
    args = parser.parse_args()
    scales = [int(float(s)) for s in args.scales.split(",")]
    modes = args.modes.split(",")
    build = store.current_path(Settings(home=REPO).store_root)
    with gzip.open(build / "dumps" / "atrocity-kg-all.nq.gz", "rt", encoding="utf-8") as packed:
        once, copied = scale.split(packed)
    verdict_lines = []
    with tempfile.TemporaryDirectory(prefix="atrocity-kg-workers-") as folder:
        root = Path(folder)
        for target in scales:
            heading(f"~{target:.0e} triples")
            source = root / f"scale-{target}.nq"
            began = time.perf_counter()
            copies = scale.copies_for(target, len(once), len(copied))
            scale.write_copies(once, copied, copies, source)
            generated = time.perf_counter() - began
            data = root / f"scale-{target}-store"
            quads, loaded = load(source, data)
            source.unlink()
            line(f"{quads} quads", f"generate {generated:.1f} s", f"load {loaded:.1f} s")
            for mode in modes:
                figures = measure(data, root / f"root-{target}-{mode}", in_memory=mode == "memory")
                print_measure(f"~{target:.0e}", figures)
                verdict_lines += verdicts(target, figures)
            shutil.rmtree(data, ignore_errors=True)
    for name, passed, measured, wanted in verdict_lines:
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {measured} (wanted {wanted})", flush=True)
    if not verdict_lines:
        print("no size of 10^7 triples measured: no PASS/FAIL against the workers' targets")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
