"""Small pictures of the evidence: for each row of a tool's table of factors (or of a factor's
table of tools), the research level in each release as a bar, drawn by
``templates/evidence_chart.svg``.

One picture per table, at ``/chart/tool/{tool}.svg`` (or ``/chart/factor/{factor}.svg``): every
row's chart stacked, its name beside it, each chart an SVG ``<view>`` named after the row. A
page shows a row's chart as ``<img src="/chart/tool/peace-operations.svg#large-force">`` with
the levels in words as ``alt``: the browser fetches and caches the picture once for the whole
table (a tool has some 80 rows: one request each would cost 80 requests of the client's rate
limit and would weigh on the page), and the page stays light.

In: the levels of each row, oldest release first. Out: the URL and text alternative of a row's
chart for the page, and the picture's geometry for the template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from atrocity_kg.web.views.terms import ID_BASE

CHART_URL = "/chart/{kind}/{key}.svg"
KINDS = ("tool", "factor")
LEVELS = ("relatively-weak", "moderate", "relatively-strong")
"""The levels a bar can show, lowest first: its height is one step per level."""
# Fill per level, darker for stronger evidence (the comparison matrix's greens).
SHADES = {"relatively-strong": "#1b7a3a", "moderate": "#5fae74", "relatively-weak": "#b9dcc1"}
NONE_SHADE = "#6b7278"
NO_RATING = "no rating"
STEP, BAR_WIDTH, SLOT, PAD, LABEL_ROOM = 6, 12, 16, 3, 10
NAME_WIDTH, NAME_CHARACTERS = 330, 52
CHART_HEIGHT = PAD + STEP * len(LEVELS) + LABEL_ROOM + 1
"""Every chart is this high (32 px); its width grows with the releases: ``chart_width``."""


class Rated(Protocol):
    """A rating as a table's cell holds it (``sections.EvidenceCell``)."""

    @property
    def level_key(self) -> str: ...
    @property
    def level(self) -> str: ...


@dataclass(frozen=True)
class ChartLink:
    """What a page needs to show a row's chart: its URL (the picture and the row's view) and
    its text alternative."""

    src: str
    alt: str


@dataclass(frozen=True)
class Level:
    """One release's research level (``key`` None: no rating in that release)."""

    code: str
    key: str | None
    text: str


@dataclass(frozen=True)
class Bar:
    code: str
    text: str
    x: int
    y: int
    height: int
    fill: str
    label_x: int


@dataclass(frozen=True)
class ChartRow:
    """One row's chart: its view (``ident``, the URL's fragment), name and bars, at ``top``."""

    ident: str
    name: str
    short: str
    words: str
    top: int
    baseline: int
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class Sheet:
    """A table's charts, one under the other, each name to the left of its chart."""

    title: str
    width: int
    height: int
    chart_x: int
    chart_width: int
    rows: tuple[ChartRow, ...]
    chart_height: int = CHART_HEIGHT
    bar_width: int = BAR_WIDTH


def levels_of(codes: Sequence[str], cells: Sequence[Rated | None]) -> list[Level]:
    """The levels of a row's cells, one per release code (None: no rating)."""
    return [
        Level(code, cell.level_key if cell else None, cell.level if cell else "")
        for code, cell in zip(codes, cells, strict=True)
    ]


def key_of(iri: str, kind: str) -> str | None:
    """The key of a tool's or factor's IRI (``large-force``), None for any other IRI."""
    prefix = ID_BASE + kind + "/"
    key = iri[len(prefix) :] if iri.startswith(prefix) else ""
    return key if key and "/" not in key else None


def ident(key: str) -> str:
    """A row's view name, an XML name made from its key (a key may begin with a digit)."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-._") else "_" for c in key)
    return safe if safe[:1].isalpha() else "r" + safe


def link(kind: str, table_iri: str, row_iri: str, levels: Sequence[Level]) -> ChartLink | None:
    """The row's chart on the picture of ``table_iri``'s table (a ``kind``: tool or factor)."""
    row_kind = "factor" if kind == "tool" else "tool"
    key, row_key = key_of(table_iri, kind), key_of(row_iri, row_kind)
    if key is None or row_key is None:
        return None
    src = CHART_URL.format(kind=kind, key=quote(key, safe="-._~"))
    return ChartLink(f"{src}#{ident(row_key)}", words(levels))


def words(levels: Sequence[Level]) -> str:
    """The levels in words, releases with the same level run together:
    'V1 relatively weak, V2–V3 moderate'."""
    runs: list[tuple[str, str, str]] = []
    for level in levels:
        text = level.text if level.key else NO_RATING
        if runs and runs[-1][2] == text:
            runs[-1] = (runs[-1][0], level.code, text)
        else:
            runs.append((level.code, level.code, text))
    return ", ".join(
        f"{first}{'' if first == last else '–' + last} {text}" for first, last, text in runs
    )


def chart_width(releases: int) -> int:
    return PAD * 2 + SLOT * max(releases, 1) - (SLOT - BAR_WIDTH)


def _bars(levels: Sequence[Level], x0: int, baseline: int) -> tuple[Bar, ...]:
    """One bar per release, one step high per level (no rating: a flat mark on the line)."""
    bars = []
    for n, level in enumerate(levels):
        x = x0 + PAD + n * SLOT
        steps = LEVELS.index(level.key) + 1 if level.key in LEVELS else 0
        height = steps * STEP if steps else 1
        bars.append(
            Bar(
                level.code,
                level.text if level.key else NO_RATING,
                x,
                baseline - height,
                height,
                SHADES.get(level.key or "", NONE_SHADE),
                x + BAR_WIDTH // 2,
            )
        )
    return tuple(bars)


def sheet(title: str, rows: Sequence[tuple[str, str, Sequence[Level]]]) -> Sheet:
    """The picture of a table: ``rows`` as (row IRI's key, name, levels), in the table's order."""
    releases = max((len(levels) for _, _, levels in rows), default=0)
    width = chart_width(releases)
    drawn = []
    for n, (key, name, levels) in enumerate(rows):
        top = n * CHART_HEIGHT
        baseline = top + PAD + STEP * len(LEVELS)
        short = name if len(name) <= NAME_CHARACTERS else name[: NAME_CHARACTERS - 1] + "…"
        drawn.append(
            ChartRow(
                ident(key),
                name,
                short,
                words(levels),
                top,
                baseline,
                _bars(levels, NAME_WIDTH, baseline),
            )
        )
    height = max(len(drawn), 1) * CHART_HEIGHT
    return Sheet(title, NAME_WIDTH + width, height, NAME_WIDTH, width, tuple(drawn))
