"""The ontology's documentation page, rendered from ontology/atrocity.ttl and from small graphs."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.term import URIRef

from atrocity_kg.model.namespaces import AKG
from atrocity_kg.model.negotiation import RDF_FORMATS
from atrocity_kg.web.routes.downloads import render_ontology_html

ONTOLOGY_FILE = Path(__file__).resolve().parents[2] / "ontology" / "atrocity.ttl"
NS = str(AKG)

HOSTILE = """@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://example.org/onto> a owl:Ontology ;
    dct:title "Test </script><script>alert(2)</script>" ;
    dct:source <javascript:alert(3)> .
<https://example.org/onto#Thing> a owl:Class ;
    rdfs:label "<script>alert(1)</script>" ;
    skos:definition "A & B <b>bold</b>" .
"""


class _Page(HTMLParser):
    """Collects element ids, the text outside scripts and the contents of the JSON-LD blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.json_ld: list[str] = []
        self.scripts: list[str | None] = []
        self._in_script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") is not None:
            self.ids.append(str(found["id"]))
        if tag == "a" and found.get("href") is not None:
            self.hrefs.append(str(found["href"]))
        if tag == "script":
            self.scripts.append(found.get("type"))
            self._in_script = found.get("type") or "text/javascript"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        if self._in_script == "application/ld+json":
            self.json_ld.append(data)
        elif self._in_script is None:
            self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def _flat(page: str) -> str:
    """The page's words as a reader sees them: block ends become spaces, other tags are
    dropped, entities decoded, spaces folded."""
    spaced = re.sub(r"</(?:li|p|th|td|tr|h[1-6])>", " ", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", spaced)).split())


def _section(page: str, local: str) -> str:
    start = page.index(f'<section class="term" id="{local}">')
    return page[start : page.index("</section>", start)]


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


@pytest.fixture(scope="module")
def page(ontology: Graph) -> str:
    return render_ontology_html(ontology)


def _terms(ontology: Graph, kind: URIRef) -> list[URIRef]:
    return sorted(
        s for s in ontology.subjects(RDF.type, kind) if isinstance(s, URIRef) and s.startswith(NS)
    )


@pytest.mark.parametrize(
    "kind", [OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty], ids=["class", "op", "dp"]
)
def test_every_term_has_an_anchor_label_and_definition(
    ontology: Graph, page: str, kind: URIRef
) -> None:
    terms = _terms(ontology, kind)
    assert len(terms) > 5
    ids = set(_parse(page).ids)
    for term in terms:
        local = term[len(NS) :]
        assert local in ids, local
        text = _flat(_section(page, local))
        label = ontology.value(term, RDFS.label)
        definition = ontology.value(term, SKOS.definition)
        assert label is not None
        assert definition is not None
        assert str(label) in text, local
        assert str(definition) in text, local
        assert str(term) in text


def test_ids_are_unique(page: str) -> None:
    ids = _parse(page).ids
    assert len(ids) == len(set(ids))


def test_only_the_ontologys_own_terms_get_sections(page: str) -> None:
    assert '<section class="term" id="Concept">' not in page
    assert 'id="title"' not in page  # dct:title is declared, but it is not an akg term
    assert "Annotation properties" not in page  # the ontology declares none of its own


def test_property_chain_and_characteristics(page: str) -> None:
    supports = _flat(_section(page, "supportsStrategy"))
    assert "Property chain hasMechanism o advancesStrategy" in supports
    assert "Inverse of supportedByTool" in supports
    assert "Subproperties statedToSupport" in supports
    opposite = _flat(_section(page, "oppositeFactor"))
    assert "Characteristics symmetric irreflexive" in opposite
    assert "Characteristics functional" in _flat(_section(page, "reportedIn"))
    # an inverse stated on the other side shows on both
    assert "Inverse of supportsStrategy" in _flat(_section(page, "supportedByTool"))


def test_class_expressions_read_as_manchester_syntax(page: str) -> None:
    civilian = _flat(_section(page, "CivilianProtectionTool"))
    assert "Equivalent to PreventionTool and (supportsStrategy value strategy/protect)" in civilian
    assert "A prevention tool that supports protecting civilians" in civilian
    strong = _flat(_section(page, "ToolWithStrongFactor"))
    assert "Equivalent to PreventionTool and (hasStrongFactor some SuccessFactor)" in strong
    backed = _flat(_section(page, "EvidenceBackedTool"))
    assert (
        "PreventionTool and (supportsStrategy some Strategy) and "
        "(hasStrongFactor some SuccessFactor)"
    ) in backed
    assert "Equivalent to ContextualFactor or DesignFactor" in _flat(
        _section(page, "SuccessFactor")
    )
    assert "Domain Finding or EvidenceAssessment" in _flat(_section(page, "aboutTool"))
    assert "Range xsd:nonNegativeInteger" in _flat(_section(page, "findingCount"))


def test_class_axioms_both_ways(page: str) -> None:
    recomputed = _flat(_section(page, "RecomputedAssessment"))
    assert "Disjoint with PractitionerAssessment ResearchAssessment" in recomputed
    # disjointness stated on RecomputedAssessment shows on the other side too
    assert "RecomputedAssessment" in _flat(_section(page, "ResearchAssessment"))
    assert "Subclasses ReviewedTool" in _flat(_section(page, "PreventionTool"))
    assert "Superclasses bibo:Document schema:CreativeWork" in _flat(_section(page, "Study"))


def test_links_inside_and_outside(page: str) -> None:
    hrefs = set(_parse(page).hrefs)
    assert "#PreventionTool" in hrefs
    assert "http://www.w3.org/2004/02/skos/core#Concept" in hrefs
    assert "https://w3id.org/atrocity-kg/id/strategy/protect" in hrefs
    for href in hrefs:
        if href.startswith("#"):
            assert href[1:] in _parse(page).ids, href


def test_metadata_from_the_header(ontology: Graph, page: str) -> None:
    text = _flat(page)
    assert "<h1>atrocity-kg ontology</h1>" in page
    # The vocabulary's own version (owl:versionInfo), not the package's: read from the file.
    versions = list(
        ontology.objects(URIRef("https://w3id.org/atrocity-kg/ontology"), OWL.versionInfo)
    )
    assert len(versions) == 1
    assert f"Version {versions[0]}" in text
    assert "Licence https://creativecommons.org/licenses/by/4.0/" in text
    assert "Creators atrocity-kg contributors" in text
    assert "Preferred prefix akg" in text
    assert "Preferred namespace https://w3id.org/atrocity-kg/ontology#" in text


def test_format_links_use_negotiation_names(ontology: Graph) -> None:
    page = render_ontology_html(ontology, base_path="/elsewhere")
    hrefs = _parse(page).hrefs
    for rdf_format in RDF_FORMATS:
        assert f"/elsewhere?format={rdf_format.name}" in hrefs
    assert f'type="{RDF_FORMATS[0].media_type}"' in page


def test_json_ld_lists_every_class(ontology: Graph, page: str) -> None:
    parsed = _parse(page)
    assert parsed.scripts == ["application/ld+json"]  # no other script under the CSP
    (block,) = parsed.json_ld
    data = json.loads(block)
    assert data["@type"] == "DefinedTermSet"
    assert data["@id"] == "https://w3id.org/atrocity-kg/ontology"
    listed = {term["@id"]: term for term in data["hasDefinedTerm"]}
    for cls in _terms(ontology, OWL.Class):
        assert str(cls) in listed
        assert listed[str(cls)]["@type"] == "DefinedTerm"
        assert listed[str(cls)]["name"] == str(ontology.value(cls, RDFS.label))
    assert str(AKG.supportsStrategy) in listed


def test_escaping() -> None:
    page = render_ontology_html(Graph().parse(data=HOSTILE, format="turtle"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page
    assert "A &amp; B &lt;b&gt;bold&lt;/b&gt;" in page
    parsed = _parse(page)
    assert parsed.scripts == ["application/ld+json"]
    (block,) = parsed.json_ld
    assert "<" not in block
    data = json.loads(block)
    assert data["name"] == "Test </script><script>alert(2)</script>"
    assert data["hasDefinedTerm"][0]["name"] == "<script>alert(1)</script>"
    assert "Thing" in parsed.ids
    # an IRI that is not a web address is shown, never made a link
    assert not any(href.startswith("javascript:") for href in parsed.hrefs)
    assert "javascript:alert(3)" in _flat(page)


def test_no_ontology_header_is_an_error() -> None:
    with pytest.raises(ValueError, match="owl:Ontology"):
        render_ontology_html(Graph())


def test_output_is_deterministic(ontology: Graph, page: str) -> None:
    again = Graph().parse(ONTOLOGY_FILE, format="turtle")
    assert render_ontology_html(again) == page
    assert render_ontology_html(ontology) == page


def test_terms_are_sorted_by_local_name(ontology: Graph, page: str) -> None:
    locals_in_page = [
        i for i in _parse(page).ids if i in {t[len(NS) :] for t in _terms(ontology, OWL.Class)}
    ]
    assert locals_in_page == sorted(locals_in_page, key=lambda name: (name.casefold(), name))


RENAMED = {
    "EvidenceBackedTool": "ToolWithStrongFactor",
    "HeadlineFactor": "StrongFactorOfSeveralTools",
}


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_renamed_classes_keep_their_iri_and_point_to_the_new_one(
    ontology: Graph, page: str, old: str, new: str
) -> None:
    """A published IRI keeps resolving: the old class stays, deprecated, replaced by the new
    one, and says so in its definition; the page marks it and links both ways."""
    before, after = AKG[old], AKG[new]
    assert (before, OWL.deprecated, Literal(True)) in ontology
    assert (before, DCTERMS.isReplacedBy, after) in ontology
    assert (after, OWL.deprecated, None) not in ontology
    definition = str(ontology.value(before, SKOS.definition))
    assert definition.startswith(f"Deprecated; use akg:{new}")
    old_section = _section(page, old)
    assert '<span class="deprecated">deprecated</span>' in old_section
    assert f"Replaced by {new}" in _flat(old_section)
    assert f'href="#{new}"' in old_section
    new_section = _section(page, new)
    assert "deprecated</span>" not in new_section
    assert f"Replaces {old}" in _flat(new_section)


@pytest.mark.parametrize("term", sorted(RENAMED.values()))
def test_derived_classes_say_what_they_do_not_mean(ontology: Graph, term: str) -> None:
    """The definitions of the derived classes say what the rules compute and what it is not:
    not a tool shown to work, not the review's own lessons across tools."""
    definition = str(ontology.value(AKG[term], SKOS.definition))
    assert "relatively strong" in definition
    assert "latest release" in definition
    assert "not" in definition.split(". ", 1)[1]
    for wrong in ("cross-cutting", "headline", "evidence-backed"):
        assert wrong not in definition.casefold()
