"""Orders the stages: import (ingest, build, validate, write) and build (validate, store)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from atrocity_kg.config import Settings
from atrocity_kg.curation import contributions
from atrocity_kg.errors import (
    GraphValidationError,
    ReleaseFormatError,
    SourceLocation,
    StoreError,
)
from atrocity_kg.graph import build, catalogue, evidence, graphs, reasoning, validate
from atrocity_kg.graph import summary as summary_stage
from atrocity_kg.ingest.releases import RELEASES, discover
from atrocity_kg.ingest.ushmm import read_release
from atrocity_kg.publish import export
from atrocity_kg.quality import report as quality_report_module
from atrocity_kg.quality.check import check_folder
from atrocity_kg.storage import durable, store, writelock
from atrocity_kg.storage.remote import RemoteStore

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass
class ImportSummary:
    releases: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    quirks: list[str] = field(default_factory=list)
    quality: dict[str, int] = field(default_factory=dict)
    report: validate.ValidationReport = field(default_factory=validate.ValidationReport)


@dataclass
class BuildSummary:
    graphs: dict[str, int] = field(default_factory=dict)
    store: Path | None = None
    report: validate.ValidationReport = field(default_factory=validate.ValidationReport)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """Contributed findings the latest release holds already, left out of the draft."""


def validation_jobs(
    releases: dict[str, Graph], curated: Graph, quality: Graph | None = None
) -> list[tuple[URIRef, Graph]]:
    """The curated data, each release and the quality annotations (validated with the curated
    data as context: the tools and vocabularies they point into)."""
    jobs = [(graphs.CURATED_GRAPH, curated)]
    jobs += [(graphs.release_graph_name(code), graph) for code, graph in releases.items()]
    if quality is not None:
        jobs.append((graphs.QUALITY_GRAPH, quality))
    return jobs


def validate_release_graphs(
    releases: dict[str, Graph],
    curated: Graph,
    ontology: Graph,
    shapes: Graph,
    progress: Progress,
    cache: validate.ValidationCache | None = None,
    quality: Graph | None = None,
) -> validate.ValidationReport:
    progress("validating curated data and releases " + ", ".join(releases))
    jobs = validation_jobs(releases, curated, quality)
    return validate.validate_many(jobs, shapes, ontology, context=curated, cache=cache)


def import_ushmm(
    settings: Settings, folder: Path, codes: Iterable[str], progress: Progress = _silent
) -> ImportSummary:
    """Read, map and validate the chosen releases; write their graphs only if all conform, and
    then all together: killed at any moment, the import leaves data/ushmm all old or all new
    (an import killed while replacing the files is finished by whoever reads them next, this
    import first)."""
    if durable.recover(settings.ushmm_dir):
        progress(f"finished the replacement of {settings.ushmm_dir} an earlier import left")
    curated = graphs.load_curated(settings)
    ontology = graphs.load_ontology(settings)
    shapes = graphs.load_shapes(settings)
    catalogue = build.tool_catalogue(curated)
    summary = ImportSummary()
    new: dict[str, Graph] = {}
    for code in codes:
        progress(f"reading release {code} from {folder}")
        records = read_release(folder, code, catalogue)
        # A file several releases read (the bibliography) reports its slips once.
        summary.quirks.extend(q for q in records.quirks if q not in summary.quirks)
        new[code] = build.release_graph(records)
        summary.releases[code] = len(new[code])
    # Every release in the folder, whichever are imported: the rules compare releases.
    progress(f"checking the release files in {folder} (quality rules)")
    checked = check_folder(folder, curated)
    quality = checked.graph
    summary.quality = checked.counts()
    cache = validate.ValidationCache(settings.validation_cache)
    summary.report = validate_release_graphs(
        new, curated, ontology, shapes, progress, cache, quality
    )
    if not summary.report.conforms:
        raise GraphValidationError(f"import stopped, nothing written: {summary.report.summary()}")
    files = {graphs.release_file(settings, code): graph for code, graph in new.items()}
    files[graphs.quality_file(settings)] = quality
    progress("writing " + ", ".join(str(path) for path in sorted(files)))
    graphs.write_turtle_files(files)
    summary.files = sorted(files)
    return summary


def derived_graphs(
    ontology: Graph,
    curated: Graph,
    releases: dict[str, Graph],
    timings: dict[str, float],
    hermit_cache: Path | None = None,
) -> dict[URIRef, Graph]:
    """Recomputed evidence per release, then the inferred graph over everything asserted.

    HermiT runs in a Java process that needs no evidence: a thread waits for it while this one
    recomputes the evidence. Its answer is kept in ``hermit_cache`` (when given) for the admin
    writes that follow (``curation.derive``)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        hermit = pool.submit(
            reasoning.hermit_stage, ontology, curated, releases, timings, hermit_cache
        )
        start = time.perf_counter()
        assessed = {code: evidence.assess_release(code, graph) for code, graph in releases.items()}
        timings["evidence"] = time.perf_counter() - start
        result = reasoning.infer(ontology, curated, releases, assessed, hermit.result())
    timings.update(result.timings)
    named = {evidence.evidence_graph_name(code): graph for code, graph in assessed.items()}
    named[reasoning.INFERRED_GRAPH] = result.inferred
    return named


