"""Store -> tables for other prevention databases: the USHMM release layout, schema.org, a gap map.

- ``all_sources_{n}.csv`` and ``all_factors_{n}.csv`` in the release's own column order, so the
  graph round-trips to the files the review publishes. A modelled column the graph knows to be
  empty is written ``NA``, as the review writes it; a column the graph does not model is left
  empty (``UNMODELLED_*`` below says which, and why).
- ``schema-org.jsonld``: the graph as a schema.org ``Dataset``, each study of the latest release
  as a ``ScholarlyArticle`` and each of that release's published research ratings as a ``Claim``.
- ``gap-map.csv``: findings and studies per release, tool, kind of finding, outcome and
  direction, in long format, as evidence gap maps publish them.

Every query runs on the store read-only; the release code is bound as an RDF term, never pasted.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from atrocity_kg.errors import StoreError
from atrocity_kg.graph import catalogue, graphs
from atrocity_kg.graph.build import UPSTREAM, USHMM
from atrocity_kg.graph.evidence import NONE_AVAILABLE
from atrocity_kg.ingest.codebook import METHOD_COLUMNS, CodeBook, class_spellings, read_code_book
from atrocity_kg.ingest.columns import PRACTITIONER_NUMBERS, RESEARCH_NUMBERS, STRATEGY_COLUMNS
from atrocity_kg.ingest.layout import headers_of
from atrocity_kg.ingest.releases import spec_of
from atrocity_kg.model import iris
from atrocity_kg.model.namespaces import AKG, BASE
from atrocity_kg.query import sparql

SDO = Namespace("https://schema.org/")
SCHEMA_ORG_FILE = "schema-org.jsonld"
GAP_MAP_FILE = "gap-map.csv"
NA = "NA"


GAP_MAP_COLUMNS = (
    "release",
    "tool",
    "tool_label",
    "finding_type",
    "outcome",
    "direction",
    "findings",
    "studies",
)
FINDING_TYPES = {"OverallEffectFinding": "overall-effect", "FactorFinding": "factor"}

Solution = dict[str, str | None]


def _select(
    store: ox.Store,
    query: str,
    graphs_read: Sequence[URIRef] | None = None,
    **bound: URIRef,
) -> list[Solution]:
    """``sparql.select`` over the merge of ``graphs_read`` or over the union of all graphs,
    ``bound`` values bound, not pasted; values come back as plain strings."""
    rows = sparql.select(
        store,
        query,
        {key: ox.NamedNode(str(value)) for key, value in bound.items()},
        graphs=None if graphs_read is None else [str(graph) for graph in graphs_read],
    )
    return [{name: sparql.text_of(value) for name, value in row.items()} for row in rows]


def _key(iri: str | None) -> str:
    return "" if iri is None else iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def number_text(value: str | None) -> str:
    """A number as the review writes it: '1' not '1.0' or '1E+1', NA where there is none."""
    if value is None:
        return NA
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


# --- the release layout --------------------------------------------------------------------------

# Read over the merge of the graphs that hold one release's statements (or the curated graph).
TOOLS_QUERY = """
SELECT ?tool ?code ?label WHERE {
  ?tool a akg:PreventionTool ; skos:prefLabel ?label OPTIONAL { ?tool akg:dedooseCode ?code }
}"""
STUDIES_QUERY = """
SELECT ?study ?index ?year ?publication ?empirical WHERE {
  ?study a akg:Study ; akg:indexNumber ?index ; dct:issued ?year ;
         akg:publicationType ?publication ; akg:empiricalBasis ?empirical
}"""
STUDY_VALUES_QUERY = """
SELECT ?study ?property ?value WHERE {
  ?study a akg:Study ; ?property ?value
  FILTER(?property IN (akg:usesMethod, dct:bibliographicCitation))
}"""
FACTORS_QUERY = sparql.load("export-factors")
FINDINGS_QUERY = sparql.load("export-findings")
ASSESSMENTS_QUERY = sparql.load("export-assessments")
STATED_QUERY = "SELECT ?tool ?strategy WHERE { ?tool akg:statedToSupport ?strategy }"
NAMED_ROWS_QUERY = """
SELECT ?row ?name ?opposite WHERE {
  ?old dct:isReplacedBy ?factor ; akg:sourceRow ?row ; akg:reviewName ?name .
  FILTER(!STRENDS(STR(?old), "--opposite"))
  OPTIONAL {
    ?factor akg:oppositeFactor ?factorOpposite .
    ?oldOpposite dct:isReplacedBy ?factorOpposite ; akg:sourceRow ?row ; akg:reviewName ?opposite
  }
}"""
"""Rows that named their factor without its code: the name they gave (ingest/factors.py)."""


@dataclass
class _Study:
    index: str
    year: str
    publication: str
    empirical: str
    methods: set[str] = field(default_factory=set)
    citations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Factor:
    """A factor's facts in one release; where the release gives a factor two values (the same
    factor under two families, say), the first in order is written on every record."""

    kind: str
    label: str
    code: str | None
    family: str | None
    opposite: str | None


def _tools(store: ox.Store) -> dict[str, tuple[str | None, str]]:
    """Tool IRI -> (the review's code, the review's name), from the curated graph."""
    return {
        str(s["tool"]): (s["code"], str(s["label"]))
        for s in _select(store, TOOLS_QUERY, [graphs.CURATED_GRAPH])
    }


def _studies(store: ox.Store, graph: Sequence[URIRef]) -> dict[str, _Study]:
    studies = {
        str(s["study"]): _Study(
            str(s["index"]), str(s["year"]), _key(s["publication"]), _key(s["empirical"])
        )
        for s in _select(store, STUDIES_QUERY, graph)
    }
    for s in _select(store, STUDY_VALUES_QUERY, graph):
        study = studies[str(s["study"])]
        if _key(s["property"]) == "usesMethod":
            study.methods.add(_key(s["value"]))
        else:
            study.citations.append(str(s["value"]))
    for study in studies.values():
        study.citations.sort()
    return studies


def _factors(store: ox.Store, graph: Sequence[URIRef]) -> dict[str, _Factor]:
    kinds = class_spellings("factor kind")
    return {
        str(s["factor"]): _Factor(
            kinds[str(s["kind"])], str(s["label"]), s["code"], s["family"], s["opposite"]
        )
        for s in _select(store, FACTORS_QUERY, graph)
    }


def _method_cell(study: _Study, column: str, codes: CodeBook) -> str:
    """The graph keeps a study's methods, not each record's: a study coded with two methods of
    the same column on different records gives the first of them in order on every record."""
    spellings = codes.written(column)
    chosen = sorted(key for key in study.methods if key in spellings)
    return spellings[chosen[0]] if chosen else NA


def _source_rows(
    store: ox.Store, graph: Sequence[URIRef], number: int, codes: CodeBook
) -> list[dict[str, str]]:
    tools = _tools(store)
    studies = _studies(store, graph)
    factors = _factors(store, graph)
    effect_types = class_spellings("effects_type")
    header = headers_of("sources", number)
    rows: dict[int, dict[str, str]] = {}
    for s in _select(store, FINDINGS_QUERY, graph):
        study = studies[str(s["study"])]
        direction = _key(s["direction"])
        factor = factors.get(str(s["factor"])) if s["factor"] else None
        overall = s["kind"] == str(AKG.OverallEffectFinding)
        known = {
            "": str(s["row"]),
            "effects_type": effect_types[str(s["kind"])],
            "Index.Number": study.index,
            "Tool": tools[str(s["tool"])][0] or NA,
            "Year": study.year,
            "CD": NA if factor is None else (factor.code or factor.label),
            "Outcome": codes.written("Outcome")[_key(s["outcome"])],
            "Factor_effect": NA if overall else codes.written("Factor_effect")[direction],
            "overall": codes.written("overall")[direction] if overall else NA,
            "Publication": codes.written("Publication")[study.publication],
            "Empirical": codes.written("Empirical")[study.empirical],
            "full_citation": study.citations[0] if study.citations else NA,
            **{column: _method_cell(study, column, codes) for column in METHOD_COLUMNS},
        }
        rows[int(str(s["row"]))] = {column: known.get(column, "") for column in header}
    return [rows[number] for number in sorted(rows)]


def _factor_rows(
    store: ox.Store, graph: Sequence[URIRef], number: int, codes: CodeBook
) -> list[dict[str, str]]:
    tools = _tools(store)
    factors = _factors(store, graph)
    research_levels = codes.written("research_qualitative")
    practitioner_levels = codes.written("practitioner_qualitative")
    stated: dict[str, set[str]] = defaultdict(set)
    for s in _select(store, STATED_QUERY, graph):
        stated[str(s["tool"])].add(_key(s["strategy"]))
    named = {int(str(s["row"])): s for s in _select(store, NAMED_ROWS_QUERY, graph)}
    records: dict[int, dict[str, dict[str, str | None]]] = defaultdict(dict)
    for s in _select(store, ASSESSMENTS_QUERY, graph):
        record = records[int(str(s["row"]))]
        basis = "research" if _key(s["kind"]) == "ResearchAssessment" else "practitioner"
        values = record.setdefault(basis, {"tool": s["tool"], "factor": s["factor"]})
        values[str(s["property"])] = s["value"]
    header = headers_of("factors", number)
    rows = []
    for row_number in sorted(records):
        record = records[row_number]
        research = record.get("research")
        practitioner = record.get("practitioner")
        either = research or practitioner or {}
        tool = str(either["tool"])
        factor = factors[str(either["factor"])]
        code, name = tools[tool]
        known: dict[str, str] = {
            "": str(row_number),
            "tool_name": name,
            "Tool": code or NA,
            "Dedoose.name_tool": code or NA,
            "Name": str(named[row_number]["name"]) if row_number in named else factor.label,
            "Dedoose.name_factor": NA if row_number in named else factor.code or NA,
            "Inverse.factor": (
                named[row_number]["opposite"] if row_number in named else factor.opposite
            )
            or NA,
            "Contextual.or.design.factor": factor.kind,
            "Family": factor.family or NA,
        }
        if tool in stated:
            for column in STRATEGY_COLUMNS:
                known[column] = "1" if column in stated[tool] else "0"
        if research is not None:
            for cell in RESEARCH_NUMBERS:
                known[cell.header] = number_text(research.get(str(cell.property)))
            count = research.get(str(AKG.findingCount))
            adverse = research.get(str(AKG.adverseCount))
            if count is not None and adverse is not None:
                known["count_without_adverse"] = str(int(count) - int(adverse))
            known["inversion_with_neg_strength"] = (
                "1" if research.get(str(AKG.inverted)) in {"true", "1"} else "0"
            )
            level = research[str(AKG.evidenceLevel)]
            known["research_qualitative"] = research_levels[_key(level)]
        elif practitioner is not None:
            # Practitioners cite the factor and no reviewed study does.
            known["research_qualitative"] = research_levels[NONE_AVAILABLE]
            for column in (*(c.header for c in RESEARCH_NUMBERS), "count_without_adverse"):
                known[column] = NA
        if practitioner is not None:
            for cell in PRACTITIONER_NUMBERS:
                known[cell.header] = number_text(practitioner.get(str(cell.property)))
            level = practitioner[str(AKG.evidenceLevel)]
            known["practitioner_qualitative"] = practitioner_levels[_key(level)]
        else:
            for cell in PRACTITIONER_NUMBERS:
                known[cell.header] = NA
            known["practitioner_qualitative"] = NA
        rows.append({column: known.get(column, "") for column in header})
    return rows


def _write_csv(path: Path, header: Iterable[str], rows: Iterable[Mapping[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)


def write_ushmm_csv(store: ox.Store, release_code: str, folder: Path) -> list[Path]:
    """Write one release's all_sources_{n}.csv and all_factors_{n}.csv in the review's layout:
    one row per upstream record (identical records the graph merged are repeated), in order."""
    try:
        spec = spec_of(release_code)
    except ValueError as error:
        raise StoreError(str(error)) from None
    names = [n.value for n in store.named_graphs() if isinstance(n, ox.NamedNode)]
    graph = [URIRef(n) for n in sorted(names) if catalogue.releases_of(n, [spec.code])]
    if not graph:
        raise StoreError(f"release {spec.code} is not in the store: import it and build")
    codes = read_code_book(store)
    sources = folder / f"all_sources_{spec.number}.csv"
    factors = folder / f"all_factors_{spec.number}.csv"
    _write_csv(
        sources, headers_of("sources", spec.number), _source_rows(store, graph, spec.number, codes)
    )
    _write_csv(
        factors, headers_of("factors", spec.number), _factor_rows(store, graph, spec.number, codes)
    )
    return [sources, factors]


# --- schema.org ----------------------------------------------------------------------------------

# Read over the union of the graphs, for the release bound as ?release.
ARTICLES_QUERY = """
SELECT ?study ?index ?title ?year ?doi WHERE {
  ?study a akg:Study ; akg:inRelease ?release ; akg:indexNumber ?index ; dct:issued ?year
  OPTIONAL { ?study dct:title ?title } OPTIONAL { ?study bibo:doi ?doi }
}"""
CREATORS_QUERY = """
SELECT ?study ?creator WHERE { ?study a akg:Study ; akg:inRelease ?release ; dct:creator ?creator }
"""
CLAIMS_QUERY = sparql.load("schema-org-claims")
RESTS_ON_QUERY = """
SELECT DISTINCT ?recomputed ?study WHERE {
  ?assessment a akg:ResearchAssessment ; akg:inRelease ?release .
  ?recomputed akg:recomputes ?assessment ; akg:restsOn ?finding .
  ?finding akg:reportedIn ?study .
}"""
LABELS_QUERY = "SELECT ?thing ?label WHERE { ?thing skos:prefLabel ?label }"


def _claim_text(tool: str, factor: str, score: Decimal, inverted: bool, level: str) -> str:
    """The rating in words, for the factor as shown: an inverted rating speaks of the opposite."""
    signed = -score if inverted else score
    if signed > 0:
        effect = f"is associated with greater effectiveness of {tool}"
    elif signed < 0:
        effect = f"is associated with lesser effectiveness of {tool}"
    else:
        effect = f"has no or mixed effects on the effectiveness of {tool}"
    return f"{factor} {effect}: {level} evidence"


def schema_org_graph(store: ox.Store) -> Graph:
    """The schema.org description: the dataset and its releases, the latest release's studies as
    articles, and that release's published research ratings as claims resting on them."""
    out = Graph()
    out.bind("schema", SDO)
    dataset = URIRef(BASE)
    out.add((dataset, RDF.type, SDO.Dataset))
    out.add(
        (
            dataset,
            SDO.name,
            Literal("atrocity-kg: the open knowledge graph of atrocity-prevention evidence"),
        )
    )
    out.add((dataset, SDO.url, URIRef(BASE)))
    publisher = USHMM
    out.add((publisher, RDF.type, SDO.Organization))
    out.add((publisher, SDO.name, Literal("United States Holocaust Memorial Museum")))
    releases = [r for r in sparql.releases(store) if r.title and r.issued]
    if not releases:
        raise StoreError("the store holds no release: import one and build")
    for described in reversed(releases):
        release = URIRef(described.iri)
        out.add((dataset, SDO.hasPart, release))
        out.add((release, RDF.type, SDO.Dataset))
        out.add((release, SDO.name, Literal(described.title)))
        out.add((release, SDO.version, Literal(described.code)))
        out.add((release, SDO.datePublished, Literal(described.issued)))
        out.add((release, SDO.publisher, publisher))
        out.add((release, SDO.isBasedOn, UPSTREAM))
    latest_release = URIRef(releases[0].iri)
    for s in _select(store, ARTICLES_QUERY, release=latest_release):
        article = URIRef(str(s["study"]))
        out.add((article, RDF.type, SDO.ScholarlyArticle))
        out.add((article, SDO.identifier, Literal(str(s["index"]))))
        out.add((article, SDO.datePublished, Literal(str(s["year"]))))
        out.add((article, SDO.isPartOf, latest_release))
        if s["title"]:
            out.add((article, SDO.name, Literal(s["title"])))
        if s["doi"]:
            out.add((article, SDO.identifier, Literal(f"doi:{s['doi']}")))
            out.add((article, SDO.sameAs, iris.doi(s["doi"])))
    for s in _select(store, CREATORS_QUERY, release=latest_release):
        out.add((URIRef(str(s["study"])), SDO.author, Literal(str(s["creator"]))))
    labels = {str(s["thing"]): str(s["label"]) for s in _select(store, LABELS_QUERY)}
    studies: dict[str, set[str]] = defaultdict(set)
    for s in _select(store, RESTS_ON_QUERY, release=latest_release):
        studies[str(s["recomputed"])].add(str(s["study"]))
    for s in _select(store, CLAIMS_QUERY, release=latest_release):
        claim = URIRef(str(s["assessment"]))
        shown = str(s["shown"] or s["factor"])
        inverted = s["inverted"] in {"true", "1"} and shown != str(s["factor"])
        text = _claim_text(
            labels[str(s["tool"])],
            labels[shown],
            Decimal(str(s["score"])),
            inverted,
            labels[str(s["level"])],
        )
        out.add((claim, RDF.type, SDO.Claim))
        out.add((claim, SDO.text, Literal(text, lang="en")))
        out.add((claim, SDO.author, publisher))
        out.add((claim, SDO.isPartOf, latest_release))
        out.add((claim, SDO.about, URIRef(str(s["tool"]))))
        out.add((claim, SDO.about, URIRef(shown)))
        for study in sorted(studies.get(str(s["recomputed"]), ())):
            out.add((claim, SDO.appearance, URIRef(study)))
    return out


