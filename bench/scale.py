"""Graphs shaped like ours, larger: the real store's quads with the per-study nodes copied.

A copy renames every study, finding, factor, factor family and evidence assessment (suffix
``-cN``) and keeps the tools, releases, strategies and vocabularies shared, so a graph k times
larger has k times the studies, findings, factors and assessments per tool and release, in the
real proportions, and every catalogue query has k times the work. The ontology, shapes and
curated graphs are written once; the summary graph is left out, and counted again on the larger
graph by the build's own code (``graph.summary.refresh``), whose time is reported.

Run as a worker (by bench/suite.py, one process per size, so that its memory peak is its own):
  python bench/scale.py load FILE.nq STORE_FOLDER RESULT.json
loads the file into an on-disk store, counts its summary, then runs every catalogue query on it.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import catalogue_texts, megabytes

from atrocity_kg.graph import summary

COPIED = re.compile(
    r"(<https://w3id\.org/atrocity-kg/id/(?:study|finding|factor|family|assessment)/[^>]*)>"
)
ONCE = ("/graph/ontology>", "/graph/shapes>", "/graph/curated>")
DROPPED = (f"<{summary.SUMMARY_GRAPH}> .",)
"""Derived from the rest: counted again on the larger graph, not copied."""
QUERY_REPEATS = 3


def split(lines: Iterable[str]) -> tuple[list[str], list[str]]:
    """The quads written once (vocabulary graphs) and the quads that are copied (the summary's
    are neither)."""
    endings = tuple(f"{graph} ." for graph in ONCE)
    once: list[str] = []
    copied: list[str] = []
    for text in lines:
        stripped = text.rstrip()
        if stripped.endswith(DROPPED):
            continue
        (once if stripped.endswith(endings) else copied).append(text)
    return once, copied


def copies_for(target: int, once: int, copied: int) -> int:
    return max(1, round((target - once) / max(1, copied)))


def write_copies(once: list[str], copied: list[str], copies: int, path: Path) -> int:
    """Write the vocabulary once and ``copies`` renamed copies of the rest; the lines written
    (duplicates, such as a release's own statements, collapse in the store)."""
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.writelines(once)
        written += len(once)
        for number in range(copies):
            suffix = f"-c{number}>" if number else ">"
            for text in copied:
                out.write(COPIED.sub(rf"\g<1>{suffix}", text))
            written += len(copied)
    return written


def load_and_query(source: Path, folder: Path, result: Path) -> None:
    """Load ``source`` into an on-disk store, count its summary, then time each catalogue query
    (best of a few runs after the first, the first too); write the figures as JSON."""
    start = time.perf_counter()
    store = ox.Store(str(folder))
    store.bulk_load(path=str(source), format=ox.RdfFormat.N_QUADS)
    store.flush()
    store.optimize()
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    summary_triples = summary.refresh(store)
    store.flush()
    summary_seconds = time.perf_counter() - start
    quads = len(store)
    queries = {}
    for name, text in catalogue_texts().items():
        runs = []
        rows = 0
        for _ in range(QUERY_REPEATS):
            began = time.perf_counter()
            answer = store.query(text, use_default_graph_as_union=True)
            assert not isinstance(answer, ox.QueryBoolean), name
            rows = sum(1 for _ in answer)
            runs.append(time.perf_counter() - began)
        queries[name] = {"first_s": runs[0], "best_s": min(runs), "rows": rows}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.write_text(
        json.dumps(
            {
                "quads": quads,
                "load_s": load_seconds,
                "summary_s": summary_seconds,
                "summary_triples": summary_triples,
                "disk_mb": megabytes(folder),
                "peak_mb": peak,
                "queries": queries,
            }
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "load":
        raise SystemExit(__doc__)
    load_and_query(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
