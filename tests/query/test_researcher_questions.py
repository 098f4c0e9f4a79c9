"""Questions written the way a researcher writes them after reading the README and
docs/querying.md: no DISTINCT to undo duplicates, no GRAPH, labels joined in, the latest release
asked for without naming it.
Each answer is computed here from the USHMM CSV files with the csv module (skipped without
../shared), and each question is asked of the embedded store, of a real Oxigraph server whose
default graph is the union of its named graphs, and of one asked for the union through the
protocol (default-graph-uri), as the app's remote mode does.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import yaml

from atrocity_kg.config import Settings
from atrocity_kg.model.namespaces import sparql_prologue
from atrocity_kg.storage import push, store
from atrocity_kg.storage.remote import RemoteStore
from release_csv import LEVEL_LABELS, OUTCOME_LABELS, RELEASE_FOLDERS, finding_key, release_rows

pytestmark = pytest.mark.shared

Rows = list[dict[str, str]]
Answer = list[tuple[str, ...]]


@dataclass(frozen=True)
class Review:
    """The release files as the csv module reads them, and the tools' names and slugs."""

    sources: dict[str, Rows]
    factors: dict[str, Rows]
    guides: dict[str, Rows]
    tool_names: dict[str, str]
    tool_slugs: dict[str, str]

    def findings(self, code: str, tool_slug: str) -> set[tuple[str, ...]]:
        """The distinct findings (identical records counted once, as the review does)."""
        return {
            finding_key(row)
            for row in self.sources[code]
            if self.tool_slugs[row["Tool"]] == tool_slug
        }

    def studies(self, code: str) -> dict[str, dict[str, str]]:
        """Each study of a release with its first row."""
        first: dict[str, dict[str, str]] = {}
        for row in self.sources[code]:
            first.setdefault(row["Index.Number"], row)
        return first


def _read(path: Path) -> Rows:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def review(shared_release: Path, shared_facts: Path) -> Review:
    tools = yaml.safe_load(shared_facts.read_text(encoding="utf-8"))["tools"]
    factors, guides = {}, {}
    for code, folder in RELEASE_FOLDERS.items():
        number = code[1]
        factors[code] = _read(shared_release / "data" / folder / f"all_factors_{number}.csv")
        guides[code] = _read(shared_release / "auxiliary" / folder / f"analytic_guide_{number}.csv")
    return Review(
        sources={code: release_rows(shared_release, code) for code in RELEASE_FOLDERS},
        factors=factors,
        guides=guides,
        tool_names={t["dedoose_code"]: t["name"] for t in tools},
        tool_slugs={t["dedoose_code"]: t["slug"] for t in tools},
    )


def _text(value: str | None) -> str | None:
    return None if value is None or value.strip() in {"", "NA"} else value.strip()


@dataclass(frozen=True)
class Question:
    name: str
    sparql: str
    expected: Callable[[Review], Answer]
    ordered: bool = False


def _one(value: object) -> Answer:
    return [(str(value),)]


LATEST = "?release a akg:LatestRelease ."
EMPIRICAL_LABELS = {
    "One case study": "single case study",
    "Comparison of greater than one case": "comparison of more than one case",
    "Unclear": "unclear",
}


def _strong_per_tool(review: Review) -> Answer:
    rated: dict[str, set[str]] = defaultdict(set)
    for row in review.factors["V3"]:
        factor = _text(row["Dedoose.name_factor"]) or _text(row["Name"])
        if _text(row["count"]) is None or factor is None:
            continue
        if row["research_qualitative"] == "Stronger":
            rated[review.tool_names[row["Dedoose.name_tool"]]].add(factor)
    return [(tool, str(len(factors))) for tool, factors in rated.items()]


def _practitioner_views(review: Review) -> Answer:
    keys = {
        _text(row["Dedoose.name_factor"]) or row["Name"]
        for row in review.factors["V3"]
        if row["Dedoose.name_tool"] == "Peace operations_tool"
        and _text(row["number_practitioners"]) is not None
    }
    return _one(len(keys))


def stated_strategies(review: Review) -> Answer:
    stated: set[str] = set()
    for rows in review.factors.values():
        for row in rows:
            if row.get("Dedoose.name_tool", row.get("Tool")) == "Targeted sanctions_tool":
                for column in ("dissuade", "degrade", "protect", "transition"):
                    if _text(row.get(column)) in {"1", "Yes", "yes", "TRUE", "True"}:
                        stated.add(column)
    return [(strategy,) for strategy in stated]


