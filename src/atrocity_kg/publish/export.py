"""Store -> dump files: each release and the whole graph, gzip-compressed, in four RDF formats.

A release's dump holds its statements (the release statement graphs named for it, such as
``graph/ushmm-v1`` and ``graph/ushmm-v1-v2-v3``), the evidence graph recomputed from it and the
catalogue; the whole dump holds every named graph. Turtle,
N-Triples and JSON-LD carry the union of the chosen graphs as one graph (a set of triples);
N-Quads keeps each triple's graph name. The statements are written sorted and gzip's header
carries no time, so the same store always gives the same bytes, hence the same SHA-256.

The build writes the dumps into the store's own build folder (``builds/<stamp>/dumps``), so the
files served beside a store are always made from that store; ``atrocity-kg export`` writes the
same files anywhere. A ``manifest.json`` lists them; the server serves no other name.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from atrocity_kg.errors import StoreError
from atrocity_kg.graph import catalogue
from atrocity_kg.graph.catalogue import CATALOGUE_GRAPH
from atrocity_kg.model.namespaces import GRAPH
from atrocity_kg.model.negotiation import (
    JSON_LD,
    N_QUADS,
    N_TRIPLES,
    TURTLE,
    Format,
    output_prefixes,
)

DUMPS = "dumps"
"""The folder of a build (beside the store's own files) that holds its dumps."""
MANIFEST = "manifest.json"
PREFIX = "atrocity-kg"
WHOLE = "all"

_RELEASE_GRAPH = re.compile(re.escape(str(GRAPH)) + r"ushmm-(v\d+(?:-v\d+)*)$")
_EVIDENCE_GRAPH = re.compile(re.escape(str(GRAPH)) + r"evidence-(v\d+)$")


DUMP_FORMATS: tuple[Format, ...] = (TURTLE, N_TRIPLES, N_QUADS, JSON_LD)
"""The dumps' syntaxes (from the one format table): each dump's name ends with its extension."""
GZIP_MEDIA_TYPE = "application/gzip"
COMPRESSION = 6


@dataclass(frozen=True)
class DumpFile:
    """One written dump: what it holds and how to check it."""

    name: str
    format: str
    media_type: str
    graphs: tuple[str, ...]
    release: str | None
    triples: int
    """Statements in the file: distinct triples of the union, or quads for N-Quads."""
    size: int
    sha256: str

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["graphs"] = list(self.graphs)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> DumpFile:
        graphs = data["graphs"]
        if not isinstance(graphs, list):
            raise StoreError("manifest: graphs must be a list")
        release = data.get("release")
        return cls(
            name=str(data["name"]),
            format=str(data["format"]),
            media_type=str(data["media_type"]),
            graphs=tuple(str(g) for g in graphs),
            release=None if release is None else str(release),
            triples=int(str(data["triples"])),
            size=int(str(data["size"])),
            sha256=str(data["sha256"]),
        )


@dataclass(frozen=True)
class Selection:
    """A set of named graphs written as one dump: a release (code "V1") or the whole (None)."""

    key: str
    release: str | None
    graphs: tuple[str, ...]


def dump_name(key: str, fmt: Format) -> str:
    return f"{PREFIX}-{key}.{fmt.extension}.gz"


def selections(graph_names: Iterable[str]) -> list[Selection]:
    """One selection per release found among the graphs, then the whole. A release's dump holds
    its statements (every release statement graph named for it, see catalogue.py), the evidence
    recomputed from them, and the catalogue (the factors' preferred labels), so it reads on its
    own."""
    names = sorted(graph_names)
    codes = sorted(
        {match.group(1) for name in names if (match := _EVIDENCE_GRAPH.match(name))}
        | {code for name in names for code in _release_codes(name)},
        key=lambda code: int(code[1:]),
    )
    chosen = []
    for key in codes:
        members = [
            name for name in names if key.upper() in catalogue.releases_of(name, [key.upper()])
        ]
        members += [
            name for name in names if name in {f"{GRAPH}evidence-{key}", str(CATALOGUE_GRAPH)}
        ]
        chosen.append(Selection(key, key.upper(), tuple(sorted(members))))
    chosen.append(Selection(WHOLE, None, tuple(names)))
    return chosen


def _release_codes(name: str) -> list[str]:
    match = _RELEASE_GRAPH.match(name)
    return match.group(1).split("-") if match else []


_NT = N_TRIPLES.rdf_format
_NQ = N_QUADS.rdf_format


def _nt_lines(triples: Iterable[ox.Triple]) -> list[str]:
    """Triples as N-Triples lines, as pyoxigraph's serialiser writes them."""
    output = io.BytesIO()
    ox.serialize(triples, output, _NT)
    return output.getvalue().decode("utf-8").splitlines()


def statement_lines(store: ox.Store) -> dict[str, list[str]]:
    """Each named graph's triples as N-Triples lines, with blank nodes relabelled canonically.

    The store's blank node labels are random (fresh at every parse), so the quads that mention
    a blank node are canonicalised together (pyoxigraph's algorithm, deterministic for a given
    pyoxigraph version): the same data then gives the same labels, hence the same bytes.
    """
    by_graph: dict[str, list[str]] = {}
    blank: list[str] = []
    for node in store.named_graphs():
        if not isinstance(node, ox.NamedNode):
            continue
        kept = by_graph.setdefault(node.value, [])
        dumped = store.dump(format=_NT, from_graph=node)
        assert dumped is not None
        for line in dumped.decode("utf-8").splitlines():
            if "_:" in line:
                blank.append(f"{line[:-2]} <{node.value}> .")
            elif line:
                kept.append(line)
    if blank:
        dataset = ox.Dataset(ox.parse("\n".join(blank).encode("utf-8"), format=_NQ))
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        canonical: dict[str, list[ox.Triple]] = {}
        for quad in dataset:
            assert isinstance(quad.graph_name, ox.NamedNode)
            canonical.setdefault(quad.graph_name.value, []).append(quad.triple)
        for name, triples in canonical.items():
            by_graph[name].extend(_nt_lines(triples))
    return by_graph


def _text(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _serialise(fmt: Format, nt: bytes, nq: bytes) -> bytes:
    """N-Triples and N-Quads are the sorted lines themselves; Turtle and JSON-LD are written by
    pyoxigraph from the sorted triples, so they come in the same order."""
    if fmt.rdf_format is _NT:
        return nt
    if fmt.rdf_format is _NQ:
        return nq
    prefixes = output_prefixes() if fmt.rdf_format is ox.RdfFormat.TURTLE else None
    written = ox.serialize(ox.parse(nt, format=_NT), None, fmt.rdf_format, prefixes=prefixes)
    assert written is not None
    return written


def _write_file(path: Path, data: bytes) -> tuple[int, str]:
    """Gzip into ``path`` with no time and no name in the header; return size and SHA-256."""
    packed = gzip.compress(data, compresslevel=COMPRESSION, mtime=0)
    path.write_bytes(packed)
    return len(packed), hashlib.sha256(packed).hexdigest()


@contextmanager
def _opened(source: Path | ox.Store) -> Iterator[ox.Store]:
    if isinstance(source, ox.Store):
        yield source
        return
    try:
        opened = ox.Store.read_only(str(source))
    except OSError as error:
        raise StoreError(f"cannot open the store at {source}: {error}") from error
    try:
        yield opened
    finally:
        del opened


def _stage(folder: Path) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    staged = folder.parent / f".{folder.name}.{os.getpid()}.{time.monotonic_ns()}"
    staged.mkdir()
    return staged


def _check_replaceable(folder: Path) -> None:
    """Only a folder of dumps is replaced: never one holding anything else."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise StoreError(f"{folder} is not a folder")
    others = [
        path.name
        for path in folder.iterdir()
        if path.name != MANIFEST
        and not (path.name.startswith(PREFIX + "-") and path.name.endswith(".gz"))
    ]
    if others:
        raise StoreError(
            f"{folder} holds other files than dumps ({', '.join(sorted(others)[:3])}): "
            "choose an empty or new folder"
        )


def _swap_in(staged: Path, folder: Path) -> None:
    """Put the staged folder in place of ``folder``: one rename when there was none."""
    if not folder.exists():
        os.replace(staged, folder)
        return
    retired = folder.parent / f".{folder.name}.old.{os.getpid()}.{time.monotonic_ns()}"
    os.replace(folder, retired)
    os.replace(staged, folder)
    shutil.rmtree(retired, ignore_errors=True)


def _reused(
    selection: Selection, nt_bytes: bytes, folder: Path, earlier: Path | None
) -> list[DumpFile] | None:
    """The files of an earlier set of dumps for the same selection, copied, when they hold the
    same statements (their N-Triples file, unpacked, is the same bytes): the dumps of a store
    are a function of its statements, so the copies are the files this call would write."""
    if earlier is None:
        return None
    listed = {file.name: file for file in read_manifest(earlier)}
    wanted = [dump_name(selection.key, fmt) for fmt in DUMP_FORMATS]
    if not all(name in listed for name in wanted):
        return None
    files = [listed[name] for name in wanted]
    if any(file.graphs != selection.graphs or file.release != selection.release for file in files):
        return None
    try:
        with gzip.open(earlier / dump_name(selection.key, N_TRIPLES), "rb") as packed:
            if packed.read(len(nt_bytes) + 1) != nt_bytes:
                return None
        for name in wanted:
            shutil.copyfile(earlier / name, folder / name)
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    return files


def _write_selection(
    selection: Selection,
    by_graph: dict[str, list[str]],
    folder: Path,
    earlier: Path | None = None,
) -> list[DumpFile]:
    """The four files of one selection of graphs (copied from ``earlier`` dumps that hold the
    same statements)."""
    nt = sorted({line for name in selection.graphs for line in by_graph[name]})
    nt_bytes = _text(nt)
    reused = _reused(selection, nt_bytes, folder, earlier)
    if reused is not None:
        return reused
    nq = sorted(f"{line[:-2]} <{name}> ." for name in selection.graphs for line in by_graph[name])
    nq_bytes = _text(nq)
    files = []
    for fmt in DUMP_FORMATS:
        name = dump_name(selection.key, fmt)
        size, digest = _write_file(folder / name, _serialise(fmt, nt_bytes, nq_bytes))
        files.append(
            DumpFile(
                name=name,
                format=fmt.name,
                media_type=fmt.media_type,
                graphs=selection.graphs,
                release=selection.release,
                triples=len(nq if fmt.keeps_graph_names else nt),
                size=size,
                sha256=digest,
            )
        )
    return files


def write_dumps(
    source: Path | ox.Store, folder: Path, earlier: Path | None = None
) -> list[DumpFile]:
    """Write every dump of the store (a store or the path of a store folder) into ``folder``,
    with its manifest; the folder is replaced whole or not at all. The files of a selection
    whose statements ``earlier`` dumps (the current build's) hold already are copied from them
    (a contribution changes the whole dump only)."""
    _check_replaceable(folder)
    with _opened(source) as store:
        by_graph = statement_lines(store)
    staged = _stage(folder)
    try:
        # pyoxigraph's serialisers and zlib release the GIL: the files are written side by side.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            written = [
                pool.submit(_write_selection, selection, by_graph, staged, earlier)
                for selection in selections(by_graph)
            ]
            files = [file for future in written for file in future.result()]
        manifest = {"files": [file.to_json() for file in files]}
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        for path in staged.iterdir():
            path.chmod(0o644)
        staged.chmod(0o755)
        _swap_in(staged, folder)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return files


def read_manifest(folder: Path) -> list[DumpFile]:
    """The dumps listed in a folder's manifest; none if there is no manifest."""
    path = folder / MANIFEST
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [DumpFile.from_json(entry) for entry in data["files"]]
    except (ValueError, KeyError, TypeError) as error:
        raise StoreError(f"unreadable dump manifest {path}: {error}") from error


def dump_format(name: str) -> Format:
    for fmt in DUMP_FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)
