"""The review's release files -> typed records.

In: a folder of USHMM CSV files and Zotero bibliographies, laid out as upstream. Out: records
(``ushmm.read_release``) with their file and row, the code book of upstream spellings read from
the curated vocabularies (``codebook``), the releases registry (``releases``), factors reconciled
to one key each across files and releases (``factors``), and the slips found on the way
(``quirks``); a curator's contribution read by the same rules (``contributions``, with
``bibformats`` for BibTeX and RIS). Bad input fails with the file, row and column at fault.
"""