def _level_of_a_rating(review: Review) -> tuple[str, str]:
    """A mediation factor rated in V3 whose V3 name no other factor has, and its level."""
    names = Counter(_text(r["Name"]) for r in review.guides["V3"]) + Counter(
        _text(r["Inverse factor"]) for r in review.guides["V3"]
    )
    for row in review.factors["V3"]:
        if (
            row["Dedoose.name_tool"] == "Mediation_tool"
            and _text(row["count"]) is not None
            and names[_text(row["Name"])] == 1
            and row["inversion_with_neg_strength"] in {"0", "FALSE", "False", ""}
        ):
            return row["Name"], LEVEL_LABELS[row["research_qualitative"]]
    raise AssertionError("no uniquely named mediation factor")


QUESTIONS = [
    Question(
        "studies in V3",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a akg:Study ; akg:inRelease release:v3 }",
        lambda r: _one(len(r.studies("V3"))),
    ),
    Question(
        "studies in the latest release, not named",
        f"SELECT (COUNT(*) AS ?n) WHERE {{ {LATEST} ?s a akg:Study ; akg:inRelease ?release }}",
        lambda r: _one(len(r.studies("V3"))),
    ),
    Question(
        "studies in any release",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a akg:Study }",
        lambda r: _one(len({row["Index.Number"] for rows in r.sources.values() for row in rows})),
    ),
    Question(
        "a factor's labels",
        "SELECT (COUNT(*) AS ?n) WHERE { factor:commitment skos:prefLabel ?label }",
        lambda r: _one(1),
    ),
    Question(
        "one tool's findings as a table, labels in OPTIONALs",
        f"""SELECT ?finding ?index ?factorLabel ?outcomeLabel ?directionLabel WHERE {{
          {LATEST}
          ?finding akg:aboutTool tool:targeted-sanctions ; akg:inRelease ?release ;
                   akg:reportedIn ?study .
          ?study akg:indexNumber ?index .
          OPTIONAL {{ ?finding akg:aboutFactor ?factor . ?factor skos:prefLabel ?factorLabel }}
          OPTIONAL {{ ?finding akg:outcome ?outcome . ?outcome skos:prefLabel ?outcomeLabel }}
          OPTIONAL {{ ?finding akg:direction ?d . ?d skos:prefLabel ?directionLabel }}
        }}""",
        lambda r: [("row",)] * len(r.findings("V3", "targeted-sanctions")),
    ),
    Question(
        "relatively strong published ratings per tool, labels joined",
        f"""SELECT ?toolLabel (COUNT(*) AS ?n) WHERE {{
          {LATEST}
          ?rating a akg:ResearchAssessment ; akg:inRelease ?release ; akg:aboutTool ?tool ;
                  akg:evidenceLevel ?level .
          ?level skos:prefLabel "relatively strong"@en .
          ?tool skos:prefLabel ?toolLabel .
        }} GROUP BY ?toolLabel""",
        _strong_per_tool,
    ),
    Question(
        "tools with a relatively strong published rating",
        f"""SELECT (COUNT(*) AS ?n) WHERE {{
          ?tool a akg:ReviewedTool .
          FILTER EXISTS {{
            {LATEST}
            ?rating a akg:ResearchAssessment ; akg:inRelease ?release ; akg:aboutTool ?tool ;
                    akg:evidenceLevel/skos:prefLabel "relatively strong"@en .
          }}
        }}""",
        lambda r: _one(len(_strong_per_tool(r))),
    ),
    Question(
        "V3 studies published in 2019",
        """SELECT (COUNT(*) AS ?n) WHERE {
          ?s a akg:Study ; akg:inRelease release:v3 ; dct:issued ?year .
          FILTER(STR(?year) = "2019")
        }""",
        lambda r: _one(sum(1 for row in r.studies("V3").values() if row["Year"] == "2019")),
    ),
    Question(
        "a study's year",
        "SELECT ?year WHERE { study:peace-ops-011 dct:issued ?year }",
        lambda r: [(r.studies("V3")["Peace Ops.011"]["Year"],)],
    ),
    Question(
        "factors the code books have coded",
        "SELECT (COUNT(*) AS ?n) WHERE { ?factor a akg:SuccessFactor ; akg:dedooseCode ?code }",
        lambda r: _one(
            len(
                {
                    code
                    for rows in r.guides.values()
                    for row in rows
                    if (row["Type"] or "").lower() == "factor"
                    and (code := _text(row["Dedoose name"])) is not None
                }
                | {
                    code
                    for rows in r.factors.values()
                    for row in rows
                    if _text(row["Name"]) is not None
                    and (code := _text(row["Dedoose.name_factor"])) is not None
                }
            )
        ),
    ),
    Question(
        "mass-atrocity findings on mediation in V3",
        """SELECT (COUNT(*) AS ?n) WHERE {
          ?f akg:aboutTool tool:mediation ; akg:inRelease release:v3 ;
             akg:outcome outcome:mass-atrocities .
        }""",
        lambda r: _one(sum(1 for k in r.findings("V3", "mediation") if k[3] == "Mass atrocities")),
    ),
    Question(
        "peace operations' findings by outcome, latest release",
        f"""SELECT ?outcomeLabel (COUNT(*) AS ?n) WHERE {{
          {LATEST}
          ?f akg:aboutTool tool:peace-operations ; akg:inRelease ?release ;
             akg:outcome ?outcome .
          ?outcome skos:prefLabel ?outcomeLabel .
        }} GROUP BY ?outcomeLabel""",
        lambda r: [
            (OUTCOME_LABELS[outcome], str(n))
            for outcome, n in Counter(k[3] for k in r.findings("V3", "peace-operations")).items()
        ],
    ),
    Question(
        "V2 studies on mediation",
        """SELECT (COUNT(*) AS ?n) WHERE {
          ?s a akg:Study ; akg:inRelease release:v2 .
          FILTER EXISTS { ?f akg:reportedIn ?s ; akg:aboutTool tool:mediation ;
                             akg:inRelease release:v2 }
        }""",
        lambda r: _one(len({k[0] for k in r.findings("V2", "mediation")})),
    ),
    Question(
        "the factor a name names",
        'SELECT ?code WHERE { ?f skos:prefLabel "Committed implementer"@en ; '
        "akg:dedooseCode ?code }",
        lambda r: [
            (row["Dedoose name"],)
            for row in r.guides["V3"]
            if row["Name"] == "Committed implementer" and (row["Type"] or "").lower() == "factor"
        ],
    ),
    Question(
        "the factors called poorly-informed implementer",
        """SELECT ?label WHERE {
          ?f skos:prefLabel ?label . FILTER(STRSTARTS(STR(?label), "Poorly-informed implementer"))
        }""",
        lambda r: [
            ("one",)
            for row in r.guides["V3"]
            if row["Inverse factor"] == "Poorly-informed implementer"
        ],
    ),
    Question(
        "a published rating's level, through the factor's name",
        "",
        lambda r: [(_level_of_a_rating(r)[1],)],
    ),
    Question(
        "practitioners' views on peace operations, latest release",
        f"""SELECT (COUNT(*) AS ?n) WHERE {{
          {LATEST}
          ?view a akg:PractitionerAssessment ; akg:aboutTool tool:peace-operations ;
                akg:inRelease ?release .
        }}""",
        _practitioner_views,
    ),
    Question(
        "V3 studies by empirical basis, labels joined",
        """SELECT ?basisLabel (COUNT(*) AS ?n) WHERE {
          ?s a akg:Study ; akg:inRelease release:v3 ; akg:empiricalBasis ?basis .
          ?basis skos:prefLabel ?basisLabel .
        } GROUP BY ?basisLabel""",
        lambda r: [
            (EMPIRICAL_LABELS[basis], str(n))
            for basis, n in Counter(row["Empirical"] for row in r.studies("V3").values()).items()
        ],
    ),
    Question(
        "the strategies the review states for targeted sanctions",
        "SELECT ?key WHERE { tool:targeted-sanctions akg:statedToSupport ?s . "
        'BIND(STRAFTER(STR(?s), "/strategy/") AS ?key) }',
        stated_strategies,
    ),
    Question(
        "studies new in V3",
        """SELECT (COUNT(*) AS ?n) WHERE {
          ?s a akg:Study ; akg:inRelease release:v3 .
          FILTER NOT EXISTS { ?s akg:inRelease release:v2 }
        }""",
        lambda r: _one(len(set(r.studies("V3")) - set(r.studies("V2")))),
    ),
    Question(
        "tools whose commitment findings the latest release has",
        f"""SELECT (COUNT(*) AS ?n) WHERE {{
          ?tool a akg:ReviewedTool .
          FILTER EXISTS {{
            {LATEST}
            ?f akg:aboutTool ?tool ; akg:aboutFactor factor:commitment ;
               akg:inRelease ?release .
          }}
        }}""",
        lambda r: _one(len({row["Tool"] for row in r.sources["V3"] if row["CD"] == "Commitment"})),
    ),
    Question(
        "factor findings of the latest release, by kind of factor",
        f"""SELECT ?kind (COUNT(*) AS ?n) WHERE {{
          {LATEST}
          ?f a akg:FactorFinding ; akg:inRelease ?release ; akg:aboutFactor ?factor .
          ?factor a ?kind . FILTER(?kind IN (akg:ContextualFactor, akg:DesignFactor))
        }} GROUP BY ?kind""",
        lambda r: _kinds_of_findings(r),
    ),
]


