"""The HTTP routes, one router per concern, each included by the app factory (``web.create_app``).

In: requests, and the typed dependencies of ``web.dependencies`` (settings, the store being
served). Out: answers negotiated by ``model.negotiation``, pages rendered from ``views`` through
the one Jinja environment (``web.rendering``): the SPARQL protocol (``sparql``), the graph store
protocol (``graph_store``), linked data at /id/, /page/ and /data/ (``linked_data``), the home
page (``pages``), the query catalogue (``queries``), dumps and the dataset description
(``downloads``, ``dataset_page``), the review's slips (``quality``) and admin writes (``admin``).
"""
