"""Time each stage of the build on the real data, and validation serial against parallel.

Run: .venv/bin/python bench/build_stages.py [--release-folder ../shared/ushmm-data]
Prints one line per stage; compare ratios measured in the same run, as the machine is shared.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from atrocity_kg import pipeline
from atrocity_kg.config import Settings
from atrocity_kg.graph import build, catalogue, graphs, validate
from atrocity_kg.ingest.releases import RELEASES
from atrocity_kg.ingest.ushmm import read_release
from atrocity_kg.storage import store

T = TypeVar("T")


def timed(label: str, work: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = work()
    print(f"{label:<44} {time.perf_counter() - start:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--release-folder", type=Path, default=Path("../shared/ushmm-data"))
    args = parser.parse_args()
    settings = Settings()
    ontology = timed("load ontology", lambda: graphs.load_ontology(settings))
    shapes = timed("load shapes", lambda: graphs.load_shapes(settings))
    curated = timed("load curated data", lambda: graphs.load_curated(settings))
    if (args.release_folder / "data").is_dir():
        tools = build.tool_catalogue(curated)
        for code in RELEASES:
            records = timed(
                f"read release {code} (CSV)",
                lambda c=code: read_release(  # type: ignore[misc]
                    args.release_folder, c, tools
                ),
            )
            timed(f"map release {code} to RDF", lambda r=records: build.release_graph(r))  # type: ignore[misc]
    releases = timed("parse committed release graphs", lambda: graphs.load_releases(settings))
    jobs = [(graphs.CURATED_GRAPH, curated)]
    jobs += [(graphs.release_graph_name(c), g + curated) for c, g in releases.items()]
    serial = time.perf_counter()
    for name, data in jobs:
        timed(
            f"validate {name.rsplit('/', 1)[-1]} (serial)",
            lambda d=data, n=name: validate.validate(d, shapes, ontology, graph_name=n),  # type: ignore[misc]
        )
    serial = time.perf_counter() - serial
    parallel = time.perf_counter()
    timed(
        "validate all (one process per core)",
        lambda: validate.validate_many(jobs, shapes, ontology),
    )
    parallel = time.perf_counter() - parallel
    print(f"{'parallel / serial validation':<44} {parallel / serial:8.2f}")
    timings: dict[str, float] = {}
    derived = timed(
        "recompute evidence, then reason",
        lambda: pipeline.derived_graphs(ontology, curated, releases, timings),
    )
    for step, seconds in timings.items():
        print(f"{'  of which ' + step:<44} {seconds:8.2f} s")
    named = {
        graphs.ONTOLOGY_GRAPH: ontology,
        graphs.SHAPES_GRAPH: shapes,
        graphs.CURATED_GRAPH: curated,
    }
    statements = timed(
        "re-cut the releases: each statement once", lambda: catalogue.statement_graphs(releases)
    )
    named |= statements
    named[catalogue.CATALOGUE_GRAPH] = timed(
        "the catalogue (one label per factor)",
        lambda: catalogue.catalogue_graph(releases, statements),
    )
    named |= derived
    with tempfile.TemporaryDirectory() as folder:
        timed("write the on-disk store", lambda: store.write_store(Path(folder), named))
        timed("copy the store into memory", lambda: store.in_memory_copy(Path(folder)))


if __name__ == "__main__":
    main()
