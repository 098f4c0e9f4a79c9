"""Property-based attacks on the query endpoints, over real HTTP.

Hypothesis throws generated SPARQL (a small grammar: prologue, the four query forms, triple
patterns, FILTER, OPTIONAL, UNION, GRAPH, MINUS, BIND, VALUES, subqueries, property paths,
GROUP BY, ORDER BY, LIMIT), the catalogue's own queries mutated, and arbitrary text at /sparql in
every way the protocol allows (GET, HEAD, POST of a form, POST of the query itself), with random
Accept headers, format names and dataset IRIs; and random names and hostile parameter values at
/queries/{name}. Whatever comes in, the server must:

- never answer with a server error, except 503, the answer of the query limits;
- stop a query at the time limit, and say so: a 503 is the time limit's answer, and comes only
  once the limit has passed (the watchdog never fires early); an answer cut short after its
  status was sent (the limit struck while it was being written) likewise;
- never leak a traceback or a path of its own in the body;
- write a 200 answer in the format its Content-Type claims (each is parsed here), and explain
  a 4xx answer in words.

Nothing here depends on how fast the machine is: no answer is held to a time (the client only
gives up after HANG_GUARD_S, a guard against a hang), and the examples are derandomized, the
same requests on every run, so a failure is never a fluke of one run. Each example is one real
request, and a pathological one can take the whole time limit, so the runs are bounded (FUZZ)
and not shrunk: the failing request is printed as generated.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from atrocity_kg.config import Settings
from atrocity_kg.query.queries import load_catalogue
from server import HANG_GUARD_S, serving

pytestmark = pytest.mark.slow  # property-based attacks on a real server with a real time limit

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue(REPO / "queries")

QUERY_TIMEOUT_S = 5.0
ID = "https://w3id.org/atrocity-kg/id/"
ONTOLOGY = "https://w3id.org/atrocity-kg/ontology#"
GRAPH = "https://w3id.org/atrocity-kg/graph/"

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large),
    print_blob=True,
)


@pytest.fixture(scope="module")
def target(built: Settings) -> Iterator[Target]:
    """The app on the built store with a short query limit and no rate limit: Hypothesis sends
    its requests one after another from one address, as fast as they are answered. A query
    waits for a worker (one replacing a worker killed at the limit loads the store first) as
    long as it takes, so that a 503 can only be the time limit's."""
    limited = built.model_copy(
        update={
            "query_timeout": QUERY_TIMEOUT_S,
            "rate_limit_per_minute": 0,
            "max_queue_wait": HANG_GUARD_S,
        }
    )
    with serving(limited) as url, httpx.Client(timeout=2 * HANG_GUARD_S) as client:
        yield Target(url, client, (str(REPO), str(built.store_root)))


@dataclass
class Target:
    """The server under attack, the client attacking it, and its own paths, which no answer
    may show."""

    base: str
    client: httpx.Client
    own_paths: tuple[str, ...]


# --- the SPARQL grammar ----------------------------------------------------------------------

