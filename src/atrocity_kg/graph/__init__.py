"""Records -> the graphs the store holds, checked and reasoned over.

In: records from ``ingest``, and the ontology, shapes and curated data on disk (``graphs``). Out:
one asserted graph per release and the curated catalogue (``build``); the scores recomputed from
the findings (``evidence``); each statement once, in the graph of the releases that state it, and
one name per factor (``catalogue``); the SHACL report pointing back to file and row
(``validate``); the inferred graph and why (``reasoning``); the graphs of the draft release
that gathers the contributions (``draft``).
"""
