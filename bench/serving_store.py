"""Disk or memory: what serving from the build on disk (read-only, shared through the page cache)
costs against serving from an in-memory copy of it, on the real store.

Run: .venv/bin/python bench/serving_store.py [--samples N]
(the store of the checkout, var/store: run `atrocity-kg build` first)

Prints, for each way of opening the current build: the time to open it, each catalogue query's
median time (queries/) and a few of the app's own queries (src/atrocity_kg/query/sparql/), on the
store directly; then the median time of a few pages through the app (``store_in_memory`` off or
on), in this process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, catalogue_texts, line

from atrocity_kg.config import Settings
from atrocity_kg.model.namespaces import sparql_prologue
from atrocity_kg.query import sparql
from atrocity_kg.storage import store
from atrocity_kg.web import create_app

OWN_QUERIES = ("home-counts", "graph-sizes", "releases", "reviewed-tools", "gap-map", "codebook")
PAGES = (
    "/",
    "/page/tool/peace-operations",
    "/page/release/v3",
    "/page/factor/large-force",
    "/page/study/peace-ops-101",
    "/page/strategy/protect",
)
MODES = {"disk": False, "memory": True}


def median_ms(work: Callable[[], object], samples: int) -> float:
    work()  # the first run warms caches, of the system and of the engine
    durations = []
    for _ in range(samples):
        start = time.perf_counter()
        work()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations) * 1000


def drain(opened: ox.Store, text: str) -> Callable[[], int]:
    def run() -> int:
        answer = opened.query(text, use_default_graph_as_union=True)
        assert isinstance(answer, ox.QuerySolutions)
        return sum(1 for _ in answer)

    return run


def queries(build: Path, samples: int) -> None:
    texts = catalogue_texts()
    prologue = sparql_prologue()
    texts |= {f"(own) {name}": prologue + sparql.load(name) for name in OWN_QUERIES}
    found: dict[str, dict[str, float]] = {}
    for mode, in_memory in MODES.items():
        start = time.perf_counter()
        opened = store.open_build(build, in_memory=in_memory)
        print(f"open ({mode}): {(time.perf_counter() - start) * 1000:.0f} ms", flush=True)
        found[mode] = {
            name: median_ms(drain(opened, text), samples) for name, text in texts.items()
        }
        del opened
    line("query (median ms)", "disk", "memory", "disk/memory", widths=(44, 10, 10, 12))
    for name in texts:
        disk, memory = found["disk"][name], found["memory"][name]
        line(name, disk, memory, disk / memory, widths=(44, 10, 10, 12))
    total_disk, total_memory = sum(found["disk"].values()), sum(found["memory"].values())
    line("all", total_disk, total_memory, total_disk / total_memory, widths=(44, 10, 10, 12))


def pages(samples: int) -> None:
    found: dict[str, dict[str, float]] = {}
    for mode, in_memory in MODES.items():
        settings = Settings(home=REPO, store_in_memory=in_memory, query_workers=1)
        with TestClient(create_app(settings)) as client:
            found[mode] = {}
            for path in PAGES:

                def get(path: str = path) -> None:
                    assert client.get(path).status_code == 200, path

                found[mode][path] = median_ms(get, samples)
    line("page (median ms)", "disk", "memory", "disk/memory", widths=(44, 10, 10, 12))
    for path in PAGES:
        disk, memory = found["disk"][path], found["memory"][path]
        line(path, disk, memory, disk / memory, widths=(44, 10, 10, 12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    build = store.current_path(Settings(home=REPO).store_root)
    queries(build, args.samples)
    pages(args.samples)


if __name__ == "__main__":
    main()
