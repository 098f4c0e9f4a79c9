"""A larger graph shaped like the real one, made as bench/scale.py makes it (the per-study
nodes copied, the vocabularies once), with its summary counted anew: what the tests that check
the summary against the findings run on besides the real data."""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox

from atrocity_kg.graph import summary

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import scale  # noqa: E402  (bench/scale.py: the larger graphs)


def copies_of(real: ox.Store, folder: Path, copies: int = 2) -> ox.Store:
    """The real store's quads in ``copies`` copies, in memory, the summary counted on them."""
    dumped = real.dump(format=ox.RdfFormat.N_QUADS)
    assert dumped is not None
    once, copied = scale.split(dumped.decode("utf-8").splitlines(keepends=True))
    assert not any(str(summary.SUMMARY_GRAPH) in line for line in once + copied)
    path = folder / "copies.nq"
    scale.write_copies(once, copied, copies, path)
    memory = ox.Store()
    memory.load(path=str(path), format=ox.RdfFormat.N_QUADS)
    assert len(memory) > len(real)
    assert summary.refresh(memory) > 0
    return memory