PREFIXES = {
    "akg": ONTOLOGY,
    "id": ID,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
PREDICATES = (
    "rdf:type",
    "skos:prefLabel",
    "dct:title",
    "dct:issued",
    "akg:aboutTool",
    "akg:aboutFactor",
    "akg:inRelease",
    "akg:reportedIn",
    "akg:outcome",
    "akg:direction",
    "akg:hasMechanism",
    "akg:advancesStrategy",
    "akg:supportsStrategy",
    "akg:voteScore",
    "rdfs:subClassOf",
    f"<{ONTOLOGY}evidenceLevel>",
)
THINGS = (
    "id:tool\\/peace-operations",
    f"<{ID}tool/mediation>",
    f"<{ID}release/v3>",
    f"<{ID}factor/large-force>",
    f"<{ID}strategy/protect>",
    f"<{ID}outcome/mass-atrocities>",
    "akg:PreventionTool",
    "akg:Study",
    "<http://example.org/nothing>",
    "<urn:x-fuzz:a>",
)
GRAPHS = tuple(
    GRAPH + name
    for name in ("curated", "ontology", "inferred", "ushmm-v1", "ushmm-v3", "evidence-v2")
)
VARIABLE_NAMES = ("s", "p", "o", "x", "y", "tool", "study", "n", "g", "label")

# Typed here: the decorator around st.characters hides the literal type a bare tuple would get.
SURROGATES: tuple[Literal["Cs"]] = ("Cs",)

variables = st.sampled_from(VARIABLE_NAMES).map(lambda name: f"?{name}")
safe_text = st.text(
    st.characters(blacklist_categories=SURROGATES, blacklist_characters='"\\\n\r'), max_size=12
)
literals = st.one_of(
    safe_text.map(lambda text: f'"{text}"'),
    st.tuples(safe_text, st.sampled_from(("en", "fr", "en-GB", "x-fuzz"))).map(
        lambda pair: f'"{pair[0]}"@{pair[1]}'
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f'"{f!r}"^^xsd:double'),
    st.sampled_from(
        ('"2024"^^xsd:gYear', "true", "false", '"x"^^<urn:x-fuzz:type>', "1.5", "1e3", '"""a"b"""')
    ),
)
iris = st.one_of(
    st.sampled_from(THINGS),
    st.sampled_from(PREDICATES),
    safe_text.map(lambda text: "<http://example.org/" + re.sub(r"[^A-Za-z0-9_-]", "", text) + ">"),
)
predicates = st.sampled_from(PREDICATES)


def _path(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        children.map(lambda path: f"^({path})"),
        st.tuples(children, children).map(lambda pair: f"({pair[0]}|{pair[1]})"),
        st.tuples(children, children).map(lambda pair: f"{pair[0]}/{pair[1]}"),
        st.tuples(children, st.sampled_from("*+?")).map(lambda pair: f"({pair[0]}){pair[1]}"),
        st.tuples(predicates, predicates).map(lambda pair: f"!({pair[0]}|^{pair[1]})"),
    )


paths = st.recursive(predicates, _path, max_leaves=4)
subjects = st.one_of(variables, st.sampled_from(THINGS))
objects = st.one_of(variables, iris, literals)
triples = st.tuples(subjects, st.one_of(variables, predicates, paths), objects).map(" ".join)
triple_blocks = st.lists(triples, min_size=1, max_size=3).map(" . ".join)


def _expression(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(
            children, st.sampled_from(("=", "!=", "<", ">=", "&&", "||", "+", "*", "/")), children
        ).map(lambda parts: f"({parts[0]} {parts[1]} {parts[2]})"),
        st.tuples(
            st.sampled_from(("STR", "LANG", "STRLEN", "isIRI", "isLiteral", "UCASE", "ABS")),
            children,
        ).map(lambda parts: f"{parts[0]}({parts[1]})"),
        st.tuples(children, safe_text).map(
            lambda parts: f'REGEX(STR({parts[0]}), "{re.escape(parts[1])}", "i")'
        ),
        st.tuples(children, children).map(lambda parts: f"CONTAINS(STR({parts[0]}), {parts[1]})"),
        st.tuples(children, children, children).map(lambda parts: "IF({}, {}, {})".format(*parts)),
        st.tuples(children, children).map(lambda parts: "COALESCE({}, {})".format(*parts)),
        variables.map(lambda name: f"BOUND({name})"),
        children.map(lambda inner: f"!{inner}"),
    )


expressions = st.recursive(st.one_of(variables, literals, iris), _expression, max_leaves=5)
selections = st.one_of(
    st.just("*"),
    st.lists(variables, min_size=1, max_size=3, unique=True).map(" ".join),
)
aggregates = st.sampled_from(
    ("COUNT(*)", "COUNT(DISTINCT ?s)", "SAMPLE(?o)", "MAX(?o)", "GROUP_CONCAT(STR(?o))")
)
# An aggregate with the variables it is grouped by: (the projection, the GROUP BY clause).
grouped = st.tuples(st.lists(variables, max_size=2, unique=True), aggregates).map(
    lambda parts: (
        " ".join(parts[0]) + f" ({parts[1]} AS ?agg)",
        "GROUP BY " + " ".join(parts[0]) if parts[0] else "",
    )
)


def _subquery(pattern: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(
        st.one_of(selections.map(lambda chosen: (chosen, "")), grouped), pattern, st.integers(0, 50)
    ).map(
        lambda parts: (
            f"{{ SELECT {parts[0][0]} WHERE {{ {parts[1]} }} {parts[0][1]} LIMIT {parts[2]} }}"
        )
    )


def _group(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, children).map(lambda pair: f"{{ {pair[0]} }} UNION {{ {pair[1]} }}"),
        st.tuples(children, children).map(lambda pair: f"{pair[0]} OPTIONAL {{ {pair[1]} }}"),
        st.tuples(children, children).map(lambda pair: f"{pair[0]} MINUS {{ {pair[1]} }}"),
        st.tuples(children, expressions).map(lambda pair: f"{pair[0]} FILTER({pair[1]})"),
        st.tuples(children, expressions, variables).map(
            lambda parts: f"{parts[0]} BIND({parts[1]} AS {parts[2]})"
        ),
        st.tuples(
            st.one_of(variables, st.sampled_from(GRAPHS).map(lambda g: f"<{g}>")), children
        ).map(lambda pair: f"GRAPH {pair[0]} {{ {pair[1]} }}"),
        st.tuples(variables, st.lists(st.one_of(iris, literals), max_size=3), children).map(
            lambda parts: f"VALUES {parts[0]} {{ {' '.join(parts[1])} }} {parts[2]}"
        ),
        _subquery(children),
    )


patterns = st.recursive(triple_blocks, _group, max_leaves=4)
modifiers = st.tuples(
    st.one_of(
        st.just(""),
        st.tuples(st.sampled_from(("ASC", "DESC", "")), variables).map(
            lambda parts: f"ORDER BY {parts[0]}({parts[1]})" if parts[0] else f"ORDER BY {parts[1]}"
        ),
    ),
    st.one_of(st.just(""), st.integers(0, 10**12).map(lambda n: f"LIMIT {n}")),
    st.one_of(st.just(""), st.integers(0, 10**6).map(lambda n: f"OFFSET {n}")),
).map(lambda parts: " ".join(part for part in parts if part))
prologues = st.tuples(
    st.one_of(st.just(""), st.just("BASE <http://example.org/base/>")),
    st.lists(st.sampled_from(sorted(PREFIXES.items())), unique=True).map(
        lambda items: " ".join(f"PREFIX {name}: <{iri}>" for name, iri in items)
    ),
).map(" ".join)
templates = st.lists(
    st.tuples(subjects, st.one_of(variables, predicates), objects).map(" ".join),
    min_size=1,
    max_size=3,
).map(" . ".join)
bodies = st.one_of(
    st.tuples(st.sampled_from(("", "DISTINCT ", "REDUCED ")), selections, patterns, modifiers).map(
        lambda parts: f"SELECT {parts[0]}{parts[1]} WHERE {{ {parts[2]} }} {parts[3]}"
    ),
    st.tuples(grouped, patterns, modifiers).map(
        lambda parts: f"SELECT {parts[0][0]} WHERE {{ {parts[1]} }} {parts[0][1]} {parts[2]}"
    ),
    patterns.map(lambda pattern: f"ASK {{ {pattern} }}"),
    st.tuples(templates, patterns, modifiers).map(
        lambda parts: f"CONSTRUCT {{ {parts[0]} }} WHERE {{ {parts[1]} }} {parts[2]}"
    ),
    st.tuples(st.one_of(variables, st.sampled_from(THINGS)), patterns).map(
        lambda parts: f"DESCRIBE {parts[0]} WHERE {{ {parts[1]} }}"
    ),
    st.sampled_from(THINGS).map(lambda thing: f"DESCRIBE {thing}"),
)
# Prefixes are always declared for the body; an undeclared one is what the mutations are for.
generated_queries = st.tuples(prologues, bodies).map(
    lambda parts: (
        " ".join(f"PREFIX {n}: <{i}>" for n, i in PREFIXES.items()) + " " + " ".join(parts)
    )
)


# --- mutations of the catalogue's queries ----------------------------------------------------

SIGNIFICANT = "{}()<>?$.;,'\"#\\^|/*+!=\n \t"


@st.composite
def mutated_catalogue_queries(draw: st.DrawFn) -> str:
    """A catalogue query (parameters bound to their defaults) with a few edits: characters
    deleted, inserted or swapped, a block of lines duplicated, or a keyword replaced."""
    entry = draw(st.sampled_from(sorted(CATALOGUE.values(), key=lambda e: e.name)))
    text = entry.bound_text({})
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("delete", "insert", "swap", "duplicate", "keyword")))
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif kind == "insert":
            piece = draw(st.one_of(st.text(SIGNIFICANT, min_size=1, max_size=4), safe_text))
            text = text[:at] + piece + text[at:]
        elif kind == "swap" and len(text) > 1:
            other = draw(st.integers(0, len(text) - 1))
            first, second = sorted((at, other))
            if first != second:
                text = (
                    text[:first]
                    + text[second]
                    + text[first + 1 : second]
                    + text[first]
                    + text[second + 1 :]
                )
        elif kind == "duplicate":
            lines = text.splitlines(keepends=True)
            start = draw(st.integers(0, len(lines) - 1))
            end = draw(st.integers(start + 1, min(len(lines), start + 8)))
            text = "".join(lines[:end] + lines[start:end] + lines[end:])
        else:
            old = draw(st.sampled_from(("SELECT", "WHERE", "GROUP BY", "OPTIONAL", "GRAPH", "?")))
            new = draw(
                st.sampled_from(
                    ("CONSTRUCT", "ASK", "DESCRIBE", "SERVICE <http://127.0.0.1/>", "INSERT", "")
                )
            )
            text = text.replace(old, new, 1)
    return text