def _kinds_of_findings(review: Review) -> Answer:
    kind = {
        row["Dedoose name"]: (row["Contextual or design factor"] or "").lower()
        for row in review.guides["V3"]
        if (row["Type"] or "").lower() == "factor"
    }
    findings = {
        finding_key(row)
        for row in review.sources["V3"]
        if row.get("effects_type", "Contextual or design") == "Contextual or design"
    }
    counted = Counter(kind[k[2]] for k in findings)
    iri = {
        "contextual": "https://w3id.org/atrocity-kg/ontology#ContextualFactor",
        "design": "https://w3id.org/atrocity-kg/ontology#DesignFactor",
    }
    return [(iri[k], str(n)) for k, n in counted.items()]


def _level_question(review: Review) -> str:
    name, _ = _level_of_a_rating(review)
    label = ox.Literal(name, language="en")
    return f"""SELECT ?level WHERE {{
      ?rating a akg:ResearchAssessment ; akg:inRelease release:v3 ;
              akg:aboutTool tool:mediation ; akg:aboutFactor ?factor .
      ?factor skos:prefLabel {label} .
      ?rating akg:evidenceLevel ?levelTerm . ?levelTerm skos:prefLabel ?level .
    }}"""


Ask = Callable[[str], Answer]
KINDS = ("release", "tool", "factor", "outcome", "study")
PROLOGUE = sparql_prologue() + "".join(
    f"PREFIX {kind}: <https://w3id.org/atrocity-kg/id/{kind}/>\n" for kind in KINDS
)
"""The project's prefixes, and those a researcher declares for the things they name."""


