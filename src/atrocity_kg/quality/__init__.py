"""The data-quality report on the review's own files: release folder -> quality annotations.

In: a folder laid out like ushmm/atrocity-prevention-data (every release present in it) and the
curated vocabularies. ``records`` reads the files' fact columns into an in-memory records graph
(a node per CSV record: its file, row and one property per column; never the prose columns).
``rules`` runs the SPARQL rules of ``rules/*.rq`` over it, one rule per kind of slip. Out:
``report`` turns what the rules find into W3C DQV quality annotations (``graph/quality``,
written to ``data/ushmm/quality.ttl`` by the import) and reads them back for the command and
the ``/quality`` page.
"""
