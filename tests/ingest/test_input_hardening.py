"""Hostile and broken input: RDF through safeparse and the release CSV files through the importer.

Each test feeds something an attacker or a damaged file could send and checks that it is refused
with a message naming the source and place, quickly, without a fetch and in bounded memory.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pyoxigraph as ox
import pytest

from atrocity_kg.config import Settings
from atrocity_kg.errors import ReleaseFormatError
from atrocity_kg.graph import graphs
from atrocity_kg.graph.build import tool_catalogue
from atrocity_kg.ingest import csvfiles
from atrocity_kg.ingest.csvfiles import MAX_FIELD_CHARS, MAX_FILE_BYTES, read_rows
from atrocity_kg.ingest.ushmm import read_release
from atrocity_kg.storage.safeparse import (
    MAX_XML_DEPTH,
    InputTooLargeError,
    UnsafeInputError,
    UnsupportedMediaTypeError,
    read_rdf,
)
from release_fixture import FILES, write_release
from server import HANG_GUARD_S

LIMIT = 1024 * 1024
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def parse(data: bytes, media_type: str, **options: Any) -> list[ox.Triple | ox.Quad]:
    options.setdefault("max_bytes", LIMIT)
    return read_rdf(data, media_type, source="upload.rdf", **options)


def rdf_xml(body: str, prolog: str = "") -> bytes:
    return (
        f'{prolog}<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:ex="http://example.org/">{body}</rdf:RDF>'
    ).encode()


ONE_STATEMENT = {
    "text/turtle": b"<http://example.org/s> <http://example.org/p> 'v' .",
    "application/n-triples": b'<http://example.org/s> <http://example.org/p> "v" .\n',
    "application/n-quads": (
        b'<http://example.org/s> <http://example.org/p> "v" <http://example.org/g> .\n'
    ),
    "application/trig": (
        b"<http://example.org/g> { <http://example.org/s> <http://example.org/p> 'v' }"
    ),
    "application/rdf+xml": rdf_xml(
        '<rdf:Description rdf:about="http://example.org/s"><ex:p>v</ex:p></rdf:Description>'
    ),
    "application/ld+json": json.dumps(
        {"@id": "http://example.org/s", "http://example.org/p": "v"}
    ).encode(),
}
DATASET_TYPES = {"application/n-quads", "application/trig", "application/ld+json"}


@pytest.mark.parametrize("media_type", sorted(ONE_STATEMENT))
def test_each_accepted_format_reads_its_statement(media_type: str) -> None:
    parsed = parse(ONE_STATEMENT[media_type], f"{media_type}; charset=utf-8")
    assert len(parsed) == 1
    statement = parsed[0]
    expected_kind = ox.Quad if media_type in DATASET_TYPES else ox.Triple
    assert isinstance(statement, expected_kind)
    assert statement.subject == ox.NamedNode("http://example.org/s")
    assert statement.object == ox.Literal("v")


def test_named_graph_kept_in_a_dataset_format() -> None:
    (quad,) = parse(ONE_STATEMENT["application/trig"], "application/trig")
    assert isinstance(quad, ox.Quad)
    assert quad.graph_name == ox.NamedNode("http://example.org/g")


def test_relative_iris_resolved_against_the_base() -> None:
    (triple,) = parse(b"<s> <p> <o> .", "text/turtle", base_iri="http://example.org/")
    assert triple.subject == ox.NamedNode("http://example.org/s")


@pytest.mark.parametrize("media_type", ["text/html", "text/n3", "application/json", ""])
def test_unknown_media_type_refused(media_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match=r"upload\.rdf: media type") as caught:
        parse(ONE_STATEMENT["text/turtle"], media_type)
    assert "text/turtle" in str(caught.value), "the message lists what is accepted"


def test_oversized_input_refused_before_parsing() -> None:
    oversized = b"this is not RDF at all " * 100
    with pytest.raises(InputTooLargeError, match=r"upload\.rdf: 2300 bytes, over the limit of 100"):
        parse(oversized, "text/turtle", max_bytes=100)


@pytest.mark.parametrize(
    ("media_type", "data", "place"),
    [
        ("text/turtle", b"<http://a> <http://b> <http://c> .\n<http://a> <http://b> .", "line 2"),
        ("application/n-triples", b"<http://a> <http://b> <http://c> .\n<http://a> .", "line 2"),
        ("application/ld+json", b'{"@id": "http://a",\n "http://b": 1,}', "line 2"),
        ("application/ld+json", b'{"@id": 5, "http://b": 1}', "@id"),
        (
            "application/rdf+xml",
            rdf_xml('\n<rdf:Description rdf:about="http://a"><ex:p>v</ex:q></rdf:Description>'),
            "line 2",
        ),
        (
            "application/rdf+xml",
            rdf_xml('<rdf:Description rdf:about="not an iri"><ex:p>v</ex:p></rdf:Description>'),
            "not an iri",
        ),
    ],
)
def test_malformed_input_names_source_and_place(media_type: str, data: bytes, place: str) -> None:
    with pytest.raises(UnsafeInputError) as caught:
        parse(data, media_type)
    message = str(caught.value)
    assert message.startswith("upload.rdf: ")
    assert place in message


# RDF/XML: entities, DTDs, encodings, nesting


def _entity_chain(levels: int, copies: int) -> bytes:
    """The "billion laughs": each entity is ``copies`` of the one before, ``levels`` deep."""
    declarations = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * copies}">' for level in range(1, levels)
    ]
    prolog = '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(declarations) + "\n]>\n"
    body = f'<rdf:Description rdf:about="http://a"><ex:p>&lol{levels - 1};</ex:p></rdf:Description>'
    return rdf_xml(body, prolog)


def test_the_parser_itself_expands_entities() -> None:
    """Why the guard exists: left alone, pyoxigraph's RDF/XML parser expands internal entities."""
    (quad,) = ox.parse(_entity_chain(levels=3, copies=10), ox.RdfFormat.RDF_XML)
    assert len(quad.object.value) == 3 * 10**2


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (_entity_chain(levels=2, copies=1), "entity declarations are refused"),
        (
            rdf_xml("", '<!DOCTYPE rdf:RDF [<!ENTITY % p "x">]>'),
            "entity declarations are refused",
        ),
        (rdf_xml("", '<!doctype rdf:RDF [<!entity a "x">]>'), "entity declarations are refused"),
        (
            rdf_xml('<!DOCTYPE x [<!ENTITY a "x">]><rdf:Description rdf:about="http://a"/>'),
            "entity declarations are refused",
        ),
        (
            rdf_xml("", '<!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:9/evil.dtd">'),
            "external DTD is refused",
        ),
        (
            rdf_xml("", '<!DOCTYPE rdf:RDF PUBLIC "-//x//y" "file:///etc/passwd">'),
            "external DTD is refused",
        ),
        (
            rdf_xml('<!DOCTYPE rdf:RDF><rdf:Description rdf:about="http://a"/>'),
            "not well-formed XML",
        ),
        (
            '<?xml version="1.0"?><rdf:RDF/>'.encode("utf-16"),
            "must be UTF-8, found a UTF-16 byte-order mark",
        ),
        ("<rdf:RDF/>".encode("utf-16-le"), "must be UTF-8, this looks like UTF-16"),
        (
            rdf_xml("", '<?xml version="1.0" encoding="ISO-8859-1"?>'),
            "the XML declaration says 'ISO-8859-1'",
        ),
    ],
    ids=[
        "internal entity",
        "parameter entity",
        "lower-case declaration",
        "doctype after the root",
        "external dtd system",
        "external dtd public",
        "doctype inside the root",
        "utf-16 with bom",
        "utf-16 without bom",
        "latin-1 declared",
    ],
)
def test_hostile_rdf_xml_refused(document: bytes, problem: str) -> None:
    with pytest.raises(UnsafeInputError, match=problem) as caught:
        parse(document, "application/rdf+xml")
    assert str(caught.value).startswith("upload.rdf: ")


