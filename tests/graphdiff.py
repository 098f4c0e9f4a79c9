"""Graph comparison by isomorphism, with the difference spelt out when it fails."""

from __future__ import annotations

from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic


def assert_isomorphic(expected: Graph, actual: Graph, limit: int = 20) -> None:
    left, right = to_isomorphic(expected), to_isomorphic(actual)
    if left == right:
        return
    _, only_expected, only_actual = graph_diff(left, right)
    lines = [
        f"graphs differ: {len(only_expected)} triples only expected, {len(only_actual)} only actual"
    ]
    for label, graph in (("- expected", only_expected), ("+ actual", only_actual)):
        for triple in sorted(graph)[:limit]:
            lines.append(f"{label}: {' '.join(t.n3() for t in triple)}")
    raise AssertionError("\n".join(lines))
