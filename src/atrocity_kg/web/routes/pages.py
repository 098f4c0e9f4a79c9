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

from atrocity_kg.config import Settings
from atrocity_kg.errors import AtrocityKGError
from atrocity_kg.model.namespaces import PREFIXES, sparql_prologue
from atrocity_kg.query import queries, sparql
from atrocity_kg.storage import store
from atrocity_kg.storage.store import GraphStore
from atrocity_kg.web import rendering
from atrocity_kg.web.dependencies import MaybeStore, SettingsDep
from atrocity_kg.web.rendering import STATIC_URL
from atrocity_kg.web.views.gap_map import GapMap, tools_gap_map

router = APIRouter(tags=["pages"])

STATIC_DIR = Path(__file__).parents[1] / "static"
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
