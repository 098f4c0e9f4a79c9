"""Stores -> answers: the query catalogue, the project's own SPARQL, and users' queries run
where they can be stopped.

In: a store (embedded or remote) and SPARQL text with bound values. Out: the ``queries/``
catalogue with typed parameters (``queries``), the project's internal ``.rq`` files run through
one typed helper (``sparql``), worker processes killed at the limit (``sandbox``) and what they
ask of the memory allocator (``allocator``), plain tables (``results``), remote endpoints for
``query --endpoint`` (``client``), and the check of every address a federated query may call
(``netguard``).
"""
