"""Citations in the review's style: parsed, stored as plain text, shown with their emphasis.

The release files write a citation as Markdown-like text, 'Doe, Jane; Roe, Richard. "Title,"
*Venue*, vol. 1 (2015)', and a chapter as '... "Title" in Editor, Ed, ed. *Book* Publisher'.
The asterisks carry meaning only while parsing (they delimit the venue, or the title of a whole
work), so the importer parses the marked text and the graph stores plain text: a literal with
asterisks in it would show them to every SPARQL user, and the pages put the emphasis back from
the structured description (the study's venue or title), which is where it comes from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# 'Creators. "Title," [in Editors, ed.] *Venue*' (articles, chapters).
_QUOTED_TITLE = re.compile(
    r'^(?P<creators>.*?)\.\s+["\u201c](?P<title>.+?),?["\u201d],?\s*'
    r"(?:in\s+(?P<editors>[^*\"\u201c\u201d]+?),\s*eds?\.\s*)?"
    r"(?:\*(?P<venue>[^*]+)\*)?"
)
# 'Creators. *Title*' (books, reports: the whole work's title is the emphasised part).
_ITALIC_TITLE = re.compile(r"^(?P<creators>.*?)\.\s+\*(?P<title>[^*]+)\*")
# 'Large, Judith, ed' at the end of the creators: they edited the work, they did not write it.
_EDITED = re.compile(r",\s*eds?\.?$")
_QUOTES = "\"\u201c\u201d'\u2018\u2019"

# Tidy-ups of the plain text, in order; each removes punctuation the review's template left
# where a field was empty or doubled (see plain_citation).
_TIDY = (
    (re.compile(r"\s+([,.;])(?=\s|$)"), r"\1"),  # 'Title* . Publisher' -> 'Title. Publisher'
    (re.compile(r"(?<!\.)\.\.(?!\.)"), "."),  # 'Jones, B.T.. "Title' -> 'Jones, B.T. "Title'
    (re.compile(r",{2,}"), ","),  # 'Lotito,, Nicholas' -> 'Lotito, Nicholas'
    (re.compile(r"\.,(?=\s)"), "."),  # '*Title*. , 2019' (no publisher) -> 'Title. 2019'
    (re.compile(r",([\"\u201d]),"), r",\1"),  # '"Title," **, vol.' (no venue) -> '"Title," vol.'
    (re.compile(r"([\"\u201d])\.(?=[^\W\d_])"), r"\1. "),  # '"Title".Working paper' -> '". W'
    (re.compile(r",?\s*DOI:$"), ""),  # '(2015), DOI:' (no DOI) -> '(2015)'
)
_LEADING = " \t.,;:"


@dataclass(frozen=True)
class ParsedCitation:
    creators: list[str]
    title: str | None
    venue: str | None
    editors: list[str]


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(";") if name.strip()]


def parse_citation(text: str) -> ParsedCitation:
    """Creators, title, venue and editors of a citation in the release's style, read from the
    text with its emphasis markers (the venue and a whole work's title are the marked parts).

    A citation that does not follow the style yields no title; the whole text is kept anyway.
    Names before ', ed.' are the editors of an edited book, not its creators.
    """
    match = _QUOTED_TITLE.match(text) or _ITALIC_TITLE.match(text)
    if match is None:
        return ParsedCitation([], None, None, [])
    found = match.groupdict()
    creators_text = found["creators"].strip()
    editors = _names(found.get("editors") or "")
    if _EDITED.search(creators_text):
        editors = _names(_EDITED.sub("", creators_text))
        creators_text = ""
    title = found["title"].strip().rstrip(",").strip()
    venue = found.get("venue")
    return ParsedCitation(
        _names(creators_text), title or None, venue.strip() if venue else None, editors
    )


def plain_citation(text: str) -> str:
    """The citation as plain text: no emphasis markers, one space between words, no punctuation
    left at the start (the review writes '. *Title*' where a report has no author) or where the
    template filled an empty field ('. , 2019', '**, vol.', a closing 'DOI:' with no DOI), no
    doubled full stop or comma, a space after a full stop that follows a quoted title."""
    plain = " ".join(text.replace("*", "").split())
    for pattern, replacement in _TIDY:
        plain = pattern.sub(replacement, plain)
    return plain.lstrip(_LEADING)


@dataclass(frozen=True)
class Piece:
    """A run of a citation's text, and whether a page shows it emphasised."""

    text: str
    emphasis: bool = False


def _find(citation: str, wanted: str | None, start: int = 0) -> tuple[int, int] | None:
    """Where ``wanted`` stands in the citation (same letters, any case, any spacing)."""
    if not wanted or not wanted.strip():
        return None
    words = [re.escape(word) for word in wanted.split()]
    match = re.compile(r"\s+".join(words), re.IGNORECASE).search(citation, start)
    return (match.start(), match.end()) if match else None


def emphasis_pieces(citation: str, venue: str | None, title: str | None) -> tuple[Piece, ...]:
    """The citation cut where its emphasis goes, found from the structured description: the
    venue (journal, or the book a chapter is in) after the title, else anywhere, else the title
    when the citation does not quote it (a book or report, whose own title is the emphasised
    part). Nothing found, nothing emphasised: the text is never changed, only cut."""
    title_at = _find(citation, title)
    after = 0
    if title_at is not None:
        # The venue follows the title, and the quote closing it: a quoted title may name
        # another work's venue ('Erratum: Title (Journal (2017) 61:1)').
        closing = [citation.find(q, title_at[1]) for q in _QUOTES[:3]]
        after = min([c + 1 for c in closing if c >= 0], default=title_at[1])
    span = _find(citation, venue, after) or _find(citation, venue)
    if span is None and title_at is not None:
        before = citation[: title_at[0]].rstrip()
        if not before.endswith(tuple(_QUOTES)):
            span = title_at
    if span is None:
        return (Piece(citation),)
    start, end = span
    pieces = (
        Piece(citation[:start]),
        Piece(citation[start:end], emphasis=True),
        Piece(citation[end:]),
    )
    return tuple(piece for piece in pieces if piece.text)
