"""Contributions on disk and in the store: contribute, list, withdraw; the build's share.

The files are the truth (``data/contributions/<id>/``, so that ``git log`` is their history); the
store is derived from them. A write holds the store's write lock (as an admin write does), reads
the current build into memory, replaces the draft release's graphs (``graph.draft``) with those of
the contributions as they will be, validates them, and only then writes the folder and swaps a
new build in (``store.write_store``, with its dumps): a failure at any step leaves the folder of
contributions and the store as they were. ``atrocity-kg build`` runs the same ``refresh_draft``
over the graphs it built, so a build keeps every contribution.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from atrocity_kg.config import Settings
from atrocity_kg.curation.source import read_draft_input
from atrocity_kg.errors import (
    ContributionError,
    ContributionFormatError,
    GraphValidationError,
    SourceLocation,
)
from atrocity_kg.graph import build, draft, graphs, summary, validate
from atrocity_kg.graph.catalogue import DuplicateStatementError
from atrocity_kg.graph.draft import DraftInput
from atrocity_kg.ingest.contributions import (
    METADATA_FILE,
    RECORDS_FILE,
    ContributionMeta,
    ContributionRecords,
    new_id,
    read_contribution,
    timestamp,
)
from atrocity_kg.storage import durable, store
from atrocity_kg.storage.writelock import exclusive

STAGING = ".staging-"
WITHDRAWING = ".withdrawing-"


@dataclass(frozen=True)
class Submission:
    """What a curator hands in: records (the layout of all_sources_N.csv), perhaps a
    bibliography (the layout of zotero_N.csv), a note, and who they are."""

    records: Path
    bibliography: Path | None = None
    note: str = ""
    curator: str = "curator"

    def meta(self, now: datetime | None = None) -> ContributionMeta:
        when = now if now is not None else datetime.now(UTC)
        try:
            data = self.records.read_bytes()
        except OSError as error:
            raise ContributionError(f"cannot read {self.records}: {error}") from None
        if self.bibliography is not None and not self.bibliography.is_file():
            raise ContributionError(f"no bibliography file at {self.bibliography}")
        if not self.curator.strip():
            raise ContributionError("a contribution needs its curator's name")
        return ContributionMeta(
            new_id(data, when),
            self.curator.strip(),
            timestamp(when),
            self.note.strip(),
            self.records.name,
            self.bibliography.name if self.bibliography is not None else None,
        )

    def read(self, meta: ContributionMeta, source: DraftInput) -> ContributionRecords:
        """The records as the importer reads them; errors name the curator's own file."""
        bibliography = None
        if self.bibliography is not None:
            bibliography = (self.bibliography.parent, self.bibliography.name)
        return read_contribution(
            meta, source.base, (self.records.parent, self.records.name), bibliography
        )


def list_contributions(folder: Path) -> list[ContributionMeta]:
    """The contributions in ``folder``, oldest first (folders being written or withdrawn, whose
    names start with a dot, are not among them)."""
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        where = f"{entry.name}/{METADATA_FILE}"
        try:
            text = (entry / METADATA_FILE).read_text(encoding="utf-8")
        except OSError as error:
            raise ContributionFormatError(
                SourceLocation(where), f"unreadable metadata: {error}"
            ) from None
        meta = ContributionMeta.from_json(text, where)
        if meta.id != entry.name:
            raise ContributionFormatError(
                SourceLocation(where, column="id"),
                f"the id {meta.id!r} is not the folder's name {entry.name!r}",
            )
        found.append(meta)
    return sorted(found, key=lambda meta: (meta.created, meta.id))


def read_folder(folder: Path, meta: ContributionMeta, source: DraftInput) -> ContributionRecords:
    """A contribution kept in ``folder``, read as it was when it was made."""
    bibliography = None
    if meta.bibliography_name is not None:
        bibliography = (folder, f"{meta.id}/{meta.bibliography_name}")
    return read_contribution(meta, source.base, (folder, f"{meta.id}/{RECORDS_FILE}"), bibliography)


def draft_source(memory: ox.Store) -> DraftInput:
    """What the store's latest release gives a draft, with the tools of its curated data."""
    curated = graphs.named_graph(memory, str(graphs.CURATED_GRAPH))
    return read_draft_input(memory, build.tool_catalogue(curated))


def remove_draft_graphs(memory: ox.Store) -> None:
    for name in store.graph_names(memory):
        if draft.is_draft_graph(name):
            memory.remove_graph(ox.NamedNode(name))


