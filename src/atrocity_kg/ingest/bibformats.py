"""A bibliography in BibTeX or RIS -> the rows of the review's Zotero layout (``zotero.COLUMNS``),
so that a contribution's bibliography is checked by the one reader (``zotero.read_bibliography``)
whatever its format. Row N is the file's N-th entry; the documents an entry describes are named
as Zotero's Extra field names them (``documentName: Mediation.2026.1``), in a BibTeX ``note``,
``annote`` or ``extra`` field, or a RIS ``N1``, ``M1`` or ``AN`` line.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from atrocity_kg.errors import ReleaseFormatError, SourceLocation
from atrocity_kg.ingest.csvfiles import decode
from atrocity_kg.ingest.zotero import COLUMNS

FORMATS = (".bib", ".ris")
_YEAR = re.compile(r"\b(\d{4})\b")
_RIS_LINE = re.compile(r"^([A-Z][A-Z0-9])  - ?(.*)$")


def is_converted(name: str) -> bool:
    """Whether a bibliography file is read through this module (by its extension)."""
    return Path(name).suffix.lower() in FORMATS


def as_zotero_csv(path: Path, shown: str) -> bytes:
    """The file (``shown`` in errors) as a CSV in the Zotero layout."""
    text = decode(path, shown)
    rows = _bibtex(text, shown) if path.suffix.lower() == ".bib" else _ris(text, shown)
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return output.getvalue().encode("utf-8")


def _row(
    key: str,
    year: str,
    authors: list[str],
    editors: list[str],
    title: str,
    venue: str,
    doi: str,
    extra: list[str],
) -> dict[str, str]:
    found = _YEAR.search(year)
    return {
        "Key": key,
        "Publication Year": found.group(1) if found else "",
        "Author": "; ".join(authors),
        "Editor": "; ".join(editors),
        "Title": title,
        "Publication Title": venue,
        "DOI": doi,
        "Extra": "\n".join(extra),
    }


def _ris(text: str, shown: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    entry: dict[str, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _RIS_LINE.match(line.rstrip())
        if match is None:
            raise ReleaseFormatError(
                SourceLocation(shown, line=number), "not a RIS line ('XX  - value')"
            )
        tag, value = match.group(1), match.group(2).strip()
        if tag == "TY":
            entry = {}
            continue
        if entry is None:
            raise ReleaseFormatError(
                SourceLocation(shown, line=number), "a RIS entry starts with a TY line"
            )
        if tag == "ER":
            rows.append(_ris_row(entry, len(rows) + 1))
            entry = None
            continue
        entry.setdefault(tag, []).append(value)
    if entry is not None:
        raise ReleaseFormatError(SourceLocation(shown), "the last RIS entry has no ER line")
    return rows


def _ris_row(entry: dict[str, list[str]], number: int) -> dict[str, str]:
    def first(*tags: str) -> str:
        return next((entry[tag][0] for tag in tags if entry.get(tag)), "")

    def every(*tags: str) -> list[str]:
        return [value for tag in tags for value in entry.get(tag, [])]

    return _row(
        first("ID") or f"RIS{number}",
        first("PY", "Y1", "DA"),
        every("AU", "A1"),
        every("A2", "ED"),
        first("TI", "T1"),
        first("T2", "JO", "JF", "BT"),
        first("DO"),
        every("N1", "M1", "AN"),
    )


def _bibtex(text: str, shown: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    position = 0
    while (start := text.find("@", position)) >= 0:
        brace = text.find("{", start)
        if brace < 0:
            raise ReleaseFormatError(SourceLocation(shown, len(rows) + 1), "an entry without '{'")
        kind = text[start + 1 : brace].strip().lower()
        end = _closing(text, brace, shown, len(rows) + 1)
        position = end + 1
        if kind in {"comment", "preamble", "string"}:
            continue
        body = text[brace + 1 : end]
        key, _, rest = body.partition(",")
        fields = _fields(rest, shown, len(rows) + 1)

        def names(field: str, found: dict[str, str] = fields) -> list[str]:
            return [n.strip() for n in re.split(r"\s+and\s+", found.get(field, "")) if n.strip()]

        rows.append(
            _row(
                key.strip(),
                fields.get("year") or fields.get("date", ""),
                names("author"),
                names("editor"),
                fields.get("title", ""),
                fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle", ""),
                fields.get("doi", ""),
                [fields[f] for f in ("note", "annote", "extra") if fields.get(f)],
            )
        )
    return rows


def _closing(text: str, brace: int, shown: str, number: int) -> int:
    depth = 0
    for index in range(brace, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise ReleaseFormatError(SourceLocation(shown, number), "an entry's braces are not closed")


def _fields(body: str, shown: str, number: int) -> dict[str, str]:
    """``name = {value}``, ``name = "value"`` or ``name = 2024``, separated by commas."""
    fields: dict[str, str] = {}
    index = 0
    while index < len(body):
        equals = body.find("=", index)
        if equals < 0:
            break
        name = body[index:equals].strip().strip(",").strip().lower()
        value_start = equals + 1
        while value_start < len(body) and body[value_start].isspace():
            value_start += 1
        if value_start >= len(body):
            break
        opener = body[value_start]
        if opener == "{":
            close = _closing(body, value_start, shown, number)
            value, index = body[value_start + 1 : close], close + 1
        elif opener == '"':
            close = body.find('"', value_start + 1)
            if close < 0:
                raise ReleaseFormatError(
                    SourceLocation(shown, number, name), "a quoted value is not closed"
                )
            value, index = body[value_start + 1 : close], close + 1
        else:
            comma = body.find(",", value_start)
            comma = len(body) if comma < 0 else comma
            value, index = body[value_start:comma], comma
        fields[name] = " ".join(value.replace("{", "").replace("}", "").split())
        comma = body.find(",", index)
        index = len(body) if comma < 0 else comma + 1
    return fields
