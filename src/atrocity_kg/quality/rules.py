"""The quality rules: one SPARQL file per kind of slip, run over the records graph.

A rule is ``rules/{kind}.rq``. Its header (like the catalogue's, ``queries/*.rq``) gives its
``title`` (the kind's label), ``kind`` (the key, equal to the file name), ``description`` (what
the kind is) and ``action`` (what the graph does about it); lines of the same key continue each
other. The query is a SELECT over the union of the records graph and the curated vocabularies,
one solution per place, with these variables:

- ``?record`` (required): the record node (``iris.record``) the slip is at; its file, row and
  release are read from it;
- ``?found`` (required): what the files say there, short facts only;
- ``?column``: the column, as its property (``iris.column``) or its header as a literal;
- ``?action``: this place's action where it differs from the header's;
- ``?study``, ``?factor``: the index number or factor code concerned, so that the annotation
  can point at the study or factor of the graph (several solutions may name several).

Keeping every rule as a query over the records means a new release is checked the same way,
and the rules can be read, and run, without this package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pyoxigraph as ox

from atrocity_kg.errors import QueryError
from atrocity_kg.model import iris
from atrocity_kg.query import sparql
from atrocity_kg.query.queries import header_lines

_HEADER = re.compile(r"^#\s*(?P<key>title|kind|description|action)\s*:\s*(?P<value>.*)$")
_REQUIRED = ("title", "kind", "description", "action")


@dataclass(frozen=True)
class Rule:
    kind: str
    title: str
    description: str
    action: str
    text: str


@dataclass
class Issue:
    """One place where the files contradict themselves, each other or an earlier release."""

    kind: str
    release: str
    file: str
    row: int
    column: str | None
    found: str
    action: str
    studies: set[str] = field(default_factory=set)
    factors: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str, str, int, str, str]:
        return (self.kind, self.file, self.row, self.column or "", self.found)


def rules_folder() -> Path:
    return Path(str(resources.files("atrocity_kg.quality") / "rules"))


def parse_rule(path: Path) -> Rule:
    """A rule file: its header, checked, and its text."""
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    for line in header_lines(text):
        match = _HEADER.match(line)
        if match is None:
            continue
        key, value = match.group("key"), match.group("value").strip()
        header[key] = f"{header.get(key, '')} {value}".strip()
    missing = [key for key in _REQUIRED if not header.get(key)]
    if missing:
        raise QueryError(f"{path}: the header needs '# {missing[0]}:'")
    if header["kind"] != path.stem:
        raise QueryError(f"{path}: '# kind: {header['kind']}' must be the file's name")
    return Rule(header["kind"], header["title"], header["description"], header["action"], text)


def load_rules(folder: Path | None = None) -> list[Rule]:
    """Every rule of the folder (the package's own by default), by kind."""
    return [parse_rule(path) for path in sorted((folder or rules_folder()).glob("*.rq"))]


_PLACES = """SELECT ?record ?file ?row ?release WHERE {
  ?record akg:sourceFile ?file ; akg:sourceRow ?row ; akg:inRelease ?release .
}"""


def _places(store: ox.Store) -> dict[str, tuple[str, int, str]]:
    """Every record node -> its file, row and release code."""
    places = {}
    for solution in sparql.select(store, _PLACES):
        record, file, row, release = (solution[v] for v in ("record", "file", "row", "release"))
        if record is None or file is None or row is None or release is None:
            continue
        places[str(sparql.text_of(record))] = (
            str(sparql.text_of(file)),
            int(sparql.text_of(row) or 0),
            iris.key(str(sparql.text_of(release))).upper(),
        )
    return places


def _column(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        name = iris.column_name(term.value)
        if name is None:
            raise QueryError(f"?column {term.value} is not a column property (iris.column)")
        return name
    return term.value if isinstance(term, ox.Literal) else None


def run_rule(store: ox.Store, rule: Rule, places: dict[str, tuple[str, int, str]]) -> list[Issue]:
    """One rule's places, one issue each (solutions naming several studies are merged)."""
    try:
        answer = store.query(rule.text, use_default_graph_as_union=True)
    except SyntaxError as error:
        raise QueryError(f"quality rule {rule.kind}: {error}") from None
    if not isinstance(answer, ox.QuerySolutions):
        raise QueryError(f"quality rule {rule.kind} must be a SELECT query")
    issues: dict[tuple[str, str, int, str, str], Issue] = {}
    for solution in answer:
        record, found = solution["record"], solution["found"]
        if record is None or found is None:
            raise QueryError(f"quality rule {rule.kind}: every solution needs ?record and ?found")
        file, row, release = places[record.value]
        action = solution["action"]
        issue = Issue(
            rule.kind,
            release,
            file,
            row,
            _column(solution["column"]),
            found.value,
            action.value if action is not None else rule.action,
        )
        known = issues.setdefault(issue.key, issue)
        for name, into in (("study", known.studies), ("factor", known.factors)):
            term = solution[name]
            if term is not None:
                into.add(term.value)
    return list(issues.values())


PREPARATION = "prepare.ru"


def prepare(store: ox.Store, folder: Path | None = None) -> None:
    """Derive the facts several rules share (``rules/prepare.ru``) into the records graph."""
    path = (folder or rules_folder()) / PREPARATION
    if not path.is_file():
        return
    try:
        store.update(path.read_text(encoding="utf-8"))
    except SyntaxError as error:
        raise QueryError(f"quality rules preparation {path}: {error}") from None


def run_rules(store: ox.Store, rules: Iterable[Rule]) -> list[Issue]:
    """Every rule over the prepared records, the issues in the order of release, file, row,
    column."""
    places = _places(store)
    found = [issue for rule in rules for issue in run_rule(store, rule, places)]
    return sorted(found, key=lambda i: (i.release, i.file, i.row, i.column or "", i.kind, i.found))
