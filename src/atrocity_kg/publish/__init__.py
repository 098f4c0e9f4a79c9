"""The current store -> files for other people and databases.

In: a built store. Out: gzip dumps of each release and of the whole graph in four RDF formats
with a manifest (``export``), the review's own CSV layout, schema.org JSON-LD and a gap map
(``tables``), the ontology's human documentation (``ontology_docs``), and studies as BibTeX
and RIS for reference managers (``bibliography``).
"""