def test_entity_refusal_names_line_and_column() -> None:
    with pytest.raises(UnsafeInputError, match=r"upload\.rdf: line 3, column 1: entity"):
        parse(_entity_chain(levels=2, copies=1), "application/rdf+xml")


def test_harmless_doctype_and_utf8_bom_accepted() -> None:
    body = '<rdf:Description rdf:about="http://a"><ex:p>caf\u00e9</ex:p></rdf:Description>'
    document = b"\xef\xbb\xbf" + rdf_xml(
        body, '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rdf:RDF>\n'
    )
    (triple,) = parse(document, "application/rdf+xml")
    assert triple.object == ox.Literal("caf\u00e9")


def _nested(depth: int) -> bytes:
    """``depth`` descriptions each inside the property of the one before: 2 x depth + 1 levels."""
    opening = '<rdf:Description rdf:about="http://a"><ex:p>' * depth
    closing = "</ex:p></rdf:Description>" * depth
    return rdf_xml(opening + closing)


def test_nesting_up_to_the_limit_accepted_and_beyond_refused() -> None:
    within = (MAX_XML_DEPTH - 1) // 2
    assert len(parse(_nested(within), "application/rdf+xml")) == within
    with pytest.raises(UnsafeInputError, match=f"nested deeper than {MAX_XML_DEPTH} levels"):
        parse(_nested(MAX_XML_DEPTH), "application/rdf+xml")


