"""Pages for people: the tool, factor, study, strategy and release sections and the evidence gap
map, through the app in this process, and in headless Chromium over real HTTP.

The numbers the pages show are checked against counts made here from the USHMM CSV files with
the csv module (skipped without ../shared), never against the app's own queries.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from html import escape, unescape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pyoxigraph as ox
import pytest
import yaml
from fastapi.testclient import TestClient
from rdflib import Graph, URIRef

from atrocity_kg.config import Settings
from atrocity_kg.model import iris
from atrocity_kg.model.citations import Piece
from atrocity_kg.model.namespaces import AKG, sparql_prologue
from atrocity_kg.storage import store
from atrocity_kg.web.routes import pages
from atrocity_kg.web.views import gap_map, resource, sections, terms
from browser import RECORD_VIOLATIONS, chromium, new_page
from release_csv import (
    CLOSELY_RELATED,
    LEVEL_LABELS,
    OUTCOME_LABELS,
    RELEASE_FOLDERS,
    finding_key,
    mechanism_strategies,
    release_rows,
    stated_strategies,
    tool_iris,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ID = "https://w3id.org/atrocity-kg/id/"
TOOL = f"{ID}tool/peace-operations"
FAVOURABLE = {"decreases", "greater effectiveness"}
CELL = re.compile(
    r'class="gap-cell" data-row="([^"]*)" data-outcome="([^"]*)" '
    r'data-findings="(\d+)" data-favourable="(\d+)">\s*'
    r"<title>[^<]*: (\d+) findings?, (\d+) in favour"
)
EVIDENCE_CELL = re.compile(
    r'<td data-release="(V\d)"(?: data-coded="([^"]*)")?>'
    r'<a class="level-([^"]*)" href="[^"]*">([^<]*)</a><span class="n">(\d+)</span></td>'
)
ROW_HEAD = re.compile(r'<tr><th scope="row"><a href="/id/([^"]*)">([^<]*)</a></th>')
PAGE_LIMIT = 150_000


def evidence_cells(table: str) -> list[tuple[str, str, str, str, str, int]]:
    """(row IRI, release, coded factor, level key, level, findings) of each research cell; a
    cell names the coded factor only where it differs from the row's."""
    cells = []
    for row in table.split("<tr>")[1:]:
        head = ROW_HEAD.search("<tr>" + row)
        if head is None:
            continue
        subject = ID + head[1]
        for code, coded, key, level, n in EVIDENCE_CELL.findall(row):
            cells.append((subject, code, coded or subject, key, unescape(level), int(n)))
    return cells


def get_html(client: httpx.Client, path: str) -> str:
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, (path, response.text[:300])
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return response.text


def part(html: str, ident: str, end: str) -> str:
    """The text of the element with this id, up to the first ``end`` after it."""
    return html.split(f'id="{ident}"', 1)[1].split(end, 1)[0]


def gap_cells(html: str, ident: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(row, outcome) -> (findings, in favour) of one map, each number read twice: from the
    cell's data attributes and from the <title> a reader sees; they must agree."""
    cells = {}
    for row, outcome, n, k, shown_n, shown_k in CELL.findall(part(html, ident, "</svg>")):
        assert (n, k) == (shown_n, shown_k)
        cells[(unescape(row), unescape(outcome))] = (int(n), int(k))
    return cells


def slug_factor(code: str) -> str:
    return str(iris.factor(code))


def factor_findings(shared: Path, code: str, tool: str) -> dict[str, set[tuple[str, ...]]]:
    """Per factor (as coded, our IRI), the distinct findings of one tool in one release."""
    found: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for row in release_rows(shared, code):
        if row["Tool"] != tool or row.get("effects_type", "Contextual or design") == "Average":
            continue
        key = finding_key(row)
        found[slug_factor(key[2])].add(key)
    return found


@pytest.fixture(scope="module")
def facts(shared_facts: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))
    return data