def write_build_dumps(
    folder: Path, written: ox.Store, timings: dict[str, float] | None = None
) -> None:
    """The dumps of a new build, for ``store.write_store``'s ``before_swap``: written into its
    folder before it becomes current, so that it is never served without them."""
    started = time.perf_counter()
    # The build beside it (builds/<name>, under the store root) whose dumps may be reused.
    current = folder.parent.parent / store.CURRENT / export.DUMPS
    earlier = current if (current / export.MANIFEST).is_file() else None
    export.write_dumps(written, folder / export.DUMPS, earlier)
    if timings is not None:
        timings["dumps"] = time.perf_counter() - started


def build_store(settings: Settings, progress: Progress = _silent) -> BuildSummary:
    """Load ontology and data, reason and validate, and only if the graph is consistent and
    conforms replace the embedded store."""
    summary = BuildSummary()
    clock = time.perf_counter()
    progress("loading ontology, shapes and data")
    ontology = graphs.load_ontology(settings)
    shapes = graphs.load_shapes(settings)
    curated = graphs.load_curated(settings)
    releases = graphs.load_releases(settings)
    quality = graphs.load_quality(settings)
    summary.timings["load"] = time.perf_counter() - clock
    clock = time.perf_counter()
    progress("validating curated data and releases " + ", ".join(releases) + " (in the background)")
    jobs = validation_jobs(releases, curated, quality)
    cache = validate.ValidationCache(settings.validation_cache)
    with validate.validating(jobs, shapes, ontology, context=curated, cache=cache) as report:
        progress("recomputing evidence ratings and reasoning (HermiT, then OWL 2 RL rules)")
        derived = derived_graphs(
            ontology, curated, releases, summary.timings, settings.reasoning_cache
        )
        waited = time.perf_counter()
        summary.report = report()
        summary.timings["validation wait"] = time.perf_counter() - waited
    summary.timings["validation and reasoning"] = time.perf_counter() - clock
    if not summary.report.conforms:
        raise GraphValidationError(
            f"build stopped, the store was left as it was: {summary.report.summary()}"
        )
    named: dict[URIRef, Graph] = {
        graphs.ONTOLOGY_GRAPH: ontology,
        graphs.SHAPES_GRAPH: shapes,
        graphs.CURATED_GRAPH: curated,
    }
    statements = catalogue.statement_graphs(releases)
    named.update(statements)
    named[catalogue.CATALOGUE_GRAPH] = catalogue.catalogue_graph(releases, statements)
    if quality is not None:
        named[graphs.QUALITY_GRAPH] = quality
    named.update(derived)
    catalogue.check_each_statement_once(named)
    summary.graphs = {str(name): len(graph) for name, graph in named.items()}
    written: dict[URIRef, Graph] | ox.Store = named
    if contributions.list_contributions(settings.contributions_root):
        progress("adding the contributions (the draft release)")
        clock = time.perf_counter()
        written = store.memory_store(named)
        drafted = contributions.refresh_from_folder(written, settings.contributions_root, cache)
        summary.report.extend(drafted.report)
        summary.graphs.update(drafted.graphs)
        summary.notes = drafted.notes
        summary.timings["contributions"] = time.perf_counter() - clock
    progress("counting the summary (graph/summary)")
    if not isinstance(written, ox.Store):
        # The store is written from an in-memory copy anyway (store.write_store).
        written = store.memory_store(named)
    clock = time.perf_counter()
    summary.graphs[str(summary_stage.SUMMARY_GRAPH)] = summary_stage.refresh(written)
    summary.timings["summary"] = time.perf_counter() - clock
    progress("validating the summary (in the background)")
    clock = time.perf_counter()
    with summary_stage.checking(written, shapes, ontology, cache) as summary_report:
        progress("writing the store and its dumps")

        def dumps_then_summary(folder: Path, memory: ox.Store) -> None:
            """The dumps, then the summary's report: a summary that does not conform stops
            the build here, before the new build becomes current (``write_store`` then
            removes it)."""
            write_build_dumps(folder, memory, timings=summary.timings)
            waited = time.perf_counter()
            checked = summary_report()
            summary.timings["summary validation wait"] = time.perf_counter() - waited
            summary.report.extend(checked)
            if not checked.conforms:
                first = checked.violations[0]
                raise GraphValidationError(
                    f"build stopped, the store was left as it was: the summary graph: "
                    f"{checked.summary()}; first: {first}"
                )

        with writelock.exclusive(settings.store_root):
            summary.store = store.write_store(
                settings.store_root, written, before_swap=dumps_then_summary
            )
    summary.timings["summary validation, store and dumps"] = time.perf_counter() - clock
    return summary


