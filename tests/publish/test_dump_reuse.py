"""Dumps copied from an earlier set when their statements are unchanged are the files a fresh
write makes; a selection whose statements changed is written anew."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from atrocity_kg.model import iris
from atrocity_kg.publish import export

GRAPH = "https://w3id.org/atrocity-kg/graph/"


def small_store(extra: bool) -> ox.Store:
    memory = ox.Store()
    release = ox.NamedNode(str(iris.release("V1")))
    kind = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    memory.add(ox.Quad(release, kind, ox.NamedNode(f"{GRAPH}x"), ox.NamedNode(f"{GRAPH}ushmm-v1")))
    memory.add(ox.Quad(ox.BlankNode(), kind, release, ox.NamedNode(f"{GRAPH}ushmm-v1")))
    if extra:
        draft = ox.NamedNode(f"{GRAPH}contribution-1")
        memory.add(ox.Quad(release, kind, ox.NamedNode(f"{GRAPH}y"), draft))
    return memory


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_reused_dumps_are_the_files_a_fresh_write_makes(tmp_path: Path) -> None:
    export.write_dumps(small_store(False), tmp_path / "first")
    changed = small_store(True)
    export.write_dumps(changed, tmp_path / "fresh")
    export.write_dumps(changed, tmp_path / "reused", earlier=tmp_path / "first")
    assert files(tmp_path / "reused") == files(tmp_path / "fresh")
    # The release's files were copied; the whole graph's, which changed, were not.
    first, reused = files(tmp_path / "first"), files(tmp_path / "reused")
    assert first["atrocity-kg-v1.nt.gz"] == reused["atrocity-kg-v1.nt.gz"]
    assert first["atrocity-kg-all.nt.gz"] != reused["atrocity-kg-all.nt.gz"]
