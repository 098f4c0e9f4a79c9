"""The peer endpoint: rdflib-endpoint serving an N-Quads file, the default graph being the union of
its named graphs (as on our endpoint and on the Oxigraph server), for the benchmark.

Run: python bench/peer_rdflib.py FILE.nq PORT   (SPARQL at http://127.0.0.1:PORT/)
"""

from __future__ import annotations

import sys

import uvicorn
from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint


def main() -> None:
    path, port = sys.argv[1], int(sys.argv[2])
    dataset = Dataset(default_union=True)
    dataset.parse(path, format="nquads")
    app = SparqlEndpoint(graph=dataset, public_url=f"http://127.0.0.1:{port}/")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