# The costly documents are refused in a child process with its address space capped at 1 GiB, so
# that a guard that failed would kill the child, not the machine, and the test would fail.
MEASURE = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from atrocity_kg.storage.safeparse import UnsafeInputError, read_rdf


def peak_kib():
    # VmHWM is this process's own high-water mark; ru_maxrss would carry the parent's over exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])


document = sys.stdin.buffer.read()
before = peak_kib()
# CPU time, not the wall clock: the work the refusal took, which no load on the machine adds to.
started = time.process_time()
try:
    read_rdf(document, "application/rdf+xml", source="attack.rdf", max_bytes=64 << 20)
    outcome = "accepted"
except UnsafeInputError as error:
    outcome = str(error)
cpu_seconds = time.process_time() - started
print(json.dumps({"outcome": outcome, "cpu_seconds": cpu_seconds, "peak_kib": peak_kib(),
                  "before_kib": before}))
"""


def _refuse_in_a_capped_child(document: bytes) -> dict[str, Any]:
    finished = subprocess.run(
        [sys.executable, "-c", MEASURE],
        input=document,
        capture_output=True,
        timeout=HANG_GUARD_S,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr.decode(errors="replace")[-2000:]
    measured: dict[str, Any] = json.loads(finished.stdout)
    return measured


def _quadratic_blowup() -> bytes:
    """One 100 kB entity referenced 10,000 times: a gigabyte from a one-megabyte file."""
    prolog = f'<!DOCTYPE rdf:RDF [<!ENTITY big "{"x" * 100_000}">]>\n'
    references = "&big;" * 10_000
    body = f'<rdf:Description rdf:about="http://a"><ex:p>{references}</ex:p></rdf:Description>'
    return rdf_xml(body, prolog)


def _deep_elements() -> bytes:
    """100,000 nested elements: the parser needs minutes for far fewer."""
    return _nested(50_000)


ATTACKS: dict[str, tuple[Callable[[], bytes], str]] = {
    "billion laughs (10 levels of 10)": (
        lambda: _entity_chain(levels=10, copies=10),
        "entity declarations",
    ),
    "ten levels of 100": (lambda: _entity_chain(levels=10, copies=100), "entity declarations"),
    "quadratic blowup": (_quadratic_blowup, "entity declarations"),
    "100,000 nested elements": (_deep_elements, "nested deeper than"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_expansion_attacks_refused_quickly_in_bounded_memory(
    attack: str, record_property: Any
) -> None:
    build, problem = ATTACKS[attack]
    measured = _refuse_in_a_capped_child(build())
    record_property("refusal_cpu_seconds", round(measured["cpu_seconds"], 4))
    record_property("peak_rss_kib", measured["peak_kib"])
    assert problem in measured["outcome"]
    assert measured["outcome"].startswith("attack.rdf: ")
    assert measured["cpu_seconds"] < 5
    assert measured["peak_kib"] - measured["before_kib"] < 64 * 1024, "refusing costs < 64 MiB"


# JSON-LD: remote contexts


class _CountingHandler(BaseHTTPRequestHandler):
    """Serves a JSON-LD context and counts every request it gets."""

    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = json.dumps({"@context": {"name": "http://example.org/name"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the request list instead."""