def test_home_gap_map_equals_the_csv(
    client: TestClient, shared_release: Path, shared_facts: Path
) -> None:
    tools = tool_iris(shared_facts)
    expected: dict[tuple[str, str], list[int]] = {}
    for key in {finding_key(r) for r in release_rows(shared_release, "V3")}:
        tally = expected.setdefault((tools[key[1]], OUTCOME_LABELS[key[3]]), [0, 0])
        tally[0] += 1
        tally[1] += key[4] in FAVOURABLE
    html = get_html(client, "/")
    assert gap_cells(html, "gap-map") == {k: (n, f) for k, (n, f) in expected.items()}
    svg = part(html, "gap-map", "</svg>")
    assert "<script" not in svg
    for iri in set(tools.values()):  # every reviewed tool has a row, linked to its page
        assert f'href="/id/tool/{iri.rsplit("/", 1)[1]}"' in svg
    table = part(html, "gap-map-table", "</table>")
    assert table.count("<tr>") == len(set(tools.values())) + 1


def test_tool_evidence_table_equals_the_csv(client: TestClient, shared_release: Path) -> None:
    html = get_html(client, "/page/tool/peace-operations")
    table = part(html, "evidence", "</table>")
    shown = {
        (code, coded): (n, key, level) for _, code, coded, key, level, n in evidence_cells(table)
    }
    earlier = re.findall(r'<span data-row="([^"]*)">', part(html, "earlier-factors", "</p>"))
    for code in RELEASE_FOLDERS:
        counted = {
            factor: len(keys)
            for factor, keys in factor_findings(
                shared_release, code, "Peace operations_tool"
            ).items()
            if len(keys) >= 2
        }
        in_table = {c: v[0] for (r, c), v in shown.items() if r == code}
        # A factor rated only in earlier releases is named below the table instead.
        assert set(in_table) <= set(counted), code
        assert {c: counted[c] for c in in_table} == in_table, code
        if code == "V3":
            assert in_table == counted
        missing = set(counted) - set(in_table)
        assert {m.removesuffix("--opposite") for m in missing} <= {
            e.removesuffix("--opposite") for e in earlier
        }, code

    path = shared_release / "data" / RELEASE_FOLDERS["V3"] / "all_factors_3.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rated = [
            (LEVEL_LABELS[r["research_qualitative"]], int(r["count"]))
            for r in csv.DictReader(handle)
            if r["Dedoose.name_tool"] == "Peace operations_tool"
            and r["count"] not in ("NA", "")
            and int(r["count"]) >= 2
        ]
    assert sorted((v[2], v[0]) for (r, _), v in shown.items() if r == "V3") == sorted(rated)

    # Strongest first in the latest release; rows with no V3 rating come last.
    rank = {"relatively-strong": 0, "moderate": 1, "relatively-weak": 2, "none-available": 3}
    order = []
    for row in table.split('<tr><th scope="row">')[1:]:
        v3 = [m for m in EVIDENCE_CELL.findall(row) if m[0] == "V3"]
        order.append(rank[v3[0][2]] if v3 else 9)
    assert order == sorted(order)


def test_tool_gap_maps_equal_the_csv(client: TestClient, shared_release: Path) -> None:
    html = get_html(client, "/page/tool/peace-operations")
    overall: Counter[str] = Counter()
    favoured: Counter[str] = Counter()
    for key in {finding_key(r) for r in release_rows(shared_release, "V3")}:
        if key[1] == "Peace operations_tool":
            overall[OUTCOME_LABELS[key[3]]] += 1
            favoured[OUTCOME_LABELS[key[3]]] += key[4] in FAVOURABLE
    assert gap_cells(html, "tool-row-gap-map") == {
        (TOOL, o): (n, favoured[o]) for o, n in overall.items()
    }
    home = gap_cells(get_html(client, "/"), "gap-map")  # the same row as on the home page
    assert gap_cells(html, "tool-row-gap-map") == {k: v for k, v in home.items() if k[0] == TOOL}

    assert 'id="tool-gap-map"' not in html  # per factor: on each factor's page