arbitrary_text = st.text(st.characters(blacklist_categories=SURROGATES), min_size=1, max_size=200)
# Weighted towards queries that parse, so that most requests reach evaluation and answer 200.
queries = st.one_of(
    generated_queries, generated_queries, mutated_catalogue_queries(), arbitrary_text
)


# --- the request -----------------------------------------------------------------------------

MEDIA = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
    "application/json",
    "text/html",
    "text/plain",
    "*/*",
    "text/*",
    "application/*",
    "image/png",
    "nonsense",
    "",
)
FORMAT_NAMES = (
    "json",
    "srj",
    "xml",
    "srx",
    "csv",
    "tsv",
    "turtle",
    "ttl",
    "n3",
    "ntriples",
    "nt",
    "jsonld",
    "json-ld",
    "rdfxml",
    "rdf",
    "rows",
    "html",
    "JSON",
    "",
    "bogus",
    "../etc",
)
accepts = st.one_of(
    st.none(),
    st.lists(
        st.tuples(
            st.sampled_from(MEDIA),
            st.one_of(
                st.none(), st.sampled_from(("0", "0.5", "1", "1.0", "2", "-1", "abc", "0.0001"))
            ),
        ).map(lambda pair: pair[0] + ("" if pair[1] is None else f";q={pair[1]}")),
        min_size=1,
        max_size=4,
    ).map(lambda ranges: ", ".join(ranges).strip() or None),
)
# Mostly none of them, so that most queries are evaluated rather than refused for their extras.
format_values: st.SearchStrategy[list[str]] = st.one_of(
    st.just([]), st.just([]), st.lists(st.sampled_from(FORMAT_NAMES), min_size=1, max_size=2)
)
graph_iris: st.SearchStrategy[list[str]] = st.one_of(
    st.just([]),
    st.just([]),
    st.just([]),
    st.lists(
        st.one_of(
            st.sampled_from(GRAPHS),
            st.sampled_from(
                ("http://example.org/a b", "not an iri", "urn:x", "http://ex.org/é", "")
            ),
            safe_text.map(lambda text: "http://example.org/" + text),
        ),
        min_size=1,
        max_size=2,
    ),
)


