"""The quality report as people and programs get it: `atrocity-kg quality` in its three formats
(from the store, or from data/ushmm/quality.ttl before a build), and /quality as HTML, JSON and
CSV (an in-process ASGI client), and in a real browser."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from atrocity_kg import pipeline
from atrocity_kg.cli import app
from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs
from atrocity_kg.quality.rules import load_rules
from atrocity_kg.storage import store
from atrocity_kg.web import create_app
from browser import chromium
from release_fixture import Tables, release_files, write_release
from server import serving

runner = CliRunner()
V2, V3 = release_files("V2"), release_files("V3")
FIELDS = ["release", "file", "row", "column", "kind", "found", "action"]


def _older(tables: Tables) -> None:
    for row in tables["sources"]:
        row["Year"] = str(int(row["Year"]) - 1)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A home with V2 and V3 of the tiny release imported (no build): V2 dates both studies a
    year earlier than V3, and V3 writes its DOI as a link and has no record for one study."""
    from conftest import make_home

    root = tmp_path_factory.mktemp("quality")
    folder = write_release(root / "release", _older, release="V2")
    write_release(folder)
    settings = make_home(root / "home", with_releases=False)
    summary = pipeline.import_ushmm(settings, folder, ["V2", "V3"])
    assert summary.quality["study-year-differs"] == 2
    return settings


EXPECTED = {
    ("V2", V2["sources"], 1, "Year", "study-year-differs"),
    ("V2", V2["sources"], 3, "Year", "study-year-differs"),
    ("V3", V3["bibliography"], 1, "DOI", "doi-with-prefix"),
    ("V3", V3["sources"], 3, "Index.Number", "study-without-bibliography"),
    ("V2", V2["sources"], 3, "Index.Number", "study-without-bibliography"),
}


def test_import_writes_the_report_beside_the_releases(home: Settings) -> None:
    quality = graphs.load_quality(home)
    assert quality is not None
    assert graphs.quality_file(home).parent == graphs.release_file(home, "V3").parent


