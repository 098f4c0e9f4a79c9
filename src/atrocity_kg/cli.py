"""The `atrocity-kg` command: import, build, validate, reason, evidence, query, diff, serve."""

from __future__ import annotations

import csv
import dataclasses
import ipaddress
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pyoxigraph as ox
import typer
from rdflib.namespace import RDF, SKOS
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from atrocity_kg import __version__, pipeline
from atrocity_kg.config import Settings
from atrocity_kg.errors import AtrocityKGError, QueryError
from atrocity_kg.graph import graphs
from atrocity_kg.graph.validate import ValidationReport
from atrocity_kg.ingest.releases import (
    ALL,
    draft_code,
    is_draft_code,
    latest_release,
    normal_code,
)
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, sparql_prologue
from atrocity_kg.query import queries
from atrocity_kg.query.results import Table, table_from_solutions
from atrocity_kg.storage import store
from atrocity_kg.storage.remote import RemoteStore

app = typer.Typer(
    help="The open knowledge graph of atrocity-prevention evidence.",
    no_args_is_help=True,
    add_completion=False,
)
import_app = typer.Typer(help="Import source data into data/.", no_args_is_help=True)
app.add_typer(import_app, name="import")

out = Console()
err = Console(stderr=True)


def _print_version(wanted: bool) -> None:
    if wanted:
        out.print(f"atrocity-kg {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="print the version (pyproject.toml's, as installed) and exit",
        ),
    ] = False,
) -> None:
    """The open knowledge graph of atrocity-prevention evidence."""