@dataclass(frozen=True)
class SparqlRequest:
    """One way of sending a query under the SPARQL Protocol, with its extras."""

    how: str
    query: str
    accept: str | None
    formats: list[str]
    default_graphs: list[str]
    named_graphs: list[str]
    charset: str | None

    def send(self, target: Target) -> httpx.Response:
        url = f"{target.base}/sparql"
        headers = {} if self.accept is None else {"Accept": self.accept}
        extras = (
            [("format", f) for f in self.formats]
            + [("default-graph-uri", g) for g in self.default_graphs]
            + [("named-graph-uri", g) for g in self.named_graphs]
        )
        if self.how in ("GET", "HEAD"):
            return target.client.request(
                self.how, url, params=[("query", self.query), *extras], headers=headers
            )
        if self.how == "POST form":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = httpx.QueryParams([("query", self.query), *extras])
            return target.client.post(url, content=str(body).encode(), headers=headers)
        content_type = "application/sparql-query"
        if self.charset is not None:
            content_type += f"; charset={self.charset}"
        headers["Content-Type"] = content_type
        return target.client.post(
            url, params=tuple(extras), content=self.query.encode("utf-8"), headers=headers
        )


sparql_requests = st.builds(
    SparqlRequest,
    how=st.sampled_from(("GET", "GET", "POST form", "POST query", "HEAD")),
    query=queries,
    accept=accepts,
    formats=format_values,
    default_graphs=graph_iris,
    named_graphs=graph_iris,
    charset=st.one_of(st.none(), st.sampled_from(("utf-8", "UTF-8", "latin-1", "bogus", ""))),
)