@dataclass
class ReasoningSummary:
    result: reasoning.ReasoningResult
    differences: list[reasoning.StatedDifference]


def reason_files(settings: Settings, progress: Progress = _silent) -> ReasoningSummary:
    """Run the reasoning stage on the data files, as the build would, without writing a store."""
    progress("loading ontology and data")
    ontology = graphs.load_ontology(settings)
    curated = graphs.load_curated(settings)
    releases = graphs.load_releases(settings)
    progress("recomputing evidence ratings and reasoning (HermiT, then OWL 2 RL rules)")
    assessed = {code: evidence.assess_release(code, graph) for code, graph in releases.items()}
    result = reasoning.infer(ontology, curated, releases, assessed)
    return ReasoningSummary(result, reasoning.stated_versus_derived(curated, releases))


def check_evidence(
    settings: Settings, codes: Iterable[str], progress: Progress = _silent
) -> list[evidence.ReleaseCheck]:
    """Recompute the chosen releases' ratings and compare them with the published ones."""
    releases = graphs.load_releases(settings)
    checks = []
    for code in codes:
        if code not in releases:
            raise StoreError(f"release {code} has not been imported: run `atrocity-kg import`")
        progress(f"recomputing the ratings of {code}")
        assessed = evidence.assess_release(code, releases[code])
        checks.append(evidence.check_release(code, releases[code], assessed))
    return checks


def validate_files(
    settings: Settings, paths: Iterable[Path], progress: Progress = _silent
) -> validate.ValidationReport:
    """Validate given Turtle files (or, with none, everything the build would load)."""
    ontology = graphs.load_ontology(settings)
    shapes = graphs.load_shapes(settings)
    curated = graphs.load_curated(settings)
    chosen = list(paths)
    if not chosen:
        return validate_release_graphs(
            graphs.load_releases(settings),
            curated,
            ontology,
            shapes,
            progress,
            quality=graphs.load_quality(settings),
        )
    progress("validating " + ", ".join(map(str, chosen)))
    jobs = [(URIRef(path.resolve().as_uri()), graphs.parse_turtle(path)) for path in chosen]
    return validate.validate_many(jobs, shapes, ontology, context=curated)


def quality_report(
    settings: Settings, release: str | None = None
) -> tuple[quality_report_module.QualityReport, str]:
    """The quality report and where it was read: the store the server reads (a remote one when
    configured, else the embedded build) when it holds graph/quality; otherwise the committed
    data/ushmm/quality.ttl, so the report is there before any build."""
    name = str(graphs.QUALITY_GRAPH)
    if settings.sparql_endpoint:
        remote = RemoteStore(settings.sparql_endpoint, union=settings.remote_union)
        try:
            if name in remote.graph_names():
                return quality_report_module.read_report(remote, release), settings.sparql_endpoint
        finally:
            remote.close()
    else:
        try:
            with store.opened(settings.store_root) as opened:
                if opened.contains_named_graph(ox.NamedNode(name)):
                    report = quality_report_module.read_report(opened, release)
                    return report, f"the store {store.current_path(settings.store_root)}"
        except StoreError:
            pass
    graph = graphs.load_quality(settings)
    if graph is None:
        raise StoreError(
            f"no quality report: neither the store nor {graphs.quality_file(settings)} holds "
            "one; run `atrocity-kg import ushmm PATH`"
        )
    memory = store.memory_store({graphs.QUALITY_GRAPH: graph})
    return quality_report_module.read_report(memory, release), str(graphs.quality_file(settings))


ALL_RELEASES = tuple(RELEASES)
"""The releases published when the code was written (the tests' shared data holds them)."""


def releases_in_folder(folder: Path) -> list[str]:
    """Every release a folder laid out like the upstream repository holds, oldest first: what an
    import of the whole folder reads, new releases included."""
    found = list(discover(folder))
    if not found:
        raise ReleaseFormatError(
            SourceLocation(str(folder)), "no release here (no data/V<n> - .../all_sources_<n>.csv)"
        )
    return found
