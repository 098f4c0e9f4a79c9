"""Contributions to the living review: files on disk -> the store, kept derived.

In: a curator's records (and bibliography), the current store, ``data/contributions/``. Out: the
contribution's folder, the draft release's graphs (``graph.draft``) swapped into the store with
the rest as a build is (``contributions``), and the impact preview: every rating the contribution
would move, before anything is written (``impact``). It sits above ``graph`` and ``storage``,
whose stages it runs again for a write, as ``writes.py`` does for an admin write.
"""