def test_factor_gap_map_equals_the_csv(
    client: TestClient, shared_release: Path, shared_facts: Path
) -> None:
    """The factor's page draws its V3 findings per tool and outcome; shown as the opposite of
    the factor coded, a lesser-effectiveness finding is in its favour."""
    tools = tool_iris(shared_facts)
    shown = f"{ID}factor/biased-intervener-or-intervention--opposite"
    html = get_html(client, "/page/factor/biased-intervener-or-intervention--opposite")
    coded = {
        (subject, factor)
        for subject, code, factor, *_ in evidence_cells(part(html, "factor-tools", "</table>"))
        if code == "V3"
    }
    assert coded
    expected: dict[tuple[str, str], list[int]] = {}
    for key in {finding_key(r) for r in release_rows(shared_release, "V3")}:
        pair = (tools[key[1]], slug_factor(key[2])) if key[2] != "overall" else None
        if pair not in coded:
            continue
        assert pair is not None
        favour = "greater effectiveness" if pair[1] == shown else "lesser effectiveness"
        tally = expected.setdefault((pair[0], OUTCOME_LABELS[key[3]]), [0, 0])
        tally[0] += 1
        tally[1] += key[4] == favour
    assert gap_cells(html, "factor-gap-map") == {k: (n, f) for k, (n, f) in expected.items()}


def test_release_page_counts_equal_the_csv(
    client: TestClient, shared_release: Path, shared_facts: Path
) -> None:
    tools = tool_iris(shared_facts)
    for code in RELEASE_FOLDERS:
        rows = release_rows(shared_release, code)
        keys = {finding_key(r) for r in rows}
        html = get_html(client, f"/page/release/{code.lower()}")
        counts = {
            name: int(n)
            for name, n in re.findall(
                r'data-count="([a-z-]+)">(\d+)<', part(html, "release-counts", "</dl>")
            )
        }
        assert counts["studies"] == len({r["Index.Number"] for r in rows}), code
        assert counts["findings"] == len(keys), code
        assert counts["overall-findings"] == sum(1 for k in keys if k[2] == "overall"), code
        assert counts["factor-findings"] == sum(1 for k in keys if k[2] != "overall"), code
        assert counts["factors"] == len({k[2] for k in keys if k[2] != "overall"}), code
        studies: dict[str, set[str]] = defaultdict(set)
        findings: Counter[str] = Counter()
        for key in keys:
            studies[tools[key[1]]].add(key[0])
            findings[tools[key[1]]] += 1
        shown = {
            tool: (int(s), int(f))
            for tool, s, f in re.findall(
                r'<tr data-tool="([^"]*)">.*?</td><td>(\d+)</td><td>(\d+)</td>'
                r"(?:<td>.*?</td>)?</tr>",
                part(html, "release-tools", "</table>"),
            )
        }
        assert shown == {t: (len(s), findings[t]) for t, s in studies.items()}, code


RATINGS_BY_RELEASE = """
SELECT ?release (COUNT(DISTINCT ?published) AS ?published)
       (COUNT(DISTINCT ?recomputed) AS ?recomputed) (COUNT(DISTINCT ?matching) AS ?matching)
WHERE {
  ?rating akg:inRelease ?release ;
          akg:evidenceBasis <https://w3id.org/atrocity-kg/id/evidence-basis/research> .
  { ?rating a akg:ResearchAssessment BIND(?rating AS ?published) }
  UNION
  { ?rating a akg:RecomputedAssessment BIND(?rating AS ?recomputed) }
  UNION
  { ?rating a akg:RecomputedAssessment ; akg:matchesPublished true BIND(?rating AS ?matching) }
}
GROUP BY ?release
"""


