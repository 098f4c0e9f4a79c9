"""Studies as reference managers read them: BibTeX (BibLaTeX, JabRef, Zotero) and RIS (Zotero,
EndNote, Mendeley), written from the graph's bibliographic description of each study.

In: ``Reference`` records (plain values a view gathered by SPARQL). Out: text. Both formats are
written here, a few lines each, rather than by a dependency: what the graph knows of a study
(title, creators, editors, year, venue, DOI, the review's publication type) maps to a handful
of fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The review's publication types (id/publication-type/...) as each format's entry type.
BIBTEX_TYPES = {
    "peer-reviewed-journal-article": "article",
    "book-chapter": "incollection",
    "organizational-publication": "techreport",
    "unpublished-manuscript": "unpublished",
}
RIS_TYPES = {
    "peer-reviewed-journal-article": "JOUR",
    "book-chapter": "CHAP",
    "organizational-publication": "RPRT",
    "unpublished-manuscript": "UNPB",
}
# The field a study's venue goes in, per BibTeX entry type.
VENUE_FIELDS = {"article": "journal", "incollection": "booktitle", "techreport": "institution"}
BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


@dataclass(frozen=True)
class Reference:
    """One study: its key (the last part of its IRI), the review's index number and type."""

    key: str
    iri: str
    index: str = ""
    kind: str = ""
    """The review's publication type, by key (``book-chapter``)."""
    title: str = ""
    year: str = ""
    venue: str = ""
    doi: str = ""
    authors: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()
    citation: str = ""


def ordered_names(names: Iterable[str], citation: str) -> tuple[str, ...]:
    """Creators in the order the citation names them (the graph keeps them as a set); a name
    the citation does not contain goes last, by name."""

    def place(name: str) -> tuple[int, str]:
        family = name.split(",", 1)[0].strip()
        at = citation.find(family) if family else -1
        return (at if at >= 0 else len(citation) + 1, name)

    return tuple(sorted(set(names), key=place))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def bibtex_escape(text: str) -> str:
    """A value as BibTeX reads it literally: its special characters escaped, on one line."""
    return "".join(BIBTEX_SPECIALS.get(char, char) for char in _one_line(text))


def _verbatim(text: str) -> str:
    """A DOI or URL, which BibLaTeX reads verbatim: only braces could end the field."""
    return _one_line(text).replace("{", "").replace("}", "")


def bibtex_entry(reference: Reference) -> str:
    entry_type = BIBTEX_TYPES.get(reference.kind, "misc")
    fields: list[tuple[str, str]] = []
    if reference.authors:
        fields.append(("author", " and ".join(bibtex_escape(a) for a in reference.authors)))
    if reference.editors:
        fields.append(("editor", " and ".join(bibtex_escape(e) for e in reference.editors)))
    if reference.title:
        fields.append(("title", bibtex_escape(reference.title)))
    if reference.venue:
        fields.append(
            (VENUE_FIELDS.get(entry_type, "howpublished"), bibtex_escape(reference.venue))
        )
    if reference.year:
        fields.append(("year", bibtex_escape(reference.year)))
    if reference.doi:
        fields.append(("doi", _verbatim(reference.doi)))
    if entry_type == "unpublished":
        fields.append(("note", "Unpublished manuscript"))
    fields.append(("url", _verbatim(reference.iri)))
    if reference.index:
        fields.append(("keywords", bibtex_escape(f"USHMM review {reference.index}")))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{entry_type}{{{reference.key},\n{body}\n}}\n"


def to_bibtex(references: Sequence[Reference]) -> str:
    """The references as one BibTeX file (UTF-8), one entry each, in the order given."""
    return "\n".join(bibtex_entry(reference) for reference in references)


def ris_record(reference: Reference) -> list[tuple[str, str]]:
    lines = [("TY", RIS_TYPES.get(reference.kind, "GEN"))]
    lines += [("AU", author) for author in reference.authors]
    lines += [("ED", editor) for editor in reference.editors]
    if reference.title:
        lines.append(("TI", reference.title))
    if reference.venue:
        lines.append(("T2", reference.venue))
    if reference.year:
        lines.append(("PY", reference.year))
    if reference.doi:
        lines.append(("DO", reference.doi))
    lines.append(("UR", reference.iri))
    if reference.index:
        lines.append(("ID", reference.index))
        lines.append(("KW", f"USHMM review {reference.index}"))
    if reference.citation:
        lines.append(("N1", reference.citation))
    lines.append(("ER", ""))
    return lines


def to_ris(references: Sequence[Reference]) -> str:
    """The references as one RIS file: a tag, two spaces, a hyphen and a space, the value; one
    value per line (CRLF), each record ending with ER."""
    out = []
    for reference in references:
        for tag, value in ris_record(reference):
            out.append(f"{tag}  - {_one_line(value)}\r\n")
    return "".join(out)
