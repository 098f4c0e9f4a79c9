"""/: the home page, server-rendered, with an offline SPARQL editor.

The page says what the graph holds (counts taken from the store on each request, so they follow
the build being served) and must read well without JavaScript. The editor is YASGUI, installed
by npm into ``node_modules/`` at set-up time and served from there by this app, never copied into
the repository and never fetched from a CDN, so the page works with no internet at all.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from atrocity_kg import iris, queries, sparql, store
from atrocity_kg.api import rendering
from atrocity_kg.api.dependencies import MaybeStore, SettingsDep
from atrocity_kg.api.rendering import STATIC_URL
from atrocity_kg.config import Settings
from atrocity_kg.errors import AtrocityKGError
from atrocity_kg.namespaces import PREFIXES, sparql_prologue
from atrocity_kg.store import GraphStore

router = APIRouter(tags=["pages"])

STATIC_DIR = Path(__file__).parent / "static"
# The npm package's own build folder; it must come before STATIC_URL in the app's routes.
YASGUI_PACKAGE = Path("node_modules") / "@zazuko" / "yasgui"
YASGUI_URL = "/static/vendor/yasgui"
# The API explorer at /docs (Swagger UI) comes from npm the same way, where FastAPI's own page
# would fetch it from a CDN and start it with an inline script, both refused by the app's
# content security policy.
SWAGGER_PACKAGE = Path("node_modules") / "swagger-ui-dist"
SWAGGER_URL = "/static/vendor/swagger-ui"

INITIAL_QUERY = """SELECT ?tool ?label (COUNT(DISTINCT ?mechanism) AS ?mechanisms) WHERE {
  ?tool a akg:ReviewedTool ;
        skos:prefLabel ?label ;
        akg:hasMechanism ?mechanism .
}
GROUP BY ?tool ?label
ORDER BY ?label
"""


@dataclass(frozen=True)
class GraphCounts:
    """What the home page reports about the graph being served."""

    releases: int
    tools: int
    reviewed_tools: int
    studies: int
    findings: int
    factors: int


@dataclass(frozen=True)
class ReleaseLine:
    code: str
    issued: str


@dataclass(frozen=True)
class Example:
    """A catalogue query as the editor offers it: parameters bound to their defaults."""

    name: str
    title: str
    description: str
    query: str


@dataclass(frozen=True)
class SharedStrongFactor:
    """A factor rated relatively strong for several tools, as the home page lists it: a count
    over the ratings, not the review's own lessons across tools."""

    factor: str
    label: str
    tools: tuple[str, ...]


SHARED_STRONG_QUERY = "factors-strong-for-several-tools"


def shared_strong_factors(current: GraphStore, settings: Settings) -> list[SharedStrongFactor]:
    """The catalogue's factors-strong-for-several-tools query (latest release), one entry per
    factor."""
    entry = queries.load_catalogue(settings.queries_dir).get(SHARED_STRONG_QUERY)
    if entry is None:
        return []
    answer = store.run_query(current, entry.bound_text({}))
    assert isinstance(answer, ox.QuerySolutions)
    grouped: dict[tuple[str, str], list[str]] = {}
    for solution in answer:
        factor, label, tool = solution["factor"], solution["factorLabel"], solution["toolLabel"]
        if factor is None or label is None or tool is None:
            continue
        grouped.setdefault((factor.value, label.value), []).append(tool.value)
    return [SharedStrongFactor(f, label, tuple(tools)) for (f, label), tools in grouped.items()]


# --- the evidence gap map --------------------------------------------------------------------

