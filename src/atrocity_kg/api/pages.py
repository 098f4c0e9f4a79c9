"""/: the home page, server-rendered, with an offline SPARQL editor.

The page says what the graph holds (counts taken from the store on each request, so they follow
the build being served) and must read well without JavaScript. The editor is YASGUI, installed
by npm into ``node_modules/`` at set-up time and served from there by this app, never copied into
the repository and never fetched from a CDN, so the page works with no internet at all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined

from atrocity_kg import __version__, queries, store
from atrocity_kg.config import Settings
from atrocity_kg.errors import AtrocityKGError
from atrocity_kg.namespaces import PREFIXES, sparql_prologue

router = APIRouter(tags=["pages"])

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"
# The npm package's own build folder; it must come before STATIC_URL in the app's routes.
YASGUI_PACKAGE = Path("node_modules") / "@zazuko" / "yasgui"
YASGUI_URL = "/static/vendor/yasgui"

# The default graph is the union of the release graphs, where a study or factor appears once per
# release that has it: hence DISTINCT everywhere. Factors are those the review coded (in a finding
# or in one of its own ratings), not the opposite values the build mints beside them.
COUNTS_QUERY = """PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
SELECT ?releases ?tools ?reviewedTools ?studies ?findings ?factors WHERE {
  { SELECT (COUNT(DISTINCT ?r) AS ?releases) WHERE { ?r a akg:Release } }
  { SELECT (COUNT(DISTINCT ?t) AS ?tools) WHERE { ?t a akg:PreventionTool } }
  { SELECT (COUNT(DISTINCT ?t) AS ?reviewedTools) WHERE { ?t a akg:ReviewedTool } }
  { SELECT (COUNT(DISTINCT ?s) AS ?studies) WHERE { ?s a akg:Study } }
  { SELECT (COUNT(DISTINCT ?f) AS ?findings) WHERE {
      VALUES ?kind { akg:OverallEffectFinding akg:FactorFinding } ?f a ?kind } }
  { SELECT (COUNT(DISTINCT ?x) AS ?factors) WHERE { ?about akg:aboutFactor ?x } }
}"""

RELEASES_QUERY = """PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT DISTINCT ?code ?issued WHERE {
  ?release a akg:Release ; akg:releaseCode ?code .
  OPTIONAL { ?release dct:issued ?issued }
} ORDER BY ?code"""

INITIAL_QUERY = """SELECT ?tool ?label (COUNT(DISTINCT ?mechanism) AS ?mechanisms) WHERE {
  ?tool a akg:ReviewedTool ;
        skos:prefLabel ?label ;
        akg:hasMechanism ?mechanism .
}
GROUP BY ?tool ?label
ORDER BY ?label
"""

# Every request the page makes goes back to this server: a browser-enforced guard on top of the
# editor's configuration (no prefix.cc, no Linked Open Vocabularies, no endpoint catalogue).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

_TEMPLATES = Environment(
    loader=PackageLoader("atrocity_kg.api", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


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
class HeadlineFactor:
    """A factor with relatively strong evidence for several tools, as the home page lists it."""

    factor: str
    label: str
    tools: tuple[str, ...]


HEADLINE_QUERY = "headline-factors"


def headline_factors(current: ox.Store, settings: Settings) -> list[HeadlineFactor]:
    """The catalogue's headline-factors query (latest release), one entry per factor."""
    entry = queries.load_catalogue(settings.queries_dir).get(HEADLINE_QUERY)
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
    return [HeadlineFactor(f, label, tuple(tools)) for (f, label), tools in grouped.items()]


def _integer(solution: ox.QuerySolution, name: str) -> int:
    term = solution[name]
    return int(term.value) if term is not None else 0


def graph_counts(current: ox.Store) -> GraphCounts:
    answer = store.run_query(current, COUNTS_QUERY)
    assert isinstance(answer, ox.QuerySolutions)
    solution = next(iter(answer))
    return GraphCounts(
        releases=_integer(solution, "releases"),
        tools=_integer(solution, "tools"),
        reviewed_tools=_integer(solution, "reviewedTools"),
        studies=_integer(solution, "studies"),
        findings=_integer(solution, "findings"),
        factors=_integer(solution, "factors"),
    )


def release_lines(current: ox.Store) -> list[ReleaseLine]:
    answer = store.run_query(current, RELEASES_QUERY)
    assert isinstance(answer, ox.QuerySolutions)
    lines = []
    for solution in answer:
        code, issued = solution["code"], solution["issued"]
        lines.append(
            ReleaseLine(
                code.value if code is not None else "",
                issued.value if issued is not None else "",
            )
        )
    return lines


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


class OptionalStaticFiles(StaticFiles):
    """Files from a folder that may not exist yet (``npm ci`` not run): 404s until it does,
    where StaticFiles would fail every request."""

    async def check_config(self) -> None:
        if self.directory is not None and Path(self.directory).is_dir():
            await super().check_config()


def mount_static(app: FastAPI, settings: Settings) -> None:
    """Serve the page's own files and the editor's npm build; the editor's folder is looked up
    per request, so an app started before ``npm ci`` serves the editor once it is installed."""
    app.mount(
        YASGUI_URL,
        OptionalStaticFiles(directory=yasgui_build(settings), check_dir=False),
        name="yasgui",
    )
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")


def render_home(
    *,
    counts: GraphCounts | None,
    releases: list[ReleaseLine],
    examples: list[Example],
    with_editor: bool,
    headlines: list[HeadlineFactor] | None = None,
) -> str:
    """The page as HTML; every value is escaped by the template engine (autoescape)."""
    editor_config: dict[str, Any] = {
        "endpoint": "/sparql",
        "prefixes": {prefix: str(namespace) for prefix, namespace in PREFIXES.items()},
        "initialQuery": sparql_prologue() + "\n" + INITIAL_QUERY,
        "examples": [asdict(example) for example in examples],
    }
    return _TEMPLATES.get_template("home.html").render(
        version=__version__,
        counts=counts,
        releases=releases,
        headlines=headlines or [],
        headline_query=HEADLINE_QUERY,
        examples=examples,
        with_editor=with_editor,
        editor_config=editor_config,
        initial_query=editor_config["initialQuery"],
        static_url=STATIC_URL,
        yasgui_url=YASGUI_URL,
    )


@router.get("/", response_class=HTMLResponse, summary="The home page, with a SPARQL editor")
def home(request: Request) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    current: ox.Store | None = getattr(request.app.state, "store", None)
    counts = graph_counts(current) if current is not None else None
    releases = release_lines(current) if current is not None else []
    headlines = headline_factors(current, settings) if current is not None else []
    page = render_home(
        counts=counts,
        releases=releases,
        headlines=headlines,
        examples=editor_examples(settings),
        with_editor=editor_installed(settings),
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
