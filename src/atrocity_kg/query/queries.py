"""The queries/ catalogue: each .rq file with its header (title, description, typed parameters),
run with parameters bound as values, never pasted into the query text.

A parameter that names a thing of the graph declares its class instead of ``iri``
(``?tool akg:ReviewedTool``): its value is then one of the class's members, which a form offers
by label and a client may name by short key (``query.choices``).

A query that is renamed keeps its old name working: its file says ``# replaces: OLD-NAME``, and
``find`` answers either name (the web routes redirect the old one), so that saved links and
scripts go on running after the rename."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from atrocity_kg.errors import QueryError
from atrocity_kg.model.namespaces import PREFIXES

_HEADER = re.compile(r"^#\s*(?P<key>title|description|param|replaces)\s*:\s*(?P<value>.*)$")
_PARAM = re.compile(
    r"^\?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+"
    r"(?P<type>iri|string|integer|decimal|(?P<prefix>[A-Za-z][\w-]*):(?P<local>[A-Za-z_]\w*))"
    r"(?:\s+default\s+(?P<default>\S+))?\s*(?:--\s*(?P<doc>.*))?$"
)
_XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None
    description: str
    of_class: str | None = None
    """For an IRI parameter declared by a class (``?tool akg:ReviewedTool``), that class's IRI:
    the value must be one of its members."""

    def term(self, value: str) -> ox.NamedNode | ox.Literal:
        """The RDF term for a user's value, checked against the declared type."""
        value = value.strip()
        try:
            if self.type == "iri":
                if not re.match(r"^[a-z][a-z0-9+.-]*:[^\s<>\"{}|\\^`]*$", value, re.IGNORECASE):
                    raise ValueError("not an absolute IRI")
                return ox.NamedNode(value)
            if self.type == "integer":
                return ox.Literal(str(int(value)), datatype=ox.NamedNode(_XSD + "integer"))
            if self.type == "decimal":
                float(value)
                return ox.Literal(value, datatype=ox.NamedNode(_XSD + "decimal"))
        except ValueError as error:
            raise QueryError(
                f"parameter {self.name!r}: {value!r} is not a valid {self.type} ({error})"
            ) from None
        return ox.Literal(value)


@dataclass(frozen=True)
class CatalogueQuery:
    name: str
    title: str
    description: str
    text: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    replaces: tuple[str, ...] = ()
    """Former names of this query, which still reach it."""

    def bound_text(self, values: dict[str, str]) -> str:
        """The query with the user's values bound in a VALUES block (terms built, not pasted)."""
        return with_values(self.text, self.bindings(values))

    def bindings(self, values: dict[str, str]) -> dict[ox.Variable, ox.NamedNode | ox.Literal]:
        known = {p.name for p in self.parameters}
        unknown = sorted(set(values) - known)
        if unknown:
            raise QueryError(f"query {self.name!r} has no parameter {unknown[0]!r}")
        result = {}
        for parameter in self.parameters:
            value = values.get(parameter.name, parameter.default)
            if value is None:
                raise QueryError(f"query {self.name!r} needs a value for {parameter.name!r}")
            result[ox.Variable(parameter.name)] = parameter.term(value)
        return result


def header_lines(text: str) -> Iterator[str]:
    """The comment lines a query file opens with (its header), stripped; the header ends at the
    first line that is neither blank nor a comment."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return
        if stripped:
            yield stripped


def parse_query_file(path: Path) -> CatalogueQuery:
    text = path.read_text(encoding="utf-8")
    title = description = ""
    parameters = []
    replaces: list[str] = []
    for line in header_lines(text):
        match = _HEADER.match(line)
        if match is None:
            continue
        key, value = match.group("key"), match.group("value").strip()
        if key == "title":
            title = value
        elif key == "description":
            description = f"{description} {value}".strip()
        elif key == "replaces":
            replaces.extend(value.replace(",", " ").split())
        else:
            param = _PARAM.match(value)
            if param is None:
                raise QueryError(
                    f"{path}: cannot read parameter line {value!r} "
                    "(expected '?name TYPE [default VALUE] [-- text]', TYPE being iri, string, "
                    "integer, decimal or a class such as akg:ReviewedTool)"
                )
            of_class = _class_iri(path, param.group("prefix"), param.group("local"))
            parameters.append(
                Parameter(
                    param.group("name"),
                    "iri" if of_class else param.group("type"),
                    param.group("default"),
                    param.group("doc") or "",
                    of_class,
                )
            )
    if not title:
        raise QueryError(f"{path}: the header needs a '# title:' line")
    return CatalogueQuery(path.stem, title, description, text, tuple(parameters), tuple(replaces))


def _class_iri(path: Path, prefix: str | None, local: str | None) -> str | None:
    """The IRI of a parameter's class, written with one of the project's prefixes."""
    if prefix is None or local is None:
        return None
    namespace = PREFIXES.get(prefix)
    if namespace is None:
        raise QueryError(
            f"{path}: unknown prefix {prefix!r} in a parameter's class; "
            f"known: {', '.join(PREFIXES)}"
        )
    return f"{namespace}{local}"


def load_catalogue(folder: Path) -> dict[str, CatalogueQuery]:
    catalogue = {path.stem: parse_query_file(path) for path in sorted(folder.glob("*.rq"))}
    former_names(catalogue)
    return catalogue


def former_names(catalogue: Mapping[str, CatalogueQuery]) -> dict[str, str]:
    """Each former name -> the query's name now; a former name that is also a query's name,
    or that two queries claim, is an error (it would reach two queries)."""
    former: dict[str, str] = {}
    for name, entry in catalogue.items():
        for old in entry.replaces:
            if old in catalogue:
                raise QueryError(f"query {name!r} replaces {old!r}, which is still a query")
            if old in former:
                raise QueryError(f"queries {former[old]!r} and {name!r} both replace {old!r}")
            former[old] = name
    return former


def find(catalogue: Mapping[str, CatalogueQuery], name: str) -> CatalogueQuery | None:
    """The query of this name, or the one that replaces it; None if neither."""
    if name in catalogue:
        return catalogue[name]
    current = former_names(catalogue).get(name)
    return catalogue[current] if current is not None else None


_OUTER_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def _values_clause(bindings: Mapping[ox.Variable, ox.NamedNode | ox.Literal]) -> str:
    """A VALUES block: the remote way to bind parameters without pasting them into patterns."""
    if not bindings:
        return ""
    names = " ".join(f"?{v.value}" for v in bindings)
    terms = " ".join(str(t) for t in bindings.values())
    return f"VALUES ({names}) {{ ({terms}) }}\n"


def with_values(text: str, bindings: Mapping[ox.Variable, ox.NamedNode | ox.Literal]) -> str:
    """Put the bindings in a VALUES block at the top of the outer WHERE group.

    A trailing VALUES block would be joined after grouping, so it would not bind parameters used
    only inside the pattern; the catalogue queries all spell out their outer ``WHERE {``.
    """
    clause = _values_clause(bindings)
    if not clause:
        return text
    match = _OUTER_WHERE.search(text)
    if match is None:
        raise QueryError("a parameterised query needs an explicit 'WHERE {' for its bindings")
    return f"{text[: match.end()]}\n  {clause}{text[match.end() :]}"