# --- what every answer must be ---------------------------------------------------------------

LEAKS = ("Traceback (most recent call last)", 'File "/', "site-packages", "/src/atrocity_kg/")


class _TagCounter(HTMLParser):
    """Counts start tags; html.parser is lenient, so this only proves the page is HTML text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1


def _parses(media: str, body: bytes) -> None:
    """Parse a 200 body as the media type it claims (raises if it is not that)."""
    if media == "application/sparql-results+json":
        answer = json.loads(body)
        assert "head" in answer, answer
        assert "results" in answer or "boolean" in answer, answer
    elif media == "application/json":
        json.loads(body)
    elif media == "application/sparql-results+xml":
        root = ElementTree.fromstring(body)
        assert root.tag.endswith("sparql"), root.tag
    elif media == "text/csv":
        # A blank line is a row whose one value is empty (unbound), as in 'p\r\n\r\n'.
        rows = [row or [""] for row in csv.reader(io.StringIO(body.decode("utf-8"), newline=""))]
        assert rows, "a CSV answer has at least its header row"
        assert all(len(row) == len(rows[0]) for row in rows), "ragged CSV rows"
    elif media == "text/tab-separated-values":
        lines = body.decode("utf-8").split("\n")
        header = lines[0].split("\t")
        assert all(name.startswith("?") for name in header if name), header
        assert all(len(line.split("\t")) == len(header) for line in lines[1:] if line)
    elif media in ("text/turtle", "application/n-triples", "application/rdf+xml"):
        formats = {
            "text/turtle": ox.RdfFormat.TURTLE,
            "application/n-triples": ox.RdfFormat.N_TRIPLES,
            "application/rdf+xml": ox.RdfFormat.RDF_XML,
        }
        list(ox.parse(body, formats[media]))
    elif media == "application/ld+json":
        json.loads(body)
        list(ox.parse(body, ox.RdfFormat.JSON_LD))
    elif media in ("text/plain", "application/sparql-query"):
        assert body.decode("utf-8").strip()
    elif media == "text/html":
        parser = _TagCounter()
        parser.feed(body.decode("utf-8"))
        assert parser.tags > 0
    else:
        raise AssertionError(f"a 200 answer in a media type this test does not know: {media}")


def check_answer(target: Target, response: httpx.Response, seconds: float, what: str) -> None:
    """Everything an answer must be, whatever the request (see the module's list)."""
    status, method = response.status_code, response.request.method
    event(f"{method} answered {status}")
    shown = f"{what}\n-> {status} after {seconds:.2f} s: {response.text[:400]!r}"
    assert status < 500 or status == 503, f"server error: {shown}"
    if status == 503:
        if method != "HEAD":  # a HEAD answer has no words to check
            assert "time limit" in response.text, f"a 503 other than the time limit: {shown}"
        assert seconds >= QUERY_TIMEOUT_S, f"stopped before the time limit: {shown}"
    if status != 200:
        for leak in (*LEAKS, *target.own_paths):
            assert leak not in response.text, f"the answer leaks {leak!r}: {shown}"
    if 400 <= status < 500 and method != "HEAD":
        assert response.text.strip(), f"an error without a message: {shown}"
    if status == 200 and method != "HEAD":
        media = response.headers["content-type"].split(";")[0].strip().lower()
        try:
            _parses(media, response.content)
        except Exception as error:
            raise AssertionError(f"not {media}: {error!r}\n{shown}") from error


def send_and_check(target: Target, send: Callable[[], httpx.Response], what: str) -> None:
    """Send, read the whole answer and check it (``check_answer``). The client's clock gives
    lower bounds only: a query stopped at the limit ran at least that long, whatever the load;
    how much longer it took says nothing but how busy the machine was."""
    start = time.monotonic()
    try:
        response = send()
    except (httpx.RemoteProtocolError, httpx.ReadError) as error:
        cut: httpx.TransportError | None = error
    except httpx.TimeoutException as error:
        raise AssertionError(f"no answer in {2 * HANG_GUARD_S:g} s ({error!r}): {what}") from None
    else:
        cut = None
    seconds = time.monotonic() - start
    if cut is None:
        check_answer(target, response, seconds, what)
        return
    # The status was sent, then the answer was cut: only the time limit may do that.
    event("answer cut at the time limit")
    assert seconds >= QUERY_TIMEOUT_S, f"an answer cut short before the limit ({cut!r}): {what}"


# --- /queries/{name} -------------------------------------------------------------------------

ODD_TEXT = (
    "",
    " ",
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "nul\x00byte",
    "e\u0301\u0301\u0301",
    "\U0001f480" * 3,
    "<script>alert(1)</script>",
    '" } ; DROP ALL ; { "',
    "x" * 5000,
)
ODD_IRIS = (
    f"{ID}tool/mediation",
    f"{ID}tool/peace-operations",
    f"{ID}release/v1",
    "https://w3id.org/atrocity-kg/id/tool/with space",
    "https://example.org/é/ü",
    "http://example.org/a>b",
    "javascript:alert(1)",
    "relative/iri",
    "urn:x",
    "http://127.0.0.1:22/",
    "http://example.org/" + "a" * 5000,
)
ODD_NUMBERS = (
    "0",
    "-1",
    "7",
    " 7 ",
    "10" * 200,
    str(10**400),
    "-" + str(10**400),
    "1e5",
    "1e309",
    "-0",
    "0x10",
    "1_000",
    "NaN",
    "inf",
    "-inf",
    "\u0663",
    "1.5",
    "",
    "++1",
)
parameter_values = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.sampled_from(ODD_IRIS),
    st.sampled_from(ODD_NUMBERS),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats().map(repr),
    st.text(st.characters(blacklist_categories=SURROGATES), max_size=40),
)
query_names = st.one_of(
    st.sampled_from(sorted(CATALOGUE)),
    st.sampled_from(sorted(CATALOGUE)),
    st.sampled_from(sorted(CATALOGUE)),
    st.sampled_from(sorted(CATALOGUE)),
    st.sampled_from(
        ("", "..", "../../etc/passwd", "tool-study-counts.rq", "TOOL-STUDY-COUNTS", "%00", "été")
    ),
    st.text(st.characters(blacklist_categories=SURROGATES), min_size=1, max_size=30),
)
KNOWN_PARAMETERS = sorted({p.name for entry in CATALOGUE.values() for p in entry.parameters})


