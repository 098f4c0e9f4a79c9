# Run before the rules: facts about the records that several rules need, derived once, so that
# each rule says its own check and the shared reading of the files is written in one place.
# They go to the records graph, under record-fact/ (iris.record_fact):
#   fact:nameKey    a Name as the rules compare names: lower case, single spaces
#   fact:factor     the factor a code-book or ratings row is about: its code; a ratings row with
#                   no code is the code book's factor of the same name, then of the same
#                   description (as the build reconciles it); otherwise the name itself
#   fact:reconciled how a ratings row with no code was matched: "name" or "description"
#   fact:first      true on the first code-book row of each factor, and on the first row of each
#                   study in a study file: the rows the importer keeps when a file repeats one
#   fact:book       from a code-book or ratings row to the first code-book row of its factor in
#                   the same release
# Oxigraph evaluates patterns about in the order written: each operation starts from the most
# selective one.
PREFIX akg: <https://w3id.org/atrocity-kg/ontology#>
PREFIX col: <https://w3id.org/atrocity-kg/id/column/>
PREFIX part: <https://w3id.org/atrocity-kg/id/column-part/>
PREFIX table: <https://w3id.org/atrocity-kg/id/table/>
PREFIX fact: <https://w3id.org/atrocity-kg/id/record-fact/>

INSERT { ?record fact:nameKey ?key }
WHERE {
  ?record col:Name ?name .
  BIND(LCASE(REPLACE(?name, "\\s+", " ")) AS ?key)
} ;

# Code-book rows of factors: the code, else the name.
INSERT { ?record fact:factor ?factor }
WHERE {
  ?record col:Type ?type ; col:Name ?name .
  FILTER(LCASE(?type) = "factor")
  OPTIONAL { ?record col:Dedoose%20name ?code }
  BIND(COALESCE(?code, ?name) AS ?factor)
} ;

INSERT { ?record fact:first true }
WHERE {
  {
    SELECT ?factor ?file (MIN(?row) AS ?first) WHERE {
      ?any fact:factor ?factor ; akg:sourceFile ?file ; akg:sourceRow ?row .
    }
    GROUP BY ?factor ?file
  }
  ?record fact:factor ?factor ; akg:sourceFile ?file ; akg:sourceRow ?first .
} ;

# Ratings rows naming a factor by its code.
INSERT { ?record fact:factor ?code }
WHERE {
  ?record col:Dedoose.name_factor ?code ; col:Name ?name .
} ;

# Ratings rows naming a factor with no code: the code book's factor of the same name.
INSERT { ?record fact:factor ?factor ; fact:reconciled "name" }
WHERE {
  ?record fact:nameKey ?key ; akg:inRelease ?release ; a table:factors .
  FILTER NOT EXISTS { ?record col:Dedoose.name_factor ?code }
  ?book fact:nameKey ?key ; akg:inRelease ?release ; fact:first true ; fact:factor ?factor ;
        a table:guide .
} ;

# ... else of the same description.
INSERT { ?record fact:factor ?factor ; fact:reconciled "description" }
WHERE {
  ?record part:Description.digest ?digest ; akg:inRelease ?release ; a table:factors .
  FILTER NOT EXISTS { ?record fact:factor ?any }
  FILTER NOT EXISTS { ?record col:Dedoose.name_factor ?code }
  ?book part:Description.digest ?digest ; akg:inRelease ?release ; fact:first true ;
        fact:factor ?factor ; a table:guide .
} ;

# ... else the factor is its name (a factor the code book does not list).
INSERT { ?record fact:factor ?name }
WHERE {
  ?record col:Name ?name ; a table:factors .
  FILTER NOT EXISTS { ?record fact:factor ?any }
} ;

INSERT { ?record fact:book ?book }
WHERE {
  ?record fact:factor ?factor ; akg:inRelease ?release .
  ?book fact:factor ?factor ; fact:first true ; akg:inRelease ?release ; a table:guide .
} ;

INSERT { ?record fact:first true }
WHERE {
  {
    SELECT ?study ?file (MIN(?row) AS ?first) WHERE {
      ?any col:Index.Number ?study ; akg:sourceFile ?file ; akg:sourceRow ?row .
    }
    GROUP BY ?study ?file
  }
  ?record col:Index.Number ?study ; akg:sourceFile ?file ; akg:sourceRow ?first .
}
