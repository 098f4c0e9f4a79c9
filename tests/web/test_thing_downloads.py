"""Everything about one tool or factor as files (/download/...): the findings as CSV, the studies
as BibTeX and RIS, over real HTTP on the embedded and a remote store; and the page's links.

The expected findings and studies are counted here from the release files with the csv module
(tests/release_csv.py), never taken from the app's queries.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest

from atrocity_kg.model import iris
from atrocity_kg.publish.bibliography import (
    Reference,
    bibtex_escape,
    ordered_names,
    to_bibtex,
    to_ris,
)
from release_csv import RELEASE_FOLDERS, finding_key, release_rows

TOOL, TOOL_CODE = "arms-embargoes", "Arms embargoes_tool"
FACTOR, FACTOR_CODE = "commitment", "Commitment"


def expected_findings(shared: Path, keep: str, column: str) -> tuple[Counter[str], set[str]]:
    """Distinct findings per release (as the review counts them) and the studies' index
    numbers, of the rows whose ``column`` is ``keep``."""
    per_release: Counter[str] = Counter()
    studies: set[str] = set()
    for code in RELEASE_FOLDERS:
        rows = [r for r in release_rows(shared, code) if r.get(column) == keep]
        per_release[code] = len({finding_key(r) for r in rows})
        studies |= {r["Index.Number"] for r in rows}
    return +per_release, studies


def get_file(base: str, path: str, media_type: str, filename: str) -> str:
    response = httpx.get(f"{base}{path}")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    return response.text


@pytest.mark.parametrize(
    ("kind", "key", "column", "code"),
    [("tool", TOOL, "Tool", TOOL_CODE), ("factor", FACTOR, "CD", FACTOR_CODE)],
)
def test_findings_csv_equals_the_release_files(
    base: str, shared_release: Path, kind: str, key: str, column: str, code: str
) -> None:
    per_release, studies = expected_findings(shared_release, code, column)
    text = get_file(base, f"/download/{kind}/{key}.csv", "text/csv", f"{kind}-{key}-findings.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert Counter(row["release"] for row in rows) == per_release
    assert {row["study"] for row in rows} == studies
    assert {row["direction"] for row in rows} <= {
        "greater effectiveness",
        "lesser effectiveness",
        "no or mixed effect",
        "decreases",
        "increases",
    }
    if kind == "factor":
        assert {row["factor_iri"] for row in rows} == {str(iris.factor(code))}


def test_opposite_factor_has_the_factors_findings(base: str) -> None:
    """The page of a factor's opposite offers the findings the review codes under the factor."""
    factor = "biased-intervener-or-intervention"
    plain = httpx.get(f"{base}/download/factor/{factor}.csv").text
    opposite = httpx.get(f"{base}/download/factor/{factor}--opposite.csv").text
    assert plain.splitlines()[1:] == opposite.splitlines()[1:]
    assert len(plain.splitlines()) > 1


def test_bibliography_has_every_study(base: str, shared_release: Path) -> None:
    _, studies = expected_findings(shared_release, TOOL_CODE, "Tool")
    bib = get_file(base, f"/download/tool/{TOOL}.bib", "application/x-bibtex", f"tool-{TOOL}.bib")
    entries = re.findall(r"^@(\w+)\{([^,]+),$", bib, re.MULTILINE)
    assert len(entries) == len(studies)
    assert {t for t, _ in entries} <= {
        "article",
        "incollection",
        "techreport",
        "unpublished",
        "misc",
    }
    assert set(re.findall(r"keywords = \{USHMM review (.*)\}", bib)) == studies
    assert bib.count("{") == bib.count("}")  # every value closed: escaping held

    ris = get_file(
        base,
        f"/download/tool/{TOOL}.ris",
        "application/x-research-info-systems",
        f"tool-{TOOL}.ris",
    )
    lines = ris.split("\r\n")
    assert lines[-1] == ""
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines[:-1])
    assert sum(1 for line in lines if line.startswith("TY  - ")) == len(studies)
    assert sum(1 for line in lines if line.startswith("ER  - ")) == len(studies)
    assert {line[6:] for line in lines if line.startswith("ID  - ")} == studies


def test_unknown_or_wrong_kind_is_404(base: str) -> None:
    assert httpx.get(f"{base}/download/tool/nothing-here.csv").status_code == 404
    assert httpx.get(f"{base}/download/tool/{FACTOR}.bib").status_code == 404  # a factor
    assert httpx.get(f"{base}/download/study/x.csv").status_code in (404, 422)


def test_tool_and_factor_pages_link_their_downloads(base: str) -> None:
    for path in (f"tool/{TOOL}", f"factor/{FACTOR}"):
        html = httpx.get(f"{base}/page/{path}").text
        section = html.split('id="downloads"', 1)[1].split("</section>", 1)[0]
        for href in (
            f"/download/{path}.csv",
            f"/download/{path}.bib",
            f"/download/{path}.ris",
            f"/data/{path}.jsonld",
        ):
            assert f'href="{href}"' in section, href
            assert httpx.get(f"{base}{href}").status_code == 200, href
    study_page = httpx.get(f"{base}/page/release/v3").text
    assert 'id="downloads"' not in study_page


def test_bibtex_and_ris_writing() -> None:
    hostile = Reference(
        key="x",
        iri="https://w3id.org/atrocity-kg/id/study/x",
        kind="book-chapter",
        title="50% of {all} cases & more_\\end",
        venue="Line\nbreak",
        authors=("Roe, R.", "Doe, J."),
        citation="Doe, J.; Roe, R. A title.",
    )
    bib = to_bibtex([hostile])
    assert "title = {50\\% of \\{all\\} cases \\& more\\_\\textbackslash{}end}" in bib
    assert "booktitle = {Line break}" in bib
    assert bibtex_escape("a~b^c") == r"a\textasciitilde{}b\textasciicircum{}c"
    assert ordered_names(["Roe, R.", "Doe, J.", "Zed, Z."], hostile.citation) == (
        "Doe, J.",
        "Roe, R.",
        "Zed, Z.",
    )
    ris = to_ris([hostile])
    assert ris.startswith("TY  - CHAP\r\n")
    assert "T2  - Line break\r\n" in ris
    assert ris.endswith("ER  - \r\n")
