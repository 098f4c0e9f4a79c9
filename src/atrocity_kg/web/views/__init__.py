"""What the pages show, as plain data for the templates: no HTTP and no markup here.

In: a store and a thing. Out: URLs and values as a page shows them (``terms``), the page about one
thing (``resource``), the section its kind adds (``sections``), and the evidence gap map
(``gap_map``).
"""