def test_release_page_ratings_equal_a_count_over_the_store(
    client: TestClient, built: Settings
) -> None:
    """The page reads its rating counts from the summary graph; they are what counting the
    release's research ratings in the store at request time gives."""
    with store.opened(built.store_root) as opened:
        answer = opened.query(
            sparql_prologue() + RATINGS_BY_RELEASE, use_default_graph_as_union=True
        )
        assert isinstance(answer, ox.QuerySolutions)
        counted = {
            row["release"].value: {
                key: int(row[key].value) for key in ("published", "recomputed", "matching")
            }
            for row in answer
        }
    for code in RELEASE_FOLDERS:
        expected = counted.get(
            str(iris.release(code)), dict.fromkeys(("published", "recomputed", "matching"), 0)
        )
        html = get_html(client, f"/page/release/{code.lower()}")
        counts = {
            name: int(n)
            for name, n in re.findall(
                r'data-count="([a-z-]+)">(\d+)<', part(html, "release-counts", "</dl>")
            )
        }
        assert {key: counts[key] for key in expected} == expected, code
    assert sum(c["matching"] for c in counted.values()) > 0, "no rating to compare"


def test_study_page_shows_doi_and_findings(client: TestClient, shared_release: Path) -> None:
    index = "Amnesty, Asylum, or Exile.2023.14"
    html = get_html(client, f"/page/study/{iris.slug(index)}")
    record = part(html, "record", "</dl>")
    doi = "10.1080/13533312.2021.1918004"
    assert f'href="https://doi.org/{doi}"' in record
    expected: Counter[str] = Counter()
    for code in RELEASE_FOLDERS:
        expected[code] = len(
            {
                finding_key(r)
                for r in release_rows(shared_release, code)
                if r["Index.Number"] == index
            }
        )
    shown = Counter(re.findall(r'<tr data-release="(V\d)">', part(html, "findings", "</table>")))
    assert shown == +expected
    assert "Watchdogs of Pause" in unescape(record)


ZOTERO = "auxiliary/V3 - 2025_April/zotero_3.csv"


def zotero_entry(shared: Path, index: str) -> dict[str, str]:
    """The one bibliography row naming a document, read here with the csv module."""
    with (shared / ZOTERO).open(encoding="utf-8-sig", newline="") as handle:
        (entry,) = [
            row
            for row in csv.DictReader(handle)
            if index in {n.strip() for n in row["Extra"].split(":", 1)[-1].split(";")}
        ]
    return entry


def citation_html(html: str) -> str:
    (citation,) = re.findall(r'<span class="citation">(.*?)</span>', part(html, "record", "</dl>"))
    assert isinstance(citation, str)
    return citation


def test_study_page_emphasises_the_venue(client: TestClient, shared_release: Path) -> None:
    """The graph keeps the citation as plain text; the page puts the journal in <em>, as the
    release's '*Journal of Peace Research*' did, and an edited book's own title."""
    article = "Targeted Sanctions.16"
    venue = zotero_entry(shared_release, article)["Publication Title"]
    citation = citation_html(get_html(client, f"/page/study/{iris.slug(article)}"))
    assert "*" not in citation
    assert re.findall(r"<em>(.*?)</em>", citation) == [escape(venue)]

    book = "Mediation.60"
    entry = zotero_entry(shared_release, book)
    assert not entry["Author"], "an edited book: editors and no author"
    assert entry["Editor"]
    html = get_html(client, f"/page/study/{iris.slug(book)}")
    assert re.findall(r"<em>(.*?)</em>", citation_html(html)) == [escape(entry["Title"])]
    record = part(html, "record", "</dl>")
    assert "<dt>Authors</dt>" not in record
    editors = re.search(r"<dt>Editors</dt>\s*<dd>(.*?)</dd>", record)
    assert editors is not None
    assert unescape(editors[1]).split("; ") == sorted(
        name.strip() for name in entry["Editor"].split(";")
    )


def test_study_page_citation_is_escaped_within_its_emphasis() -> None:
    hostile = "<script>window.pwned=1</script>"
    citation = terms.Term(
        f"Doe, J. {hostile}", pieces=(Piece("Doe, J. "), Piece(hostile, emphasis=True))
    )
    section = sections.Section("study", record=[("Citation", [citation])])
    item = resource.Resource(
        iri=f"{ID}study/x",
        path="study/x",
        title="x",
        types=[],
        rows=[],
        incoming=[],
        incoming_count=0,
        graphs=[],
        latest=None,
        former_releases=[],
        formats=[],
        section=section,
    )
    html = resource.render_resource(item)
    assert hostile not in html
    assert "Doe, J. <em>&lt;script&gt;window.pwned=1&lt;/script&gt;</em>" in citation_html(html)


