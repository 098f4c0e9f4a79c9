"""What the SPARQL protocol tests ask (tests/web/test_protocol.py over the in-process app,
test_protocol_clients.py through real clients): the graphs by name and a few queries."""

from __future__ import annotations

from rdflib import Namespace

AKG = Namespace("https://w3id.org/atrocity-kg/ontology#")
GRAPH = "https://w3id.org/atrocity-kg/graph/"
V1, V3, CURATED = GRAPH + "ushmm-v1", GRAPH + "ushmm-v3", GRAPH + "curated"
PROLOGUE = (
    "PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
)
TOOLS = PROLOGUE + "SELECT (COUNT(?t) AS ?n) WHERE { ?t a akg:ReviewedTool }"
STUDIES = PROLOGUE + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a akg:Study }"
TOOL_LABELS = PROLOGUE + (
    "SELECT ?tool ?label WHERE { ?tool a akg:ReviewedTool ; skos:prefLabel ?label } ORDER BY ?tool"
)
TOOL_TRIPLES = PROLOGUE + "CONSTRUCT { ?t ?p ?o } WHERE { ?t a akg:ReviewedTool ; ?p ?o }"
