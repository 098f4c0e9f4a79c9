"""Citations in the review's style: parsed with their emphasis markers, stored as plain text, and
cut into pieces where a page emphasises the venue (or a whole work's title)."""

from __future__ import annotations

import pytest

from atrocity_kg.model.citations import Piece, emphasis_pieces, parse_citation, plain_citation

ARTICLE = 'Lee, A.; Kim, B.. "A title, with a comma," *Venue*, vol. 1'
CHAPTER = 'Koe, Ann. "A chapter" in Gee, Pat; Hill, Sam, ed. *The Book: Essays* Test Press, 2017.'
EDITED_BOOK = "Aguswandi; Large, Judith, ed. *Reconfiguring things* Test Press, 2008."
REPORT = ". *A report without authors*. , 2015."


def test_article() -> None:
    parsed = parse_citation(ARTICLE)
    assert parsed.creators == ["Lee, A.", "Kim, B."]
    assert parsed.title == "A title, with a comma"
    assert parsed.venue == "Venue"
    assert parsed.editors == []
    assert parse_citation("no style at all").title is None


def test_a_chapters_editors_are_not_its_creators() -> None:
    parsed = parse_citation(CHAPTER)
    assert parsed.creators == ["Koe, Ann"]
    assert parsed.editors == ["Gee, Pat", "Hill, Sam"]
    assert parsed.title == "A chapter"
    assert parsed.venue == "The Book: Essays"


def test_an_edited_book_has_editors_and_no_creator() -> None:
    parsed = parse_citation(EDITED_BOOK)
    assert parsed.creators == []
    assert parsed.editors == ["Aguswandi", "Large, Judith"]
    assert parsed.title == "Reconfiguring things"


@pytest.mark.parametrize(
    ("marked", "plain"),
    [
        (ARTICLE, 'Lee, A.; Kim, B. "A title, with a comma," Venue, vol. 1'),
        (REPORT, "A report without authors. 2015."),
        (EDITED_BOOK, "Aguswandi; Large, Judith, ed. Reconfiguring things Test Press, 2008."),
        ('Fortna, V.; Lotito,, N. "T," *J*', 'Fortna, V.; Lotito, N. "T," J'),
        (
            'Sawyer, K. "Role," **, vol. NA, no.  (2015), DOI: ',
            'Sawyer, K. "Role," vol. NA, no. (2015)',
        ),
        ('Nomikos, W. "Peace".Working paper, 2021.', 'Nomikos, W. "Peace". Working paper, 2021.'),
        ("  A.  *B*\u00a0 , C ", "A. B, C"),
        ('Beber B. "Bias*," *Venue*', 'Beber B. "Bias," Venue'),
    ],
)
def test_plain_text(marked: str, plain: str) -> None:
    assert plain_citation(marked) == plain


def test_plain_text_keeps_what_is_not_stray() -> None:
    kept = 'Roe, R. "What next? A reply...," U.S. Journal, vol. 2 (2019), 1-9, DOI: 10.1/x.y'
    assert plain_citation(kept) == kept


def emphasised(pieces: tuple[Piece, ...]) -> list[str]:
    return [piece.text for piece in pieces if piece.emphasis]


def test_the_venue_is_emphasised() -> None:
    text = plain_citation(ARTICLE)
    pieces = emphasis_pieces(text, "Venue", "A title, with a comma")
    assert "".join(piece.text for piece in pieces) == text
    assert emphasised(pieces) == ["Venue"]


def test_the_venue_after_the_title_when_the_title_holds_it_too() -> None:
    text = 'Doe, J. "Peace in Peace Studies," Peace Studies, vol. 1'
    pieces = emphasis_pieces(text, "peace studies", "Peace in Peace Studies")
    assert emphasised(pieces) == ["Peace Studies"]
    assert pieces[0].text == 'Doe, J. "Peace in Peace Studies," '


def test_a_book_or_report_title_is_emphasised_a_quoted_title_never() -> None:
    book = plain_citation(EDITED_BOOK)
    assert emphasised(emphasis_pieces(book, None, "Reconfiguring things")) == [
        "Reconfiguring things"
    ]
    article = 'Doe, J. "An article," vol. 1'
    assert emphasised(emphasis_pieces(article, None, "An article")) == []


def test_nothing_found_nothing_emphasised() -> None:
    text = "Doe, J. Something else entirely"
    assert emphasis_pieces(text, "Journal of Tests", "Keeping the peace") == (Piece(text),)
    assert emphasis_pieces(text, None, None) == (Piece(text),)


def test_the_venue_after_the_quote_closing_the_title() -> None:
    """An erratum's quoted title names the venue of the article it corrects."""
    text = 'Jones, B. "Erratum: A title (Some Journal (2017) 61:1)," Some Journal, vol. 63 (2017)'
    pieces = emphasis_pieces(text, "Some Journal", "A title")
    assert emphasised(pieces) == ["Some Journal"]
    assert pieces[0].text == 'Jones, B. "Erratum: A title (Some Journal (2017) 61:1)," '