def _release_choice(text: str) -> str:
    """A --release value: ``all``, or a release code in any case (v4), checked at run time, so
    that a release newer than this code is a choice as soon as it is there."""
    if text.strip().casefold() == ALL:
        return ALL
    try:
        return normal_code(text)
    except ValueError as error:
        raise typer.BadParameter(f"{error}, or {ALL}") from None


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class ReportFormat(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"


@contextmanager
def _reporting() -> Iterator[Callable[[str], None]]:
    """Show progress while work runs; turn our errors into a one-line reason and exit status 1."""
    with err.status("working") as status:
        try:
            yield lambda message: status.update(message)
        except AtrocityKGError as error:
            status.stop()
            err.print(f"[red]error:[/red] {escape(str(error))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


def _print_report(report: ValidationReport, limit: int = 50) -> None:
    for result in report.results[:limit]:
        colour = {"Violation": "red", "Warning": "yellow"}.get(result.severity, "blue")
        err.print(f"[{colour}]{escape(str(result))}[/{colour}]", highlight=False, soft_wrap=True)
    if len(report.results) > limit:
        err.print(f"... and {len(report.results) - limit} more")
    err.print(report.summary())


@import_app.command("ushmm")
def import_ushmm(
    path: Annotated[
        Path, typer.Argument(help="a folder laid out like ushmm/atrocity-prevention-data")
    ],
    release: Annotated[
        str,
        typer.Option(help="which release to import", callback=_release_choice, metavar="V<n>|all"),
    ] = ALL,
) -> None:
    """Map a USHMM release folder to RDF in data/ushmm/ (facts only); on error, write nothing.
    Every release the folder holds (data/V<n> - .../all_sources_<n>.csv) by default."""
    with _reporting() as progress:
        codes = pipeline.releases_in_folder(path) if release == ALL else [release]
        summary = pipeline.import_ushmm(Settings(), path, codes, progress)
    for code, triples in summary.releases.items():
        out.print(f"{code}: {triples} triples")
    for quirk in summary.quirks:
        out.print(f"upstream quirk handled: {escape(quirk)}", highlight=False)
    found = sum(summary.quality.values())
    kinds = sum(1 for count in summary.quality.values() if count)
    out.print(f"quality report: {found} places in {kinds} kinds (atrocity-kg quality)")
    for file in summary.files:
        out.print(f"wrote {file}")


@app.command()
def build() -> None:
    """Validate ontology and data, and only if they conform replace the embedded store."""
    with _reporting() as progress:
        summary = pipeline.build_store(Settings(), progress)
    for name, triples in summary.graphs.items():
        out.print(f"{name}: {triples} triples")
    for note in summary.notes:
        out.print(f"contribution: {escape(note)}", highlight=False, soft_wrap=True)
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in summary.timings.items())
    out.print(f"timings: {steps}", soft_wrap=True)
    out.print(f"store: {summary.store}", highlight=False, soft_wrap=True)
    # The last line says where the warnings and infos it counts are listed: `validate` runs the
    # same validation (the same graphs, shapes and context) and prints each with file and row.
    where = "; `atrocity-kg validate` lists them" if summary.report.results else ""
    out.print(
        f"validation: {summary.report.summary()} (only a violation stops a build){where}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("validate")
def validate_command(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Turtle files; default: data/ushmm")
    ] = None,
) -> None:
    """Print a SHACL report (focus node, path, message, severity, source file and row)."""
    with _reporting() as progress:
        report = pipeline.validate_files(Settings(), paths or [], progress)
    _print_report(report)
    if not report.conforms:
        raise typer.Exit(1)


@app.command()
def reason(
    explain: Annotated[
        str | None,
        typer.Option(help="a tool (name, key or IRI): why it supports each strategy"),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Check consistency and infer (HermiT, then OWL 2 RL rules); list where the review's stated
    strategies and the mechanisms disagree. With --explain, justify a tool's strategies."""
    settings = Settings()
    if explain is not None:
        with _reporting():
            tool = _tool_iri(settings, explain)
            table = _catalogue_table(settings, "explain-tool-strategies", {"tool": tool})
        out.print(f"why {tool} supports each strategy (justifications of the inferred graph):")
        _print_table(table, fmt)
        return
    with _reporting() as progress:
        summary = pipeline.reason_files(settings, progress)
    result = summary.result
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in result.timings.items())
    out.print(f"consistent: yes (HermiT); {len(result.inferred)} triples inferred ({steps})")
    links = sorted(result.inferred.subject_objects(AKG.supportsStrategy))
    out.print(f"tool-to-strategy links inferred: {len(links)}")
    out.print("stated by the review versus implied by the mechanisms:")
    for difference in summary.differences:
        out.print(f"  {escape(str(difference))}", highlight=False)
    out.print(f"{len(summary.differences)} differences")


@app.command("evidence")
def evidence_command(
    release: Annotated[
        str,
        typer.Option(help="which release to check", callback=_release_choice, metavar="V<n>|all"),
    ] = ALL,
) -> None:
    """Recompute every rating with the review's rubric and compare it with the published one;
    list each disagreement with its cause. Exit status 1 if one is unexplained."""
    codes = graphs.imported_releases(Settings()) if release == ALL else [release]
    with _reporting() as progress:
        checks = pipeline.check_evidence(Settings(), codes, progress)
    unexplained = 0
    for check in checks:
        for basis in sorted(check.recomputed):
            out.print(
                f"{check.release} {basis}: {check.recomputed[basis]} recomputed, "
                f"{check.published[basis]} published, {check.matching[basis]} match"
            )
        for mismatch in check.mismatches:
            out.print(f"  differs: {escape(str(mismatch))}", highlight=False)
            unexplained += mismatch.cause is None
        for missing in check.unpublished:
            out.print(f"  not published: {escape(str(missing))}", highlight=False)
            unexplained += missing.cause is None
    if unexplained:
        err.print(f"[red]{unexplained} unexplained differences[/red]")
        raise typer.Exit(1)


@app.command()
def quality(
    release: Annotated[
        str,
        typer.Option(
            help="the release whose files to report on",
            callback=_release_choice,
            metavar="V<n>|all",
        ),
    ] = ALL,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.text,
) -> None:
    """Report where the review's release files contradict themselves, each other or an earlier
    release: file, row, column, kind, what the files say and what the graph does about it. Read
    from the store when it holds the report (graph/quality), else from data/ushmm/quality.ttl;
    stderr says which."""
    chosen = None if release == ALL else release
    with _reporting():
        report, source = pipeline.quality_report(Settings(), chosen)
    err.print(f"quality report read from {escape(source)}", highlight=False, soft_wrap=True)
    if fmt is ReportFormat.csv:
        sys.stdout.write(report.to_csv())
    elif fmt is ReportFormat.json:
        sys.stdout.write(report.to_json() + "\n")
    else:
        sys.stdout.write(report.to_text())


def _tool_iri(settings: Settings, text: str) -> str:
    """A tool named by its IRI, its key (peace-operations) or its label (Peace operations)."""
    curated = graphs.load_curated(settings)
    wanted = text.strip().casefold()
    for tool in curated.subjects(RDF.type, AKG.PreventionTool):
        names = {str(tool).casefold(), iris.key(str(tool)).casefold()}
        names |= {str(label).casefold() for label in curated.objects(tool, SKOS.prefLabel)}
        if wanted in names:
            return str(tool)
    raise QueryError(f"no tool called {text!r}; try a key such as peace-operations")


def _catalogue_table(settings: Settings, name: str, values: dict[str, str]) -> Table:
    entry = queries.load_catalogue(settings.queries_dir)[name]
    text = entry.bound_text(values)
    remote = settings.sparql_endpoint
    if remote:
        from atrocity_kg.query.client import remote_select

        answer = remote_select(remote, text)
        if isinstance(answer, bool):
            raise QueryError(f"{name} is a SELECT query")
        return answer
    with store.opened(settings.store_root) as embedded:
        solutions = store.run_query(embedded, text)
        if not isinstance(solutions, ox.QuerySolutions):
            raise QueryError(f"{name} is a SELECT query")
        return table_from_solutions(solutions)


def _read_query(query: str, settings: Settings) -> tuple[str, queries.CatalogueQuery | None]:
    """A catalogue name, a path to a .rq file, or SPARQL text."""
    catalogue = queries.load_catalogue(settings.queries_dir)
    entry = queries.find(catalogue, query)
    if entry is not None:
        if entry.name != query:
            err.print(
                f"note: the query {query!r} is now called {entry.name!r}",
                highlight=False,
                soft_wrap=True,
            )
        return entry.text, entry
    candidate = Path(query)
    if candidate.suffix == ".rq" and candidate.is_file():
        parsed = queries.parse_query_file(candidate)
        return parsed.text, parsed
    return (query if "PREFIX" in query.upper() else sparql_prologue() + query), None


def _print_table(table: Table, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.csv:
        sys.stdout.write(table.to_csv())
    elif fmt is OutputFormat.json:
        sys.stdout.write(table.to_json() + "\n")
    else:
        view = RichTable(*table.variables)
        for row in table.rows:
            view.add_row(*[row[v].value if v in row else "" for v in table.variables])
        out.print(view)
        out.print(f"{len(table.rows)} rows")


@app.command()
def query(
    query: Annotated[str, typer.Argument(help="SPARQL text, a .rq file, or a name from queries/")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="name=value")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
    endpoint: Annotated[str | None, typer.Option(help="a remote SPARQL endpoint URL")] = None,
) -> None:
    """Run a SELECT or ASK query on the embedded store, or on a remote endpoint."""
    settings = Settings()
    with _reporting():
        text, entry = _read_query(query, settings)
        values = dict(_split_param(p) for p in param or [])
        if entry is None and values:
            raise QueryError("--param applies to catalogue queries, which declare parameters")
        if entry is not None:
            text = entry.bound_text(values)
        remote = endpoint or settings.sparql_endpoint
        if remote:
            from atrocity_kg.query.client import remote_select

            result: Table | bool = remote_select(remote, text)
        else:
            with store.opened(settings.store_root) as embedded:
                answer = store.run_query(embedded, text)
                if isinstance(answer, ox.QueryBoolean):
                    result = bool(answer)
                elif isinstance(answer, ox.QuerySolutions):
                    result = table_from_solutions(answer)
                else:
                    raise QueryError(
                        "CONSTRUCT and DESCRIBE answers are served over HTTP; "
                        "use SELECT or ASK here"
                    )
    if isinstance(result, bool):
        out.print("true" if result else "false")
    else:
        _print_table(result, fmt)


def _split_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep:
        raise QueryError(f"--param {text!r}: expected name=value")
    return name.strip(), value


DIFF_QUERIES = (
    "release-studies-added",
    "release-level-changes",
    "release-factors-appeared-vanished",
    "release-published-rating-changes",
)
"""The catalogue queries `diff` runs, in the order it prints them."""
PUBLISHED_CHANGES = "release-published-rating-changes"


def _release_code(text: str, draft: bool = False) -> str:
    """A release code in any case (v2, V2) -> the code as the releases spell it; with
    ``draft``, the draft release's code (V4-draft) too."""
    imported = graphs.imported_releases(Settings()) or list(pipeline.ALL_RELEASES)
    codes = [*imported, *([draft_code(latest_release(imported))] if draft else [])]
    known = {code.casefold(): code for code in codes}
    code = known.get(text.strip().casefold())
    if code is None:
        raise QueryError(f"unknown release {text!r}; expected one of {', '.join(codes)}")
    return code


@app.command()
def diff(
    from_release: Annotated[
        str, typer.Argument(metavar="FROM", help="the earlier release: V1, V2, V3 (or V4-draft)")
    ],
    to_release: Annotated[
        str,
        typer.Argument(
            metavar="TO", help="the later release: V1, V2, V3, or V4-draft (the contributions)"
        ),
    ],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Compare two releases: studies added and removed per tool, factors whose recomputed
    research evidence level changed (and in which direction), factors that appeared or vanished,
    and the ratings the review publishes (research and practitioner interviews) that appeared,
    vanished or changed level or score. With --format csv or json the titles go to stderr and
    stdout holds the tables only."""
    settings = Settings()
    with _reporting():
        codes = (_release_code(from_release, True), _release_code(to_release, True))
        values = {"from": str(iris.release(codes[0])), "to": str(iris.release(codes[1]))}
        catalogue = queries.load_catalogue(settings.queries_dir)
        # A draft release (the contributions since the latest) publishes no ratings of its own.
        names = [
            name
            for name in DIFF_QUERIES
            if not (name == PUBLISHED_CHANGES and any(map(is_draft_code, codes)))
        ]
        for name in names:
            if name not in catalogue:
                raise QueryError(f"the catalogue {settings.queries_dir} has no query {name!r}")
        tables = [
            (catalogue[name].title, _catalogue_table(settings, name, values)) for name in names
        ]
    for number, (title, table) in enumerate(tables):
        heading = f"{title}: {codes[0]} to {codes[1]}"
        if fmt is OutputFormat.table:
            if number:
                out.print()
            out.print(f"[bold]{escape(heading)}[/bold]", soft_wrap=True)
        else:
            if number and fmt is OutputFormat.csv:
                sys.stdout.write("\n")
            err.print(heading, highlight=False, soft_wrap=True)
        _print_table(table, fmt)


@app.command()
def contribute(
    path: Annotated[
        Path,
        typer.Argument(
            help="study-level records in the layout of the latest release's all_sources_N.csv"
        ),
    ],
    bibliography: Annotated[
        Path | None,
        typer.Option(
            help="a bibliography of the studies it adds: the layout of zotero_N.csv, or BibTeX "
            "(.bib) or RIS (.ris) naming them as Zotero's Extra does (documentName: ...)"
        ),
    ] = None,
    note: Annotated[str, typer.Option(help="why: kept with the contribution")] = "",
    curator: Annotated[
        str | None,
        typer.Option(help="who makes it (default: the setting ATROCITY_KG_CURATOR)"),
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="show what it would change; write nothing")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the impact as a JSON document")
    ] = False,
) -> None:
    """Add studies to the living review: validate the records as a release is validated, show
    every rating of the draft release they would change, and (unless --preview) keep them in
    data/contributions/ and swap a new build in with them."""
    from datetime import UTC, datetime

    from atrocity_kg.curation import contributions, impact
    from atrocity_kg.graph.validate import ValidationCache

    settings = Settings()
    submission = contributions.Submission(path, bibliography, note, curator or settings.curator)
    now = datetime.now(UTC)
    with _reporting() as progress:
        progress("reading the records and computing their impact")
        clock = time.perf_counter()
        # A write validates the same graph again: the cache spares it that (not for a preview,
        # which writes nothing).
        cache = None if preview else ValidationCache(settings.validation_cache)
        found = impact.preview(settings, submission, now, cache)
        seconds = time.perf_counter() - clock
        written = None
        if not preview and found.report.conforms:
            progress("writing the contribution and a new build")
            written = contributions.contribute(settings, submission, now)
    if as_json:
        sys.stdout.write(json.dumps(found.document(), indent=2) + "\n")
    else:
        for line in found.lines():
            out.print(escape(line), highlight=False, soft_wrap=True)
    if not found.report.conforms:
        _print_report(found.report)
        err.print("[red]the contribution does not conform; nothing was written[/red]")
        raise typer.Exit(1)
    if written is None:
        err.print(f"preview in {seconds:.1f} s; nothing was written", highlight=False)
        return
    err.print(
        f"contribution {written.meta.id} kept in {settings.contributions_root / written.meta.id}; "
        f"store: {written.build} ({seconds + written.timings['total']:.1f} s)",
        highlight=False,
        soft_wrap=True,
    )


@app.command("contributions")
def contributions_command(
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """List the contributions to the living review, oldest first."""
    from atrocity_kg.curation import contributions

    settings = Settings()
    with _reporting():
        metas = contributions.list_contributions(settings.contributions_root)
    if fmt is OutputFormat.json:
        sys.stdout.write(json.dumps([dataclasses.asdict(m) for m in metas], indent=2) + "\n")
        return
    columns = ("id", "created", "curator", "records_source", "bibliography_source", "note")
    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        for meta in metas:
            writer.writerow([getattr(meta, column) or "" for column in columns])
        return
    view = RichTable(*columns)
    for meta in metas:
        view.add_row(*[escape(getattr(meta, column) or "") for column in columns])
    out.print(view)
    out.print(f"{len(metas)} contributions in {settings.contributions_root}", highlight=False)


@app.command()
def withdraw(
    contribution_id: Annotated[str, typer.Argument(metavar="ID", help="as `contributions` lists")],
) -> None:
    """Withdraw a contribution: remove its folder, and swap in a build without it (the graph as
    it was before it was made)."""
    from atrocity_kg.curation import contributions

    settings = Settings()
    with _reporting() as progress:
        progress(f"withdrawing {contribution_id} and writing a new build")
        outcome = contributions.withdraw(settings, contribution_id)
    out.print(
        f"withdrew {outcome.meta.id}; store: {outcome.build} ({outcome.timings['total']:.1f} s)",
        highlight=False,
        soft_wrap=True,
    )


@app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option(help="the folder to write; default: var/export/dumps")
    ] = None,
) -> None:
    """Write the dumps (each release and the whole graph; Turtle, N-Triples, N-Quads, JSON-LD;
    gzip) and their manifest from the current store: the files the server offers at /dumps/."""
    from atrocity_kg.publish import export

    settings = Settings()
    folder = output if output is not None else settings.home / "var" / "export" / export.DUMPS
    with _reporting() as progress:
        progress(f"writing the dumps to {folder}")
        clock = time.perf_counter()
        files = export.write_dumps(store.current_path(settings.store_root), folder)
        seconds = time.perf_counter() - clock
    for file in files:
        out.print(
            f"{file.name}: {file.triples} statements, {file.size} bytes, sha256 {file.sha256}",
            highlight=False,
            soft_wrap=True,
        )
    out.print(f"wrote {len(files)} files and {export.MANIFEST} to {folder} in {seconds:.1f} s")


@app.command("export-tables")
def export_tables_command(
    release: Annotated[
        str, typer.Option(help="the release whose USHMM-layout CSV files to write")
    ] = "V3",
    output: Annotated[
        Path | None, typer.Option(help="the folder to write; default: var/export/tables")
    ] = None,
) -> None:
    """Write a release's all_sources/all_factors CSV files in the review's layout, a schema.org
    JSON-LD file and an evidence-gap-map CSV, from the current store."""
    from atrocity_kg.publish import tables

    settings = Settings()
    folder = output if output is not None else settings.home / "var" / "export" / "tables"
    with _reporting() as progress, store.opened(settings.store_root) as opened:
        progress(f"writing the tables to {folder}")
        written = tables.export_tables(opened, _release_code(release), folder)
    for path in written:
        out.print(f"wrote {path}", highlight=False, soft_wrap=True)


@app.command("push")
def push_command(
    endpoint: Annotated[
        str, typer.Option(help="the remote's SPARQL query endpoint (used to check the push)")
    ],
    graph_store: Annotated[
        str | None,
        typer.Option(help="Graph Store Protocol URL; default: an Oxigraph server's /store"),
    ] = None,
    method: Annotated[
        str, typer.Option(help="gsp (PUT each graph) or update (DROP, then INSERT DATA)")
    ] = "gsp",
    update: Annotated[
        str | None, typer.Option(help="SPARQL Update URL; default: an Oxigraph server's /update")
    ] = None,
    digest: Annotated[
        bool, typer.Option(help="HTTP digest instead of basic auth (Virtuoso)")
    ] = False,
) -> None:
    """Make a remote SPARQL 1.1 store hold the embedded store's named graphs, replacing each
    graph whole (pushing twice changes nothing) and dropping our graphs the store alone has;
    credentials come from ATROCITY_KG_PUSH_USER and ATROCITY_KG_PUSH_PASSWORD."""
    from atrocity_kg.storage import push

    settings = Settings()
    with _reporting() as progress:
        if method not in tuple(push.Method):
            raise push.PushError(f"--method {method!r}: expected gsp or update")
        target = push.Target(
            endpoint,
            push.Method(method),
            graph_store,
            update,
            push.auth_from_environment(digest=digest),
        )
        summary = push.push_store(settings.store_root, target, progress)
    for name, triples in summary.graphs.items():
        out.print(f"{name}: {triples} triples", highlight=False, soft_wrap=True)
    for name in summary.dropped:
        out.print(f"dropped {name}", highlight=False, soft_wrap=True)
    total = sum(summary.graphs.values())
    out.print(f"the remote holds the same {len(summary.graphs)} graphs ({total} triples)")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            help="read a remote SPARQL 1.1 store at this query URL instead of the embedded "
            "one (or set ATROCITY_KG_SPARQL_ENDPOINT)"
        ),
    ] = None,
    native_union: Annotated[
        bool,
        typer.Option(
            "--native-union",
            help="the remote store's default graph already is the union of its named graphs",
        ),
    ] = False,
) -> None:
    """Serve the graph over HTTP (SPARQL at /sparql) from the embedded store, or a remote one."""
    import uvicorn

    from atrocity_kg.web import create_app

    base = Settings()
    changes: dict[str, object] = {
        "host": base.host if host is None else host,
        "port": base.port if port is None else port,
    }
    if endpoint:
        changes["sparql_endpoint"] = endpoint
    if native_union:
        changes["remote_union"] = "native"
    settings = base.model_copy(update=changes)
    with _reporting():
        if settings.sparql_endpoint:
            RemoteStore(settings.sparql_endpoint, union=settings.remote_union).graph_names()
        else:
            store.current_path(settings.store_root)
    source = settings.sparql_endpoint or "the embedded store"
    if not settings.sparql_endpoint:
        source += _held_where(settings)
    if settings.port:
        home = _home_url(settings.host, settings.port)
        out.print(f"serving {home} from {source} (Ctrl-C stops)", highlight=False, soft_wrap=True)
        out.print(f"SPARQL endpoint: {home}sparql", highlight=False, soft_wrap=True)
    else:
        out.print(f"serving {source} on a port the system picks: uvicorn's log line names it")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
    )


def _held_where(settings: Settings) -> str:
    """Where the server and its workers hold the current build, as ``store_in_memory`` picks."""
    build = store.current_path(settings.store_root)
    size = store.store_bytes(build) / store.MB
    held = store.copies_into_memory(
        build, settings.store_in_memory, settings.store_in_memory_up_to_mb
    )
    return f", {size:.0f} MB, {'copied into memory' if held else 'read on disk'}"


def _home_url(host: str, port: int) -> str:
    """The home page's URL as a person on this machine opens it: a wildcard address (every
    interface) is reached through loopback, and an IPv6 address goes in brackets."""
    try:
        address = ipaddress.ip_address(host or "127.0.0.1")
    except ValueError:  # a name, such as localhost
        return f"http://{host}:{port}/"
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{shown}:{port}/"


if __name__ == "__main__":
    app()