@dataclass(frozen=True)
class CatalogueRequest:
    """A GET of one catalogue route: the name is one URL-encoded path segment, the parameters
    a query string in which a name may come more than once."""

    name: str
    parameters: list[tuple[str, str]]
    accept: str | None

    def send(self, target: Target) -> httpx.Response:
        headers = {} if self.accept is None else {"Accept": self.accept}
        path = "/queries/" + quote(self.name, safe="")
        return target.client.get(target.base + path, params=tuple(self.parameters), headers=headers)


@st.composite
def catalogue_requests(draw: st.DrawFn) -> CatalogueRequest:
    """Mostly a catalogue query with its own parameters (each may come twice) given odd
    values; sometimes another query's parameters, a made-up name or a repeated format."""
    name = draw(query_names)
    own = [p.name for p in CATALOGUE[name].parameters] if name in CATALOGUE else []
    names = st.sampled_from(own) if own else st.sampled_from(KNOWN_PARAMETERS)
    parameter = st.one_of(
        st.tuples(names, parameter_values),
        st.tuples(names, parameter_values),
        st.tuples(names, parameter_values),
        st.tuples(st.sampled_from(KNOWN_PARAMETERS), parameter_values),
        st.tuples(st.just("format"), st.sampled_from(FORMAT_NAMES)),
        st.tuples(st.text(max_size=10), parameter_values),
    )
    return CatalogueRequest(name, draw(st.lists(parameter, max_size=3)), draw(accepts))


# A query that would run for hours: the limit must stop it, and the server go on answering.
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CLOSURE = (
    f"PREFIX akg: <{ONTOLOGY}> SELECT (COUNT(*) AS ?n) "
    "WHERE { ?s (akg:aboutTool|^akg:reportedIn|^akg:aboutTool)* ?o }"
)


@settings(FUZZ, max_examples=200)
@given(request=sparql_requests)
@example(request=SparqlRequest("GET", CROSS_PRODUCT, None, [], [], [], None))
@example(request=SparqlRequest("POST query", CLOSURE, "text/csv", [], [], [], None))
def test_sparql_endpoint_withstands_any_query(target: Target, request: SparqlRequest) -> None:
    send_and_check(target, lambda: request.send(target), f"{request.how} /sparql {request!r}")


@FUZZ
@given(request=catalogue_requests())
def test_catalogue_withstands_hostile_parameters(target: Target, request: CatalogueRequest) -> None:
    send_and_check(target, lambda: request.send(target), f"GET /queries/{request.name} {request!r}")