def write_schema_org(store: ox.Store, path: Path) -> Path:
    """One JSON-LD file with schema.org terms, for search engines and catalogues."""
    text = schema_org_graph(store).serialize(
        format="json-ld", context={"@vocab": str(SDO), "xsd": str(XSD)}, sort_keys=True
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- the evidence gap map ------------------------------------------------------------------------

GAP_MAP_QUERY = sparql.load("gap-map")


def gap_map_rows(store: ox.Store) -> list[dict[str, str]]:
    """Findings (identical records counted once, as the review counts them) and studies per
    release, tool, kind of finding, outcome and direction."""
    tools = _tools(store)
    rows = [
        {
            "release": str(s["code"]),
            "tool": iris.key(str(s["tool"])),
            "tool_label": tools.get(str(s["tool"]), (None, ""))[1],
            "finding_type": FINDING_TYPES[_key(s["kind"])],
            "outcome": _key(s["outcome"]),
            "direction": _key(s["direction"]),
            "findings": str(s["findings"]),
            "studies": str(s["studies"]),
        }
        for s in _select(store, GAP_MAP_QUERY)
    ]
    order = list(GAP_MAP_COLUMNS[:6])
    return sorted(rows, key=lambda row: tuple(row[column] for column in order))


def write_gap_map_csv(store: ox.Store, path: Path) -> Path:
    _write_csv(path, GAP_MAP_COLUMNS, gap_map_rows(store))
    return path


def export_tables(store: ox.Store, release_code: str, folder: Path) -> list[Path]:
    """All three exports into one folder: the release's CSV files, schema.org, the gap map."""
    written = write_ushmm_csv(store, release_code, folder)
    written.append(write_schema_org(store, folder / SCHEMA_ORG_FILE))
    written.append(write_gap_map_csv(store, folder / GAP_MAP_FILE))
    return written
