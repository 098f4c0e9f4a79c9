"""What every stage shares: the ontology's terms, the IRIs minted from natural keys, the media
types of the formats, and the review's citation style.

In: nothing but constants and natural keys (a tool's name, a study's number). Out: terms
(``namespaces``), IRIs (``iris``), formats and content negotiation (``negotiation``), citations
parsed and shown (``citations``). Nothing here reads a file or a store.
"""