def test_strategy_page_lists_tools_with_mechanisms(
    client: TestClient, shared_release: Path, facts: dict[str, Any]
) -> None:
    implied = mechanism_strategies(facts)
    stated = stated_strategies(shared_release, facts)
    keys = {"S3_protect": "protect"}
    mechanisms = {
        f"{ID}tool/{t['slug']}": sum(
            1 for m in t["theory_of_change"]["mechanisms"] if keys.get(m["strategy"]) == "protect"
        )
        for t in facts["tools"]
    }
    tools = {
        f"{ID}tool/{slug}"
        for slug in {*implied, *stated}
        if "protect" in implied.get(slug, set()) | stated.get(slug, set())
    }
    html = get_html(client, "/page/strategy/protect")
    shown = {
        tool: int(n)
        for tool, n in re.findall(
            r'<tr data-tool="([^"]*)" data-mechanisms="(\d+)">', part(html, "supports", "</table>")
        )
    }
    assert set(shown) == tools
    assert shown == {tool: mechanisms.get(tool, 0) for tool in tools}
    assert 'href="/id/mechanism/peace-operations/physical-protection"' in html


def test_factor_page_shows_opposite_and_tools(client: TestClient, shared_release: Path) -> None:
    html = get_html(client, "/page/factor/biased-intervener-or-intervention--opposite")
    assert 'href="/id/factor/biased-intervener-or-intervention"' in part(html, "opposite", "</dd>")
    path = shared_release / "data" / RELEASE_FOLDERS["V3"] / "all_factors_3.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        expected = sorted(
            (r["tool_name"], LEVEL_LABELS[r["research_qualitative"]], int(r["count"]))
            for r in csv.DictReader(handle)
            if r["Name.Final_research"] == "Unbiased implementer or intervention"
            and r["count"] not in ("NA", "")
            and int(r["count"]) >= 2
        )
    shown = [
        (tool, level, n)
        for tool, code, _, _, level, n in evidence_cells(part(html, "factor-tools", "</table>"))
        if code == "V3"
    ]
    names = dict(ROW_HEAD.findall(part(html, "factor-tools", "</table>")))
    assert sorted((names[t.removeprefix(ID)], lv, n) for t, lv, n in shown) == expected


def test_sections_escape_values() -> None:
    hostile = "<script>window.pwned=1</script>"
    gap = gap_map.GapMap("m", hostile, "V3", "Tool", [gap_map.GapRow(hostile, None, "x")])
    gap_map.fill_map(
        gap,
        [[gap_map.GapFinding("f", "x", str(iris.concept("outcome", "conflict")), "d", None)]],
    )
    html = pages.render_home(counts=None, releases=[], examples=[], with_editor=False, gap_map=gap)
    assert hostile not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert gap_cells(html, "m") == {("x", "conflict"): (1, 0)}


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_tool_page_in_a_browser(base: str, curated: Graph, browser: Browser) -> None:
    from playwright.sync_api import expect

    mechanisms = set(curated.objects(URIRef(TOOL), AKG.hasMechanism))
    assert mechanisms
    problems: list[str] = []
    page = new_page(browser, java_script_enabled=False)
    page.on("console", lambda message: problems.append(message.text))
    page.goto(f"{base}/id/tool/peace-operations")
    assert page.url == f"{base}/page/tool/peace-operations"
    expect(page.locator("h1#title")).to_have_text("Peace operations")
    expect(page.locator("#mechanisms tbody tr")).to_have_count(len(mechanisms))
    for mechanism in mechanisms:
        path = str(mechanism).removeprefix(ID)
        expect(page.locator(f'#mechanisms a[href="/id/{path}"]')).to_be_visible()
    assert page.locator("#evidence tbody tr").count() > 0
    heads = page.locator("#evidence thead tr").first.locator("th")
    expect(heads).to_have_text(["Factor", "Research, V1–V3", "V1", "V2", "V3"])
    assert page.locator("#tool-row-gap-map svg .gap-cell circle").count() > 0
    expect(page.locator('#tool-row-gap-map svg[role="group"]')).to_be_visible()
    page.goto(f"{base}/page/factor/large-force")
    assert page.locator("#factor-gap-map svg .gap-cell circle").count() > 0
    expect(page.locator('#factor-gap-map svg[role="group"]')).to_be_visible()
    box = page.locator("#factor-gap-map svg .gap-cell circle").first.bounding_box()
    assert box is not None
    assert box["width"] > 0
    page.goto(f"{base}/")
    assert page.locator("#gap-map svg .gap-cell circle").count() > 0
    page.close()
    assert [p for p in problems if "Content Security Policy" in p] == []