# The outcomes the review codes, in its order (the grouping concept "closely related outcome"
# is never a finding's outcome).
GAP_OUTCOMES = (
    "mass atrocities",
    "violence against civilians",
    "conflict",
    "human rights violations",
    "adverse consequences",
)
# A finding "in favour": an overall effect that the tool decreased the outcome, or a factor
# finding that the factor (as coded) goes with greater effectiveness.
FAVOURABLE = frozenset(
    str(iris.concept("direction", name)) for name in ("decreases", "greater effectiveness")
)
LESSER = str(iris.concept("direction", "lesser effectiveness"))
# Five shades for the share of findings in favour (PuOr, readable on white, colour-blind safe).
SHADES = ("#b35806", "#f1a340", "#d9d9d9", "#998ec3", "#542788")
GAP_LABEL_CHARS = 44
GAP_CELL = 92
GAP_ROW = 34
GAP_HEADER = 56
GAP_RADIUS = 15.0

REVIEWED_TOOLS_QUERY = (
    "SELECT DISTINCT ?tool ?label WHERE { ?tool a akg:ReviewedTool ; skos:prefLabel ?label }"
)


@dataclass(frozen=True)
class GapFinding:
    """One finding as the map counts it."""

    iri: str
    tool: str
    outcome: str
    direction: str
    factor: str | None


@dataclass(frozen=True)
class GapRow:
    """A row of the map: a tool, or a factor as shown; its findings are picked by ``key``."""

    label: str
    href: str | None
    key: str
    inverted: bool = False

    @property
    def short(self) -> str:
        if len(self.label) <= GAP_LABEL_CHARS:
            return self.label
        return self.label[: GAP_LABEL_CHARS - 1].rstrip() + "\u2026"


@dataclass(frozen=True)
class GapCell:
    """The findings of one row on one outcome: how many, how many in favour, and the drawing."""

    row: int
    column: int
    findings: int
    favourable: int
    x: float = 0.0
    y: float = 0.0
    radius: float = 0.0

    @property
    def share(self) -> float:
        return self.favourable / self.findings if self.findings else 0.0

    @property
    def percent(self) -> int:
        return round(100 * self.share)

    @property
    def shade(self) -> str:
        return SHADES[min(int(self.share * len(SHADES)), len(SHADES) - 1)]


