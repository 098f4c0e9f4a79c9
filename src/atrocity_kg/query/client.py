"""Remote SPARQL 1.1 endpoints for ``atrocity-kg query --endpoint``: the same queries against
another store, sent through SPARQLWrapper.

SPARQLWrapper is the client here on purpose: it is the SPARQL client researchers use from their
own Python (the README's "Pointing at a remote store" names it), so the command sends what their
scripts send (a POST, SPARQL JSON results) and running it checks that an endpoint answers that
client. Everything else of the project that speaks HTTP uses one stack, httpx: the server's
remote store (``remote.py``: streamed answers, a pool of connections) and ``push.py`` (uploads,
credentials, and its checks of the remote's graphs, through ``remote.py``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.error import URLError

from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from atrocity_kg.errors import QueryError
from atrocity_kg.query.results import Table, table_from_sparql_json


def remote_select(endpoint: str, text: str, timeout: float = 60.0) -> Table | bool:
    client = SPARQLWrapper(endpoint)
    client.setMethod(POST)
    client.setReturnFormat(JSON)
    client.setTimeout(int(timeout))
    client.setQuery(text)
    try:
        raw = client.query().response.read()
    except (SPARQLWrapperException, URLError, OSError) as error:
        raise QueryError(f"the endpoint {endpoint} refused the query: {error}") from None
    data: dict[str, Any] = json.loads(raw)
    if "boolean" in data:
        return bool(data["boolean"])
    return table_from_sparql_json(data)