def test_study_page_in_a_browser(base: str, shared_release: Path, browser: Browser) -> None:
    """The venue reads in italics inside the citation, and the citation shows no asterisk."""
    from playwright.sync_api import expect

    index = "Targeted Sanctions.16"
    venue = zotero_entry(shared_release, index)["Publication Title"]
    page = browser.new_page(java_script_enabled=False)
    page.goto(f"{base}/id/study/{iris.slug(index)}")
    emphasis = page.locator("#record .citation em")
    expect(emphasis).to_have_text(venue)
    assert emphasis.evaluate("element => getComputedStyle(element).fontStyle") == "italic"
    assert "*" not in page.locator("#record .citation").inner_text()
    page.close()


# --- the top of a tool's page, and a factor's related factors ------------------------------------

GROUP_OF = {
    "Mass atrocities": "mass-atrocities",
    "Adverse consequences": "adverse",
    **dict.fromkeys(CLOSELY_RELATED, "closely-related"),
}
DIRECTION_ORDER = ("decreases", "increases", "no or mixed effect")


def test_tool_page_says_what_the_review_says(
    client: TestClient, shared_release: Path, facts: dict[str, Any]
) -> None:
    html = get_html(client, "/page/tool/peace-operations")
    assert len(html.encode()) < PAGE_LIMIT

    # Studies per release, in total and per outcome group (a study under each of its groups).
    table = part(html, "outcome-counts", "</table>")
    for code in RELEASE_FOLDERS:
        rows = [r for r in release_rows(shared_release, code) if r["Tool"] == TOOL_CODE]
        groups: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            groups[GROUP_OF[row["Outcome"]]].add(row["Index.Number"])
        line = table.split(f'data-release="{code}"', 1)[1].split("</tr>", 1)[0]
        shown = [int(n) for n in re.findall(r'data-count="[^"]*">(\d+)<', line)]
        expected = [len({r["Index.Number"] for r in rows})] + [
            len(groups[g]) for g in ("mass-atrocities", "closely-related", "adverse")
        ]
        assert shown == expected, code
    summary = unescape(part(html, "summary-studies", "</p>"))
    assert re.sub(r"\s+", " ", summary).startswith(
        f">In its latest release (V3) the review counts <strong>{expected[0]} studies</strong>"
    )

    # The overall-effect findings of V3 per outcome and direction, and their words.
    overall: dict[str, Counter[str]] = defaultdict(Counter)
    by_group: dict[str, Counter[str]] = defaultdict(Counter)
    for key in {finding_key(r) for r in release_rows(shared_release, "V3")}:
        if key[1] == TOOL_CODE and key[2] == "overall":
            overall[OUTCOME_LABELS[key[3]]][key[4]] += 1
            by_group[GROUP_OF[key[3]]][key[4]] += 1
    effect = part(html, "overall-effect", "</table>")
    shown_effect = {
        unescape(outcome).lower(): tuple(int(n) for n in counts)
        for outcome, *counts in re.findall(
            r'<th scope="row">([^<]*)</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>', effect
        )
    }
    assert shown_effect == {o: tuple(c[d] for d in DIRECTION_ORDER) for o, c in overall.items()}
    headline = part(html, "summary-overall", "</ul>")
    for group, counts in by_group.items():
        total, top = sum(counts.values()), max(counts.values())
        words = "a mix of findings" if top / total <= 2 / 3 else "mostly" if top < total else "all"
        assert words in headline.split(f'data-group="{group}"', 1)[1].split("</li>", 1)[0], group

    # Strategies: the review's (any release's tool columns) and the mechanisms' (facts.yaml).
    stated = stated_strategies(shared_release, facts)["peace-operations"]
    implied = mechanism_strategies(facts)["peace-operations"]
    lines = dict(
        re.findall(
            r'data-strategy="[^"]*/strategy/([a-z]+)" data-stated="([^"]*)"',
            part(html, "strategies", "</ul>"),
        )
    )
    assert {s for s, releases in lines.items() if releases} == stated
    assert {s for s, releases in lines.items() if not releases} == implied - stated
    assert set(lines) == stated | implied
    inferred = part(html, "strategies", "</ul>").split('class="inferred"')[1].split("</li>")[0]
    assert 'href="/id/justification/peace-operations/degrade"' in inferred

    # The raw statements are folded away, the links here capped.
    assert '<details class="raw" id="raw">' in html
    assert part(html, "incoming", "</table>").count("<tr>") == resource.INCOMING_CAP + 1