def test_cli_csv_from_the_files_before_a_build(
    home: Settings, env_for: Callable[[Settings], None]
) -> None:
    env_for(home)
    result = runner.invoke(app, ["quality", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert f"read from {graphs.quality_file(home)}" in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == FIELDS
    assert {(r["release"], r["file"], int(r["row"]), r["column"], r["kind"]) for r in rows} == (
        EXPECTED
    )
    result = runner.invoke(app, ["quality", "--format", "csv", "--release", "V3"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["release"] for r in rows} == {"V3"}
    assert len(rows) == 2


def test_cli_json_and_text_from_the_store(
    home: Settings, tmp_path: Path, env_for: Callable[[Settings], None]
) -> None:
    """A store holding graph/quality is read before the file (here the file is gone)."""
    quality = graphs.load_quality(home)
    assert quality is not None
    settings = home.model_copy(update={"store_dir": tmp_path / "store"})
    store.write_store(settings.store_root, {graphs.QUALITY_GRAPH: quality})
    moved = tmp_path / "elsewhere.ttl"
    graphs.quality_file(home).rename(moved)
    try:
        env_for(settings)
        result = runner.invoke(app, ["quality", "--format", "json"])
        assert result.exit_code == 0, result.output
        assert "read from the store" in result.stderr
        data = json.loads(result.stdout)
        found = {
            (r["release"], r["file"], r["row"], r["column"], r["kind"]) for r in data["records"]
        }
        assert found == EXPECTED
        assert {k["kind"] for k in data["kinds"]} == {rule.kind for rule in load_rules()}
        assert {k["kind"]: k["count"] for k in data["kinds"]}["study-year-differs"] == 2
        result = runner.invoke(app, ["quality", "--release", "V2"])
        assert result.exit_code == 0, result.output
        text = result.stdout
        assert "Study year that differs (study-year-differs): 2" in text
        assert f"{V2['sources']}, row 1, column 'Year': Peace Ops.001: 2014 here; the bibli" in text
        assert f"{V2['sources']}, row 3, column 'Year': Peace Ops.002: 2018 here; V3" in text
        assert "DOI written with a prefix (doi-with-prefix): 0" in text
        assert text.rstrip().endswith("3 records")
    finally:
        moved.rename(graphs.quality_file(home))


def test_cli_without_any_report_is_one_line_and_exit_1(
    empty_home: Settings, env_for: Callable[[Settings], None]
) -> None:
    env_for(empty_home)
    result = runner.invoke(app, ["quality"])
    assert result.exit_code == 1
    assert "no quality report" in result.stderr
    assert "import ushmm" in result.stderr


# --- /quality -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def asgi_app(home: Settings):  # type: ignore[no-untyped-def]
    """The app with graph/quality in its store. ASGITransport runs no lifespan: the store is
    put where the lifespan would."""
    quality = graphs.load_quality(home)
    assert quality is not None
    application = create_app(home)
    application.state.store = store.memory_store({graphs.QUALITY_GRAPH: quality})
    return application


def fetch(application, path: str, accept: str | None = None) -> httpx.Response:  # type: ignore[no-untyped-def]
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Accept": accept} if accept else {}
            return await client.get(path, headers=headers)

    return asyncio.run(get())


@dataclass
class ParsedTable:
    caption: str = ""
    th: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


class PageTables(HTMLParser):
    """The page's tables (caption, header cells, rows of cell texts) and the header's links."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[ParsedTable] = []
        self.header_links: list[str] = []
        self._in: str | None = None
        self._text = ""
        self._row: list[str] = []
        self._in_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "header":
            self._in_header = True
        if tag == "a" and self._in_header:
            self.header_links.append(dict(attrs).get("href") or "")
        if tag == "table":
            self.tables.append(ParsedTable())
        if tag in ("caption", "th", "td"):
            self._in, self._text = tag, ""
        if tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "header":
            self._in_header = False
        if tag == self._in and self.tables:
            table, text = self.tables[-1], " ".join(self._text.split())
            if tag == "caption":
                table.caption = text
            else:
                if tag == "th":
                    table.th.append(text)
                self._row.append(text)
            self._in = None
        if tag == "tr" and self.tables and self._row:
            self.tables[-1].rows.append(self._row)

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data


def test_quality_page_html(asgi_app) -> None:  # type: ignore[no-untyped-def]
    page = fetch(asgi_app, "/quality", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    parsed = PageTables()
    parsed.feed(page.text)
    assert "/quality" in parsed.header_links
    assert "/sparql" in parsed.header_links
    summary = parsed.tables[0]
    assert summary.caption.startswith("Kinds of slip")
    assert summary.th[:2] == ["Kind", "Places"]
    # The two years differ from different references, which the graph handles differently: a
    # table for each way, under what is done.
    years = [t for t in parsed.tables if "Study year that differs" in t.caption]
    assert len(years) == 2
    for table in years:
        assert table.th == ["Release", "File", "Row", "Column", "Found"]
        assert "handled this way" in table.caption
    rows = [row for table in years for row in table.rows[1:]]
    assert {(r[0], r[1], r[2], r[3]) for r in rows} == {
        ("V2", "all_sources_2.csv", "1", "Year"),
        ("V2", "all_sources_2.csv", "3", "Year"),
    }
    dois = next(t for t in parsed.tables if "DOI written with a prefix" in t.caption)
    assert dois.caption == "DOI written with a prefix: 1 place doi-with-prefix"
    assert "The bare DOI is kept" in page.text


def test_quality_page_json_and_csv(asgi_app) -> None:  # type: ignore[no-untyped-def]
    answer = fetch(asgi_app, "/quality?release=V3", "application/json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    data = answer.json()
    assert data["release"] == "V3"
    assert {(r["file"], r["row"], r["kind"]) for r in data["records"]} == {
        (V3["bibliography"], 1, "doi-with-prefix"),
        (V3["sources"], 3, "study-without-bibliography"),
    }
    answer = fetch(asgi_app, "/quality", "text/csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="quality.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == len(EXPECTED)
    named = fetch(asgi_app, "/quality?release=V2&format=csv")
    assert 'filename="quality-v2.csv"' in named.headers["content-disposition"]
    assert fetch(asgi_app, "/quality", "image/png").status_code == 406
    assert fetch(asgi_app, "/quality?release=V9").status_code == 422


def test_quality_page_escapes_the_files_values(tmp_path: Path) -> None:
    """A value from the files is text, whatever it holds."""
    from conftest import make_home

    hostile = "<script>alert(1)</script>"

    def spoil(tables: Tables) -> None:
        tables["bibliography"][0]["DOI"] = hostile

    folder = write_release(tmp_path / "release", spoil)
    from atrocity_kg.quality.check import check_folder

    settings = make_home(tmp_path / "home", with_releases=False)
    application = create_app(settings)
    quality = check_folder(folder, graphs.load_curated(settings)).graph
    application.state.store = store.memory_store({graphs.QUALITY_GRAPH: quality})
    page = fetch(application, "/quality")
    assert hostile not in page.text
    assert "&lt;script&gt;" in page.text


# --- in a browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(home: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    quality = graphs.load_quality(home)
    assert quality is not None
    settings = home.model_copy(update={"store_dir": tmp_path_factory.mktemp("site-store")})
    store.write_store(settings.store_root, {graphs.QUALITY_GRAPH: quality})
    with serving(settings) as base:
        yield base


def test_quality_page_in_a_browser(site: str, tmp_path: Path) -> None:
    """Chromium shows the tables with the site's style sheets and reports no blocked resource."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on(
            "console",
            lambda message: failed.append(message.text) if message.type == "error" else None,
        )
        page.goto(f"{site}/quality")
        assert page.locator("header.site a.brand").inner_text() == "atrocity-kg"
        caption = page.locator("#kind-study-year-differs caption").first
        assert "Study year that differs" in caption.inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, "the page scrolls sideways"
        page.screenshot(path=str(tmp_path / "quality.png"), full_page=True)
        assert failed == []