@dataclass
class DraftOutcome:
    """What refreshing the draft made: triples per graph, the SHACL report, seconds per step."""

    graphs: dict[str, int] = field(default_factory=dict)
    report: validate.ValidationReport = field(default_factory=validate.ValidationReport)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Findings of kept contributions that the latest release has come to hold, left out."""


def refresh_draft(
    memory: ox.Store,
    contributions: list[ContributionRecords],
    source: DraftInput,
    cache: validate.ValidationCache | None = None,
) -> DraftOutcome:
    """Make the store's draft graphs those of ``contributions`` (none: no draft at all).
    Validated as a release is; a violation raises GraphValidationError, the store unchanged."""
    outcome = DraftOutcome()
    clock = time.perf_counter()
    named = draft.draft_graphs(source, contributions)
    outcome.timings["draft graphs"] = _lap(clock)
    if named:
        clock = time.perf_counter()
        outcome.report = validate_contributions(memory, named, contributions, source, cache)
        outcome.timings["validate"] = _lap(clock)
        if not outcome.report.conforms:
            raise GraphValidationError(
                f"the contributions do not conform, nothing was written: {outcome.report.summary()}"
            )
    remove_draft_graphs(memory)
    if not named:
        return outcome
    clock = time.perf_counter()

    def stated(triple: tuple[object, ...]) -> bool:
        s, p, o = (graphs.to_ox(term) for term in triple)  # type: ignore[arg-type]
        return next(iter(memory.quads_for_pattern(s, p, o, None)), None) is not None  # type: ignore[arg-type]

    twice = [
        f"{' '.join(t.n3() for t in triple)} in {name}"
        for name, graph in named.items()
        for triple in graph
        if stated(triple)
    ]
    if twice:
        raise DuplicateStatementError(
            "a contribution would state again what the store states already (counted twice "
            "over the default graph): " + "; ".join(twice[:5])
        )
    ontology = graphs.named_graph(memory, str(graphs.ONTOLOGY_GRAPH))
    named[draft.INFERRED_DRAFT_GRAPH] = draft.draft_inferred(ontology, named, stated)
    outcome.timings["inferred"] = _lap(clock)
    for name, graph in named.items():
        memory.extend(graphs.ox_quads(graph, ox.NamedNode(str(name))))
        outcome.graphs[str(name)] = len(graph)
    return outcome


def validate_contributions(
    memory: store.GraphStore,
    named: dict[URIRef, Graph],
    contributions: list[ContributionRecords],
    source: DraftInput,
    cache: validate.ValidationCache | None,
) -> validate.ValidationReport:
    """Each contribution's graph with the draft release's as it would be with that one
    contribution (the release node, its curator, its studies' release), as the build validates
    a release: the store's shapes and ontology, the curated data as context. A job depends on
    its contribution alone, so the validation cache knows it from the preview and from earlier
    writes."""
    jobs = []
    stated: set[str] = set()
    for contribution in contributions:
        name = draft.contribution_graph_name(contribution.meta.id)
        job = named[name] + draft.draft_graph(source.base, [contribution])
        stated.update(str(subject) for subject in job.subjects(RDF.type))
        _add_types(job, memory)
        jobs.append((name, job))
    report = validate.validate_many(
        jobs,
        graphs.named_graph(memory, str(graphs.SHAPES_GRAPH)),
        graphs.named_graph(memory, str(graphs.ONTOLOGY_GRAPH)),
        context=graphs.named_graph(memory, str(graphs.CURATED_GRAPH)),
        cache=cache,
    )
    # The nodes the contributions only point to (a factor, a study of a release) are typed
    # here for the sh:class checks alone: they are validated in their own graphs (a release's,
    # the curated data), so what is reported is about the nodes the contributions and the
    # draft type themselves.
    report.results = [result for result in report.results if result.focus_node in stated]
    return report


def _add_types(job: Graph, memory: store.GraphStore) -> None:
    """The types the store gives the nodes a contribution points to (the factors and studies
    of the releases), so that the shapes' sh:class checks see them, as in a release's graph."""
    nodes = {n for n in (*job.subjects(), *job.objects()) if isinstance(n, URIRef)}
    pointed = nodes - set(job.subjects(RDF.type))
    kind = ox.NamedNode(str(RDF.type))
    for node in pointed:
        for quad in memory.quads_for_pattern(ox.NamedNode(str(node)), kind, None, None):
            job.add((node, RDF.type, graphs.from_ox(quad.object)))


def _lap(start: float) -> float:
    return time.perf_counter() - start


def refresh_from_folder(
    memory: ox.Store, folder: Path, cache: validate.ValidationCache | None = None
) -> DraftOutcome:
    """The build's share: the draft graphs of every contribution in ``folder``."""
    metas = list_contributions(folder)
    if not metas:
        remove_draft_graphs(memory)
        return DraftOutcome()
    source = draft_source(memory)
    kept = [read_folder(folder, m, source) for m in metas]
    notes = [note for contribution in kept for note in draft.drop_known(contribution, source)]
    outcome = refresh_draft(memory, kept, source, cache)
    outcome.notes = notes
    return outcome


@dataclass(frozen=True)
class WriteOutcome:
    """A contribution made or withdrawn: its metadata, the new build, what the draft holds."""

    meta: ContributionMeta
    build: Path
    draft: DraftOutcome
    timings: dict[str, float]


def contribute(
    settings: Settings, submission: Submission, now: datetime | None = None
) -> WriteOutcome:
    """Validate the submission against the current store, then write its folder and a new build
    with it; nothing is written on any error."""
    from atrocity_kg import pipeline

    timings: dict[str, float] = {}
    started = time.perf_counter()
    folder = settings.contributions_root
    meta = submission.meta(now)
    root = settings.store_root
    with exclusive(root):
        clock = time.perf_counter()
        memory = store.copy_of_build(store.current_path(root))
        timings["copy"] = _lap(clock)
        clock = time.perf_counter()
        source = draft_source(memory)
        new = submission.read(meta, source)
        draft.check_against_latest(new, source)
        existing = [read_folder(folder, m, source) for m in list_contributions(folder)]
        notes = [note for kept in existing for note in draft.drop_known(kept, source)]
        if any(m.meta.id == meta.id for m in existing):
            raise ContributionError(f"contribution {meta.id} exists already")
        timings["read"] = _lap(clock)
        cache = validate.ValidationCache(settings.validation_cache)
        outcome = refresh_draft(memory, [*existing, new], source, cache)
        outcome.notes = notes
        clock = time.perf_counter()
        outcome.report.extend(summary.recount(memory, cache))
        timings["summary"] = _lap(clock)
        target = folder / meta.id
        _write_folder(folder, meta, submission)
        try:
            clock = time.perf_counter()
            built = store.write_store(root, memory, before_swap=pipeline.write_build_dumps)
            timings["commit"] = _lap(clock)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
    timings.update({f"draft {k}": v for k, v in outcome.timings.items()})
    timings["total"] = _lap(started)
    return WriteOutcome(meta, built, outcome, timings)


def _write_folder(folder: Path, meta: ContributionMeta, submission: Submission) -> None:
    """The contribution's folder, written under a hidden name and renamed whole into place."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = folder / f"{STAGING}{meta.id}"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir()
    try:
        shutil.copyfile(submission.records, staged / RECORDS_FILE)
        if submission.bibliography is not None and meta.bibliography_name is not None:
            shutil.copyfile(submission.bibliography, staged / meta.bibliography_name)
        (staged / METADATA_FILE).write_text(meta.to_json(), encoding="utf-8")
        durable.fsync_tree(staged)
        os.rename(staged, folder / meta.id)
        durable.fsync_dir(folder)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def withdraw(settings: Settings, contribution_id: str) -> WriteOutcome:
    """Remove a contribution: its folder, and from the store everything it brought (the draft
    is made again from the others; with none left, there is no draft)."""
    from atrocity_kg import pipeline

    timings: dict[str, float] = {}
    started = time.perf_counter()
    folder = settings.contributions_root
    metas = {meta.id: meta for meta in list_contributions(folder)}
    if contribution_id not in metas:
        known = ", ".join(metas) or "none"
        raise ContributionError(f"no contribution {contribution_id!r} (contributions: {known})")
    root = settings.store_root
    target = folder / contribution_id
    aside = folder / f"{WITHDRAWING}{contribution_id}"
    with exclusive(root):
        clock = time.perf_counter()
        memory = store.copy_of_build(store.current_path(root))
        timings["copy"] = _lap(clock)
        cache = validate.ValidationCache(settings.validation_cache)
        os.rename(target, aside)
        try:
            outcome = refresh_from_folder(memory, folder, cache)
            clock = time.perf_counter()
            outcome.report.extend(summary.recount(memory, cache))
            timings["summary"] = _lap(clock)
            clock = time.perf_counter()
            built = store.write_store(root, memory, before_swap=pipeline.write_build_dumps)
            timings["commit"] = _lap(clock)
        except BaseException:
            os.rename(aside, target)
            raise
        shutil.rmtree(aside, ignore_errors=True)
        durable.fsync_dir(folder)
    timings.update({f"draft {k}": v for k, v in outcome.timings.items()})
    timings["total"] = _lap(started)
    return WriteOutcome(metas[contribution_id], built, outcome, timings)
