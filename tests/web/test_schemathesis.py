"""Schemathesis against the app's own OpenAPI document, over real HTTP.

Every documented operation gets requests generated from its declared parameters and bodies (and
mutated ones that break them). Each answer must not be a server error (503, the query limit's
answer, apart), must not leak a traceback, and must use a status code and a media type that the
document declares for that operation: the document is a contract clients generate code from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from atrocity_kg.config import Settings
from atrocity_kg.web import create_app
from server import HANG_GUARD_S, serving

pytestmark = pytest.mark.slow  # property-based attacks on a real server

REPO = Path(__file__).resolve().parents[2]

QUERY_TIMEOUT_S = 5.0
LEAKS = ("Traceback (most recent call last)", 'File "/', "site-packages", "/src/atrocity_kg/")


@pytest.fixture(scope="module")
def attacked_base(built: Settings) -> Iterator[str]:
    """The app on the built store, with a short query limit and no rate limit (the generated
    requests come fast from one address)."""
    limited = built.model_copy(
        update={"query_timeout": QUERY_TIMEOUT_S, "rate_limit_per_minute": 0}
    )
    with serving(limited) as url:
        yield url


def _document() -> dict[str, Any]:
    """The OpenAPI document as the app builds it (no store is opened for that). Schemathesis
    needs it when the tests are collected, before any server runs (its loader from a fixture,
    ``schemathesis.pytest.from_fixture``, fails under pytest 9); the first test checks that the
    running server serves this very document."""
    document: dict[str, Any] = create_app(Settings(home=REPO)).openapi()
    return document


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
# A query sent as the body itself is plain text on the wire.
schemathesis.serializer.alias("application/sparql-query", "text/plain")


def test_the_server_serves_the_document_under_test(attacked_base: str) -> None:
    served = httpx.get(f"{attacked_base}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


ANY_TEXT = {"type": "string"}


def _breakable(operation: schemathesis.APIOperation[Any, Any, Any, Any]) -> bool:
    """Whether some request breaks what the operation declares: a query parameter or a body
    can always be malformed; a path segment only if it is more than any text (a pattern, say)."""
    if len(list(operation.query)) or len(list(operation.body)):
        return True
    return any(
        {key: value for key, value in parameter.definition["schema"].items() if key != "title"}
        != ANY_TEXT
        for parameter in operation.path_parameters
    )


def _cases() -> list[Any]:
    """Every operation with valid requests, and where something can be broken (``_breakable``)
    with requests that break it."""
    cases = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the document itself is wrong: no test can say more
        operation = result.ok()
        takes_input = _breakable(operation)
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if takes_input else [])
        cases += [pytest.param(operation, mode, id=f"{operation.label} {mode}") for mode in modes]
    return cases


@pytest.mark.parametrize(("operation", "mode"), _cases())
def test_every_operation_keeps_its_documented_contract(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    attacked_base: str,
) -> None:
    """Requests made from the operation's declared parameters and bodies (positive) and from
    mutations that break them (negative). One test per operation and mode, each with its own
    id, so that a failure names the operation and the test can be sent to any worker."""

    # Derandomized: the same requests on every run, so that a failure here is never a fluke.
    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(case=operation.as_strategy(mode))
    def keeps_the_contract(
        case: schemathesis.Case[schemathesis.APIOperation[Any, Any, Any, Any]],
    ) -> None:
        # The timeout only guards against a hang: how long an answer takes on a loaded
        # machine is not part of the contract.
        response = case.call(base_url=attacked_base, timeout=HANG_GUARD_S)
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        assert response.status_code < 500 or response.status_code == 503, (
            f"{where}: server error\n{response.text[:500]}"
        )
        body = response.text if response.content and len(response.content) < 1_000_000 else ""
        for leak in LEAKS:
            assert leak not in body, f"{where}: the answer leaks {leak!r}\n{body[:500]}"
        case.validate_response(
            response,
            checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
        )

    keeps_the_contract()