@pytest.fixture
def context_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on loopback serving a context, and the list of paths it was asked for."""
    seen: list[str] = []
    handler = type("Handler", (_CountingHandler,), {"requests": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_context_server_counts_requests(context_server: tuple[str, list[str]]) -> None:
    """The control for the tests below: a real fetch is seen, so "no request" means something."""
    base, seen = context_server
    with urlopen(f"{base}/probe.jsonld", timeout=HANG_GUARD_S) as response:
        assert json.load(response)["@context"]["name"] == "http://example.org/name"
    assert seen == ["/probe.jsonld"]


def _remote_context_documents(base: str) -> dict[str, dict[str, Any]]:
    context = f"{base}/context.jsonld"
    data = {"@id": "http://example.org/s", "name": "v"}
    return {
        "string": {"@context": context, **data},
        "list": {"@context": [{"x": "http://example.org/x"}, context], **data},
        "nested": {
            "@id": "http://example.org/s",
            "http://example.org/p": {"@context": context, "name": "v"},
        },
        "scoped": {
            "@context": {"p": {"@id": "http://example.org/p", "@context": context}},
            "@id": "http://example.org/s",
            "p": {"name": "v"},
        },
        "import": {"@context": {"@version": 1.1, "@import": context}, **data},
    }


@pytest.mark.parametrize("shape", ["string", "list", "nested", "scoped", "import"])
def test_remote_context_refused_without_a_request(
    context_server: tuple[str, list[str]], shape: str
) -> None:
    base, seen = context_server
    document = json.dumps(_remote_context_documents(base)[shape]).encode()
    with pytest.raises(UnsafeInputError, match="remote context") as caught:
        parse(document, "application/ld+json")
    assert str(caught.value).startswith("upload.rdf: $")
    assert seen == []


@pytest.mark.parametrize("shape", ["string", "import"])
def test_the_json_ld_parser_never_fetches_by_itself(
    context_server: tuple[str, list[str]], shape: str
) -> None:
    """Below the guard: pyoxigraph has no document loader unless given one, so it fails rather
    than fetching. Should an upgrade change that, this test says so."""
    base, seen = context_server
    document = json.dumps(_remote_context_documents(base)[shape]).encode()
    with pytest.raises(SyntaxError):
        list(ox.parse(document, ox.RdfFormat.JSON_LD))
    assert seen == []


def test_embedded_context_accepted() -> None:
    document = {
        "@context": {"name": "http://example.org/name"},
        "@id": "http://example.org/s",
        "name": "v",
    }
    (quad,) = parse(json.dumps(document).encode(), "application/ld+json")
    assert quad.predicate == ox.NamedNode("http://example.org/name")


def test_deeply_nested_json_refused_clearly() -> None:
    with pytest.raises(UnsafeInputError, match=r"upload\.rdf: JSON nested too deeply"):
        parse(b"[" * 100_000 + b"]" * 100_000, "application/ld+json")


def test_deeply_nested_turtle_parsed_without_a_crash() -> None:
    """Turtle nesting costs the parser linear work; a 100,000-deep list is just slow data."""
    depth = 100_000
    document = b"<http://a> <http://b> " + b"(" * depth + b")" * depth + b" ."
    assert len(parse(document, "text/turtle")) == 2 * depth - 1


# The release CSV files


@pytest.fixture(scope="module")
def catalogue(repo: Path) -> Any:
    return tool_catalogue(graphs.load_curated(Settings(home=repo)))


def _write(folder: Path, name: str, content: bytes) -> str:
    (folder / name).write_bytes(content)
    return name


def _refusal(folder: Path, name: str) -> ReleaseFormatError:
    with pytest.raises(ReleaseFormatError) as caught:
        list(read_rows(folder, name, ["a", "b"]))
    assert name in str(caught.value)
    return caught.value


def test_csv_over_the_size_limit_refused_unread(tmp_path: Path) -> None:
    name = "huge.csv"
    with (tmp_path / name).open("wb") as stream:
        stream.write(b"a,b\n")
        stream.truncate(MAX_FILE_BYTES + 1)
    error = _refusal(tmp_path, name)
    assert f"over the limit of {MAX_FILE_BYTES} bytes" in error.problem


@pytest.mark.parametrize("limit_set_elsewhere", [None, sys.maxsize])
def test_csv_field_over_the_field_limit_names_the_row(
    tmp_path: Path, limit_set_elsewhere: int | None
) -> None:
    """The csv module's limit is process-wide; read_rows sets its own, so a huge limit set by
    other code does not leak in."""
    if limit_set_elsewhere is not None:
        csv.field_size_limit(limit_set_elsewhere)
    long_value = "x" * (MAX_FIELD_CHARS + 1)
    name = _write(tmp_path, "long.csv", f"a,b\n1,2\n3,{long_value}\n".encode())
    error = _refusal(tmp_path, name)
    assert error.location.row == 2
    assert f"longer than {MAX_FIELD_CHARS} characters" in error.problem
    name = _write(tmp_path, "fits.csv", f"a,b\n3,{long_value[1:]}\n".encode())
    assert len(next(read_rows(tmp_path, name, ["a", "b"])).values["b"]) == MAX_FIELD_CHARS


@pytest.mark.parametrize(
    ("content", "row", "column", "problem"),
    [
        (b"a,b\n1,2\n3,\x004\n", 2, "b", "NUL byte"),
        (b"a,\x00b\n1,2\n", None, None, "NUL byte in the header"),
        (b'a,b\n1,2\n3,"4"5\n', 2, None, "bad CSV: ',' expected after '\"'"),
        (b'a,b\n1,"2\n3,4\n', 1, None, "bad CSV: unexpected end of data"),
        (b'"a,b\n1,2\n', None, None, "bad CSV: unexpected end of data"),
    ],
    ids=["nul in a value", "nul in the header", "text after a quote", "open quote", "open header"],
)
def test_broken_csv_names_file_and_row(
    tmp_path: Path, content: bytes, row: int | None, column: str | None, problem: str
) -> None:
    name = _write(tmp_path, "broken.csv", content)
    error = _refusal(tmp_path, name)
    assert error.location.row == row
    assert error.location.column == column
    assert problem in error.problem


def test_open_quote_in_a_big_file_stops_at_the_field_limit(tmp_path: Path) -> None:
    """A quote never closed would swallow the rest of the file as one field; the limit stops it."""
    rest = b"3,4\n" * (MAX_FIELD_CHARS // 4 + 1)
    name = _write(tmp_path, "open.csv", b'a,b\n1,"2\n' + rest)
    error = _refusal(tmp_path, name)
    assert error.location.row == 1
    assert "longer than" in error.problem


def test_binary_release_file_stopped_by_the_importer(tmp_path: Path, catalogue: Any) -> None:
    folder = write_release(tmp_path)
    sources = folder / FILES["sources"]
    lines = sources.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b",", b",\x00", 1)
    sources.write_bytes(b"\n".join(lines))
    with pytest.raises(ReleaseFormatError, match="NUL byte") as caught:
        read_release(folder, "V3", catalogue)
    assert caught.value.location.file == FILES["sources"]
    assert caught.value.location.row == 2


def test_importer_has_no_way_to_fetch() -> None:
    """DOIs and links in a release are strings; the importer imports nothing that can open a
    connection."""
    network_modules = {"socket", "urllib.request", "http.client", "httpx", "requests", "ssl"}
    for module in ("csvfiles", "ushmm"):
        source = (Path(csvfiles.__file__).parent / f"{module}.py").read_text()
        imported = {
            line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))
        }
        assert not imported & network_modules, f"{module}.py imports {imported & network_modules}"
