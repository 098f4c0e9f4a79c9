"""Validation of only what changed: reports are kept by content, so a graph that is the same as
before is not validated again, and any change to it, its context, the ontology or the shapes
validates it afresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from atrocity_kg.config import Settings
from atrocity_kg.graph import graphs, validate

REPO = Path(__file__).resolve().parents[2]
THING = URIRef("urn:example:thing")
FIRST = URIRef("https://w3id.org/atrocity-kg/graph/first")
SECOND = URIRef("https://w3id.org/atrocity-kg/graph/second")


@pytest.fixture(scope="module")
def inputs() -> tuple[Graph, Graph]:
    settings = Settings(home=REPO)
    return graphs.load_shapes(settings), graphs.load_ontology(settings)


def release_like(label: str) -> Graph:
    """A small graph no shape targets, with a blank node, so its labels change at each parse."""
    graph = Graph()
    graph.add((THING, RDFS.label, Literal(label)))
    graph.parse(
        data=f'<urn:example:thing> <urn:example:p> [ <urn:example:q> "{label}" ] .', format="turtle"
    )
    return graph


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the graphs actually validated (not answered from the cache)."""
    names: list[str] = []
    real = validate._validate_serialised

    def spy(job: tuple[str, bytes, bytes, bytes, bytes]) -> validate.ValidationReport:
        names.append(job[0])
        return real(job)

    monkeypatch.setattr(validate, "_validate_serialised", spy)
    return names


def run(
    jobs: list[tuple[URIRef, Graph]],
    inputs: tuple[Graph, Graph],
    cache: validate.ValidationCache,
    context: Graph | None = None,
) -> validate.ValidationReport:
    shapes, ontology = inputs
    with validate.validating(jobs, shapes, ontology, context, 0, cache) as report:
        return report()


def test_an_unchanged_graph_is_not_validated_again(
    tmp_path: Path, inputs: tuple[Graph, Graph], validated: list[str]
) -> None:
    cache = validate.ValidationCache(tmp_path / "cache")
    first = run([(FIRST, release_like("a")), (SECOND, release_like("b"))], inputs, cache)
    assert sorted(validated) == [str(FIRST), str(SECOND)]
    validated.clear()
    again = run([(FIRST, release_like("a")), (SECOND, release_like("b"))], inputs, cache)
    assert validated == []
    assert again.results == first.results


def test_only_the_changed_graph_is_validated_again(
    tmp_path: Path, inputs: tuple[Graph, Graph], validated: list[str]
) -> None:
    cache = validate.ValidationCache(tmp_path / "cache")
    run([(FIRST, release_like("a")), (SECOND, release_like("b"))], inputs, cache)
    validated.clear()
    run([(FIRST, release_like("a")), (SECOND, release_like("changed"))], inputs, cache)
    assert validated == [str(SECOND)]


def test_a_changed_context_validates_everything_again(
    tmp_path: Path, inputs: tuple[Graph, Graph], validated: list[str]
) -> None:
    cache = validate.ValidationCache(tmp_path / "cache")
    jobs = [(FIRST, release_like("a"))]
    run(jobs, inputs, cache)
    validated.clear()
    context = Graph()
    context.add((URIRef("urn:example:other"), RDFS.label, Literal("new")))
    run(jobs, inputs, cache, context)
    assert validated == [str(FIRST)]


def test_a_cached_failure_is_still_a_failure(
    tmp_path: Path, inputs: tuple[Graph, Graph], validated: list[str]
) -> None:
    """A study without its required facts: the cached report keeps its violations."""
    broken = Graph().parse(
        data="<https://w3id.org/atrocity-kg/id/study/x> a "
        "<https://w3id.org/atrocity-kg/ontology#Study> .",
        format="turtle",
    )
    cache = validate.ValidationCache(tmp_path / "cache")
    first = run([(FIRST, broken)], inputs, cache)
    assert not first.conforms
    validated.clear()
    again = run([(FIRST, broken)], inputs, cache)
    assert validated == []
    assert not again.conforms
    assert again.results == first.results


def test_the_build_keeps_a_report_per_graph(built: Settings) -> None:
    """The session's build validated the curated data, each release and the summary graph, and
    kept the reports."""
    entries = sorted(built.validation_cache.glob("*.json"))
    assert len(entries) == 2 + len(list((REPO / "data" / "ushmm").glob("*.ttl")))


def test_stores_given_one_cache_folder_share_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ATROCITY_KG_CACHE_DIR gives every store the same caches; unset, each keeps its own
    beside it."""
    monkeypatch.delenv("ATROCITY_KG_CACHE_DIR", raising=False)
    first = Settings(home=REPO, store_dir=tmp_path / "a" / "store")
    second = Settings(home=REPO, store_dir=tmp_path / "b" / "store")
    assert first.validation_cache == tmp_path / "a" / "validation-cache"
    assert first.reasoning_cache == tmp_path / "a" / "reasoning-cache"
    assert second.validation_cache != first.validation_cache
    monkeypatch.setenv("ATROCITY_KG_CACHE_DIR", str(tmp_path / "shared"))
    first = Settings(home=REPO, store_dir=tmp_path / "a" / "store")
    second = Settings(home=REPO, store_dir=tmp_path / "b" / "store")
    assert (
        first.validation_cache
        == second.validation_cache
        == tmp_path / "shared" / ("validation-cache")
    )
    assert (
        first.reasoning_cache == second.reasoning_cache == tmp_path / "shared" / ("reasoning-cache")
    )
