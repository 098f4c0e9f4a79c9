"""Reading a page as a person reads it: its tables (rows, cells, the words and links in each) and
the text of an element, parsed with the standard library's HTML parser, so that tests answer
questions from the page alone rather than from the app's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Cell:
    header: bool
    attrs: dict[str, str]
    text: str = ""
    links: list[str] = field(default_factory=list)

    @property
    def words(self) -> str:
        return " ".join(self.text.split())


@dataclass
class Row:
    attrs: dict[str, str]
    cells: list[Cell] = field(default_factory=list)
    in_head: bool = False


@dataclass
class Table:
    caption: str = ""
    rows: list[Row] = field(default_factory=list)

    @property
    def body(self) -> list[Row]:
        return [row for row in self.rows if not row.in_head]

    @property
    def columns(self) -> list[str]:
        head = [row for row in self.rows if row.in_head]
        return [cell.words for cell in head[-1].cells] if head else []


class _Tables(HTMLParser):
    """Every table of a page with an id (nested tables are not read)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, Table] = {}
        self.elements: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self._table: Table | None = None
        self._row: Row | None = None
        self._cell: Cell | None = None
        self._in_head = False
        self._in_caption = False
        self._texts: list[tuple[str, str, int]] = []
        """(id, tag, depth) of the elements whose text is being collected."""
        self._depth = 0
        self._text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source"):
            self._depth += 1
            if "id" in found:
                self._texts.append((found["id"], tag, self._depth))
                self._text[found["id"]] = []
        if tag == "a" and "id" in found:
            self.links[found["id"]] = found.get("href", "")
        if tag == "table" and "id" in found:
            self._table = self.tables[found["id"]] = Table()
        elif self._table is None:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr":
            self._row = Row(found, in_head=self._in_head)
            self._table.rows.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = Cell(tag == "th", found)
            self._row.cells.append(self._cell)
        elif tag == "a" and self._cell is not None:
            self._cell.links.append(found.get("href", ""))

    def handle_endtag(self, tag: str) -> None:
        if self._texts and self._texts[-1][1] == tag and self._texts[-1][2] == self._depth:
            ident = self._texts.pop()[0]
            self.elements[ident] = " ".join("".join(self._text.pop(ident)).split())
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source"):
            self._depth -= 1
        if tag == "table":
            self._table = self._row = self._cell = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data: str) -> None:
        for ident, _, _ in self._texts:
            self._text[ident].append(data)
        if self._table is not None and self._in_caption:
            self._table.caption += data
        elif self._cell is not None:
            self._cell.text += data


@dataclass
class Page:
    tables: dict[str, Table]
    elements: dict[str, str]
    """The text of every element with an id, its white space collapsed."""
    links: dict[str, str]
    """The target of every link with an id."""


def read_page(html: str) -> Page:
    parser = _Tables()
    parser.feed(html)
    parser.close()
    return Page(parser.tables, parser.elements, parser.links)
