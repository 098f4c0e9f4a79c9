"""IRIs are minted from natural keys, the same on every build."""

from __future__ import annotations

import pytest

from atrocity_kg.model import iris


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Peace Ops.098", "peace-ops-098"),
        ("Amnesty, Asylum, or Exile.2023.5", "amnesty-asylum-or-exile-2023-5"),
        ("Šimunović", "simunovic"),
        ("  Domestic context  ", "domestic-context"),
        ("Multi_tool", "multi-tool"),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert iris.slug(text) == expected


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot make an IRI key"):
        iris.slug("***")


def test_same_key_same_iri_and_different_key_different_iri() -> None:
    key = ("Peace Ops.001", "peace-operations", "Commitment", "conflict", "greater-effectiveness")
    assert iris.finding("V3", *key) == iris.finding("V3", *key)
    assert iris.finding("V3", *key) != iris.finding("V2", *key)
    assert iris.finding("V3", *key) != iris.finding("V3", *key[:-1], "lesser-effectiveness")


def test_studies_and_factors_do_not_depend_on_the_release() -> None:
    assert str(iris.study("Peace Ops.098")) == "https://w3id.org/atrocity-kg/id/study/peace-ops-098"
    assert str(iris.factor("Commitment")) == "https://w3id.org/atrocity-kg/id/factor/commitment"