@dataclass
class GapMap:
    """Rows x outcomes of one release: circle area is the number of findings, shade the share
    in favour. Numbers and geometry are computed here; the template only draws them."""

    ident: str
    caption: str
    release: str
    row_heading: str
    rows: list[GapRow]
    cells: list[GapCell] = field(default_factory=list)

    @property
    def columns(self) -> tuple[str, ...]:
        return GAP_OUTCOMES

    @property
    def label_width(self) -> int:
        longest = max((len(row.short) for row in self.rows), default=10)
        return min(40 + 7 * longest, 340)

    @property
    def width(self) -> int:
        return self.label_width + GAP_CELL * len(GAP_OUTCOMES) + 10

    @property
    def height(self) -> int:
        return GAP_HEADER + GAP_ROW * len(self.rows) + 10

    @property
    def largest(self) -> int:
        return max((cell.findings for cell in self.cells), default=0)

    def column_x(self, column: int) -> float:
        return self.label_width + GAP_CELL * column + GAP_CELL / 2

    def row_y(self, row: int) -> float:
        return GAP_HEADER + GAP_ROW * row + GAP_ROW / 2

    def cell(self, row: int, column: int) -> GapCell | None:
        for found in self.cells:
            if found.row == row and found.column == column:
                return found
        return None

    @property
    def legend_sizes(self) -> list[tuple[int, float]]:
        """Three reference circles: the largest cell, about a quarter of it, one finding."""
        top = self.largest
        sizes = sorted({top, max(top // 4, 1), 1}, reverse=True) if top else []
        return [(n, radius(n, top)) for n in sizes]

    @property
    def legend_shades(self) -> list[tuple[str, str]]:
        step = 100 // len(SHADES)
        return [
            (shade, f"{i * step}\u2013{100 if i == len(SHADES) - 1 else (i + 1) * step - 1}%")
            for i, shade in enumerate(SHADES)
        ]


def radius(findings: int, largest: int) -> float:
    """Circle area proportional to the number of findings; the largest fills the cell."""
    if findings <= 0 or largest <= 0:
        return 0.0
    return round(GAP_RADIUS * math.sqrt(findings / largest), 2)


def outcome_iris() -> list[str]:
    return [str(iris.concept("outcome", name)) for name in GAP_OUTCOMES]


def favourable(finding: GapFinding, inverted: bool = False) -> bool:
    """In favour of the row: for a factor shown as its opposite, lesser effectiveness is."""
    if inverted:
        return finding.direction == LESSER
    return finding.direction in FAVOURABLE


def latest_release(current: GraphStore) -> tuple[ox.NamedNode, str] | None:
    """The newest release with a date, and its code."""
    for release in sparql.releases(current):
        if release.issued:
            return ox.NamedNode(release.iri), release.code
    return None


def gap_findings(current: GraphStore, release: ox.NamedNode) -> list[GapFinding]:
    """The release's findings; the release is a bound value, never pasted into the text."""
    found = {}
    for s in sparql.select(current, sparql.load("gap-findings"), {"release": release}):
        finding, tool, outcome, direction = s["finding"], s["tool"], s["outcome"], s["direction"]
        if finding is None or tool is None or outcome is None or direction is None:
            continue
        factor = s["factor"]
        found[str(sparql.text_of(finding))] = GapFinding(
            str(sparql.text_of(finding)),
            str(sparql.text_of(tool)),
            str(sparql.text_of(outcome)),
            str(sparql.text_of(direction)),
            sparql.text_of(factor),
        )
    return sorted(found.values(), key=lambda f: f.iri)


def fill_map(gap: GapMap, findings_of: list[list[GapFinding]]) -> GapMap:
    """Count each row's findings per outcome and lay the cells out."""
    columns = {iri: i for i, iri in enumerate(outcome_iris())}
    counts: dict[tuple[int, int], list[int]] = {}
    for r, (row, findings) in enumerate(zip(gap.rows, findings_of, strict=True)):
        for finding in findings:
            column = columns.get(finding.outcome)
            if column is None:
                continue
            tally = counts.setdefault((r, column), [0, 0])
            tally[0] += 1
            tally[1] += favourable(finding, row.inverted)
    largest = max((n for n, _ in counts.values()), default=0)
    gap.cells = [
        GapCell(
            r,
            c,
            n,
            k,
            gap.column_x(c),
            gap.row_y(r),
            radius(n, largest),
        )
        for (r, c), (n, k) in sorted(counts.items())
    ]
    return gap


def tools_gap_map(current: GraphStore) -> GapMap | None:
    """The home page's map: every reviewed tool x outcome, latest release."""
    latest = latest_release(current)
    if latest is None:
        return None
    release, code = latest
    tools = {
        str(sparql.text_of(s["tool"])): str(sparql.text_of(s["label"]))
        for s in sparql.select(current, REVIEWED_TOOLS_QUERY)
        if s["tool"] and s["label"]
    }
    rows = [
        GapRow(label, "/id/" + iri.split("/id/", 1)[1], iri)
        for iri, label in sorted(tools.items(), key=lambda item: item[1].lower())
    ]
    findings = gap_findings(current, release)
    gap = GapMap(
        "gap-map",
        f"Findings per tool and outcome, release {code}",
        code,
        "Tool",
        rows,
    )
    return fill_map(gap, [[f for f in findings if f.tool == row.key] for row in rows])


def _integer(solution: sparql.Solution, name: str) -> int:
    return int(sparql.text_of(solution[name]) or 0)


def graph_counts(current: GraphStore) -> GraphCounts:
    solution = sparql.select(current, sparql.load("home-counts"))[0]
    return GraphCounts(
        releases=_integer(solution, "releases"),
        tools=_integer(solution, "tools"),
        reviewed_tools=_integer(solution, "reviewedTools"),
        studies=_integer(solution, "studies"),
        findings=_integer(solution, "findings"),
        factors=_integer(solution, "factors"),
    )


def release_lines(current: GraphStore) -> list[ReleaseLine]:
    """The releases by code."""
    found = sorted(sparql.releases(current), key=lambda release: release.code)
    return [ReleaseLine(release.code, release.issued) for release in found]


def editor_examples(settings: Settings) -> list[Example]:
    """The catalogue as runnable examples; a query without defaults is offered as written."""
    examples = []
    for name, entry in queries.load_catalogue(settings.queries_dir).items():
        try:
            text = entry.bound_text({})
        except AtrocityKGError:
            text = entry.text
        examples.append(Example(name, entry.title, entry.description, text))
    return examples


def yasgui_build(settings: Settings) -> Path:
    return settings.home / YASGUI_PACKAGE / "build"


def editor_installed(settings: Settings) -> bool:
    build = yasgui_build(settings)
    return (build / "yasgui.min.js").is_file() and (build / "yasgui.min.css").is_file()


def swagger_folder(settings: Settings) -> Path:
    return settings.home / SWAGGER_PACKAGE


def swagger_installed(settings: Settings) -> bool:
    folder = swagger_folder(settings)
    return (folder / "swagger-ui-bundle.js").is_file() and (folder / "swagger-ui.css").is_file()


class OptionalStaticFiles(StaticFiles):
    """Files from a folder that may not exist yet (``npm ci`` not run): 404s until it does,
    where StaticFiles would fail every request."""

    async def check_config(self) -> None:
        if self.directory is not None and Path(self.directory).is_dir():
            await super().check_config()


def mount_static(app: FastAPI, settings: Settings) -> None:
    """Serve the pages' own files and the npm packages' builds; the packages' folders are looked
    up per request, so an app started before ``npm ci`` serves them once they are installed."""
    app.mount(
        YASGUI_URL,
        OptionalStaticFiles(directory=yasgui_build(settings), check_dir=False),
        name="yasgui",
    )
    app.mount(
        SWAGGER_URL,
        OptionalStaticFiles(directory=swagger_folder(settings), check_dir=False),
        name="swagger-ui",
    )
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")


def render_home(
    *,
    counts: GraphCounts | None,
    releases: list[ReleaseLine],
    examples: list[Example],
    with_editor: bool,
    shared_strong: list[SharedStrongFactor] | None = None,
    gap_map: GapMap | None = None,
) -> str:
    """The page as HTML; every value is escaped by the template engine (autoescape)."""
    editor_config: dict[str, Any] = {
        "endpoint": "/sparql",
        "prefixes": {prefix: str(namespace) for prefix, namespace in PREFIXES.items()},
        "initialQuery": sparql_prologue() + "\n" + INITIAL_QUERY,
        "examples": [asdict(example) for example in examples],
    }
    return rendering.render(
        "home.html",
        counts=counts,
        releases=releases,
        shared_strong=shared_strong or [],
        shared_strong_query=SHARED_STRONG_QUERY,
        gap_map=gap_map,
        examples=examples,
        with_editor=with_editor,
        editor_config=editor_config,
        initial_query=editor_config["initialQuery"],
        yasgui_url=YASGUI_URL,
    )


@router.get("/", response_class=HTMLResponse, summary="The home page, with a SPARQL editor")
def home(settings: SettingsDep, current: MaybeStore) -> HTMLResponse:
    counts = graph_counts(current) if current is not None else None
    releases = release_lines(current) if current is not None else []
    shared = shared_strong_factors(current, settings) if current is not None else []
    page = render_home(
        counts=counts,
        releases=releases,
        shared_strong=shared,
        gap_map=tools_gap_map(current) if current is not None else None,
        examples=editor_examples(settings),
        with_editor=editor_installed(settings),
    )
    return HTMLResponse(page)


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_explorer(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The OpenAPI document in Swagger UI, every file from this server; without the npm package,
    a link to the document itself and what to run."""
    openapi_url = request.scope.get("root_path", "") + (request.app.openapi_url or "")
    return rendering.page(
        "docs.html",
        openapi_url=openapi_url,
        with_explorer=swagger_installed(settings),
        swagger_url=SWAGGER_URL,
    )
