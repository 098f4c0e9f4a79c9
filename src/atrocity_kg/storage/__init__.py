"""Graphs -> stores: the embedded store written whole and swapped in, or a remote SPARQL store.

In: named graphs from ``graph``. Out: a build folder that a crash never leaves half written
(``store``, ``durable``, ``writelock``), a remote SPARQL 1.1 store read like the embedded one
(``remote``) and filled from it (``push``), and the only path from untrusted bytes to RDF
(``safeparse``). The admin writes, which run the graph stages again, are ``atrocity_kg.writes``,
beside the pipeline.
"""