TOOL_CODE = "Peace operations_tool"


def table_rows(table: str) -> list[str]:
    """The rows of a table's body, each up to its end."""
    return [row.split("</tr>", 1)[0] for row in table.split("<tbody>", 1)[1].split("<tr>")[1:]]


def test_a_tool_page_lists_the_strongest_factors_and_newest_studies_up_to_a_cap(
    client: httpx.Client, shared_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 10^7 triples a tool has thousands of factor rows and studies: its page lists the
    first sections.LIST_CAP of each, in the page's own order, and says how many there are."""
    whole = get_html(client, "/page/tool/peace-operations")
    rows = table_rows(part(whole, "evidence", "</table>"))
    studies = part(whole, "studies-list", "</ul>").split("<li ")[1:]
    indexes = {
        r["Index.Number"]
        for code in RELEASE_FOLDERS
        for r in release_rows(shared_release, code)
        if r["Tool"] == TOOL_CODE
    }
    assert len(studies) == len(indexes) > 10
    assert len(rows) > 10
    assert 'id="evidence-cap"' not in whole
    assert 'id="studies-cap"' not in whole

    monkeypatch.setattr(sections, "LIST_CAP", 10)
    capped = get_html(client, "/page/tool/peace-operations")
    capped_rows = table_rows(part(capped, "evidence", "</table>"))
    capped_studies = part(capped, "studies-list", "</ul>").split("<li ")[1:]
    assert capped_rows == rows[:10]
    assert [s.split("</li>")[0] for s in capped_studies] == [
        s.split("</li>")[0] for s in studies[:10]
    ]
    said = re.sub(r"\s+", " ", unescape(part(capped, "evidence-cap", "</p>")))
    assert said.startswith(
        f">{len(rows)} factors have a level in the latest release; the strongest 10"
    )
    summary = part(capped, "studies", "</summary>").split("<summary>", 1)[1]
    assert summary == f"{len(studies)} studies, the newest 10 listed"
    assert 'href="#downloads"' in part(capped, "studies-cap", "</p>")


def test_factor_page_findings_and_see_also(client: TestClient, shared_release: Path) -> None:
    """'Use of troops' (few findings) and 'High quantity of troops' point at each other, and the
    factor's findings are listed per release with their direction."""
    html = get_html(client, "/page/factor/troops")
    assert 'href="/id/factor/large-force"' in part(html, "see-also", "</ul>")
    assert 'href="/id/factor/troops"' in part(
        get_html(client, "/page/factor/large-force"), "see-also", "</ul>"
    )
    rows = re.findall(
        r'<tr data-releases="(V\d)" data-direction="([a-z-]+)">',
        part(html, "factor-findings", "</table>"),
    )
    keys = {"greater effectiveness": "greater-effectiveness", "no or mixed effect": "no-or-mixed"}
    keys["lesser effectiveness"] = "lesser-effectiveness"
    turned = {
        "greater-effectiveness": "lesser-effectiveness",
        "lesser-effectiveness": "greater-effectiveness",
    }
    expected: Counter[tuple[str, str]] = Counter()
    for code in RELEASE_FOLDERS:
        for key in {finding_key(r) for r in release_rows(shared_release, code)}:
            if key[2] == "overall":
                continue
            direction = keys[key[4]]
            if slug_factor(key[2]) == f"{ID}factor/troops":
                expected[(code, direction)] += 1
            elif slug_factor(key[2]) == f"{ID}factor/troops--opposite":
                expected[(code, turned.get(direction, direction))] += 1
    assert sum(expected.values()) > 0
    assert Counter(rows) == expected


def test_tool_and_factor_pages_read_in_a_browser(base: str, browser: Browser) -> None:
    """With scripts on: the summary's sections by their content, the studies filter narrowing
    the list, the raw statements folded; no console message, no CSP violation. Screenshots in
    the temporary folder for a person to look at."""
    from playwright.sync_api import expect

    problems: list[str] = []
    page = new_page(browser, viewport={"width": 1280, "height": 1400})
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{base}/page/tool/peace-operations")
    expect(page.locator("#summary-studies")).to_contain_text("the review counts")
    expect(page.locator("#summary-overall li")).to_have_count(3)
    expect(page.locator("#strategies li.inferred")).to_contain_text("not stated by the review")
    expect(page.locator("#strategies li.stated").first).to_contain_text("stated by the review in")
    expect(page.locator("#practitioner-views dt").first).to_have_text("Relatively strong")
    expect(page.locator("#evidence thead th.basis").first).to_have_text("research")
    expect(page.locator("#raw")).not_to_have_attribute("open", "")
    expect(page.locator("#properties")).not_to_be_visible()
    page.screenshot(path="/tmp/toolpage-browser-top.png")

    page.locator("#studies > summary").click()
    items = page.locator("#studies-list > li")
    total = items.count()
    expect(page.locator('#studies [data-filter="count"]')).to_have_text(f"{total} of {total} shown")
    page.locator('#studies [data-filter="release"]').select_option("V1")
    shown = page.locator("#studies-list > li:visible")
    expect(shown.first).to_be_visible()
    assert 0 < shown.count() < total
    assert all("V1" in (t or "") for t in shown.evaluate_all("e => e.map(x => x.dataset.releases)"))
    page.locator("#studies").screenshot(path="/tmp/toolpage-browser-studies.png")
    violations = page.evaluate("() => window.__violations")

    page.goto(f"{base}/page/factor/troops")
    expect(page.locator("#see-also")).to_contain_text("High quantity of troops")
    expect(page.locator("#opposite")).to_contain_text("No use of troops")
    assert page.locator("#factor-findings tbody tr").count() > 0
    page.screenshot(path="/tmp/toolpage-browser-factor.png", full_page=True)
    violations += page.evaluate("() => window.__violations")
    page.close()
    assert problems == []
    assert violations == []


def test_a_research_level_links_to_the_findings_it_rests_on(
    client: TestClient, shared_release: Path
) -> None:
    html = get_html(client, "/page/tool/peace-operations")
    link = re.search(
        r'<a href="/id/factor/large-force">[^<]*</a></th>.*?<td data-release="V3"><a [^>]*'
        r'href="([^"]*)"',
        part(html, "evidence", "</table>"),
    )
    assert link is not None
    page = get_html(client, link[1])
    rows = re.findall(r"<tr><td>.*?</tr>", part(page, "rested-on", "</table>"))
    by_factor = factor_findings(shared_release, "V3", TOOL_CODE)
    assert len(rows) == len(by_factor[f"{ID}factor/large-force"])
    assert 'id="assessment-record"' in page