def _answer(result: Any) -> Answer:
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return [
        tuple(solution[name].value if solution[name] is not None else "" for name in names)
        for solution in result
    ]


@pytest.fixture(scope="module")
def embedded(built: Settings) -> Iterator[Ask]:
    with store.opened(built.store_root) as opened:
        yield lambda text: _answer(store.run_query(opened, text))


@pytest.fixture(scope="module")
def native_union(built: Settings) -> Iterator[Ask]:
    from server import oxigraph_server

    with oxigraph_server(union_default_graph=True) as url:
        push.push_store(built.store_root, push.Target(f"{url}/query"))
        remote = RemoteStore(f"{url}/query", union="native")
        yield lambda text: _answer(remote.query(text, use_default_graph_as_union=True))


@pytest.fixture(scope="module")
def protocol_union(remote_endpoint: str) -> Ask:
    remote = RemoteStore(remote_endpoint, union="protocol")
    return lambda text: _answer(remote.query(text, use_default_graph_as_union=True))


ANSWERERS = (
    "embedded",
    pytest.param("native_union", marks=pytest.mark.slow),
    pytest.param("protocol_union", marks=pytest.mark.slow),
)


@pytest.fixture(scope="module", params=ANSWERERS)
def ask(request: pytest.FixtureRequest) -> Ask:
    answerer: Ask = request.getfixturevalue(request.param)
    return answerer


@pytest.mark.parametrize("question", QUESTIONS, ids=[q.name for q in QUESTIONS])
def test_a_question_asked_the_obvious_way_gets_the_csv_files_answer(
    question: Question, ask: Ask, review: Review
) -> None:
    text = question.sparql or _level_question(review)
    expected = question.expected(review)
    found = ask(PROLOGUE + text)
    if expected and expected[0] in {("row",), ("one",)}:
        assert len(found) == len(expected), found[:10]
        assert len(set(found)) == len(found), "the same row twice"
        return
    assert sorted(found) == sorted(expected)


PATTERNS = [
    "?s ?p ?o",
    "?s skos:prefLabel ?label",
    "?s a ?type",
    "?study dct:title ?title",
    "?factor akg:dedooseCode ?code",
    "?tool akg:statedToSupport ?strategy",
    "?study akg:usesMethod ?method",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_count_over_the_default_graph_needs_no_distinct(pattern: str, ask: Ask) -> None:
    counted = ask(f"{sparql_prologue()}SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")
    distinct = ask(
        f"{sparql_prologue()}SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT * WHERE "
        f"{{ {pattern} }} }}"
    )
    assert counted == distinct
    assert int(counted[0][0]) > 0
