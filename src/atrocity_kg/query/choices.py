"""The values a catalogue parameter declared by a class can take: the class's members, each
with a label for people and a short key for URLs (``mediation`` for ``.../id/tool/mediation``).

A form offers them by label; a client may name one by its key, its label or its full IRI
(``resolve``). A value that names none is refused with the closest names, where a query would
otherwise run on it and answer no rows, which reads as "no evidence" when it means "no such
thing". The members are read from the store being served, so they follow its build.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from atrocity_kg.errors import QueryError
from atrocity_kg.model.namespaces import ID
from atrocity_kg.query import sparql

if TYPE_CHECKING:
    from atrocity_kg.query.queries import Parameter
    from atrocity_kg.storage.store import GraphStore

CLOSE_MATCHES = 5
LISTED = 30
"""A class this small is listed whole when nothing is close to a value."""


@dataclass(frozen=True)
class Choice:
    """One member of a parameter's class."""

    iri: str
    key: str
    label: str


class UnknownValueError(QueryError):
    """A value that names no member of the parameter's class; ``suggestions`` are the closest
    members, best first."""

    def __init__(
        self, parameter: Parameter, value: str, suggestions: Sequence[Choice], known: int
    ) -> None:
        self.parameter = parameter
        self.value = value
        self.suggestions = tuple(suggestions)
        kind = kind_name(parameter)
        message = f"parameter {parameter.name!r}: {value!r} names no {kind}"
        named = ", ".join(f"{choice.key} ({choice.label})" for choice in self.suggestions)
        if self.suggestions and len(self.suggestions) < known:
            message += f"; close matches: {named}"
        elif self.suggestions:
            message += f"; the {kind}s are: {named}"
        super().__init__(message)


def kind_name(parameter: Parameter) -> str:
    """The parameter's class in words: ``akg:ReviewedTool`` -> "reviewed tool"."""
    local = (parameter.of_class or "thing").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower()


def _key(iri: str) -> str:
    """The last segment of one of our IRIs (``tool/mediation`` -> ``mediation``)."""
    if iri.startswith(str(ID)):
        return iri.rsplit("/", 1)[-1]
    return iri


def choices(store: GraphStore, of_class: str) -> list[Choice]:
    """The members of ``of_class`` in ``store``, by label. A key two members share is replaced
    by their full IRIs, so that every key names one member."""
    rows = sparql.select(store, sparql.load("choices"), {"class": ox.NamedNode(of_class)})
    found = []
    for row in rows:
        item = row["item"]
        if not isinstance(item, ox.NamedNode):
            continue
        found.append((item.value, _key(item.value), sparql.text_of(row["label"]) or ""))
    shared = Counter(key for _, key, _ in found)
    members = [
        Choice(iri, key if shared[key] == 1 else iri, label or key) for iri, key, label in found
    ]
    return sorted(members, key=lambda choice: (choice.label.casefold(), choice.key))


def resolve(parameter: Parameter, value: str, members: Sequence[Choice]) -> Choice:
    """The member ``value`` names: by full IRI, key or label (these two in any case); else
    UnknownValueError with the closest members."""
    value = value.strip()
    folded = value.casefold()
    for choice in members:
        if value == choice.iri:
            return choice
    for choice in members:
        if folded in (choice.key.casefold(), choice.label.casefold()):
            return choice
    near = close_matches(value, members)
    if not near and len(members) <= LISTED:
        near = list(members)
    raise UnknownValueError(parameter, value, near, len(members))


def close_matches(value: str, members: Sequence[Choice]) -> list[Choice]:
    """The members whose key or label is nearest ``value`` (an IRI is compared by its key)."""
    wanted = _key(value).casefold()
    names: dict[str, Choice] = {}
    for choice in members:
        names.setdefault(choice.key.casefold(), choice)
        names.setdefault(choice.label.casefold(), choice)
    best: list[Choice] = []
    for name in difflib.get_close_matches(wanted, list(names), n=3 * CLOSE_MATCHES, cutoff=0.5):
        if names[name] not in best:
            best.append(names[name])
    if not best:  # a word of a longer name: "embargo" for "arms-embargoes"
        best = [c for c in members if wanted and wanted in f"{c.key} {c.label}".casefold()]
    return best[:CLOSE_MATCHES]
