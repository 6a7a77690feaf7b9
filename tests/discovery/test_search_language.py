"""The query language (common.fulltext.SearchQuery): what a query means,
and the FTS5 expression it becomes — only ever quoted words."""

import pytest

from common.fulltext import SearchQuery


@pytest.mark.parametrize(
    "query, fts5",
    [
        ("vitamin k2", '(("vitamin") AND ("k2"))'),
        ('"vitamin k2" -warfarin', '(("vitamin k2")) NOT "warfarin"'),
        ('k2 -"vitamin k2" -mk4', '(("k2")) NOT "vitamin k2" NOT "mk4"'),
        ("bone or calcium", '(("bone" OR "calcium"))'),
        ("vitamin bone OR calcium or mk-7", '(("vitamin") AND ("bone" OR "calcium" OR "mk 7"))'),
        ("menaq* bones", '(("menaq"*) AND ("bones"))'),
        ("m* mk-7*", '(("m") AND ("mk 7"))'),  # one letter, or two words: no prefix
        ("the vitamin of bone", '(("vitamin") AND ("bone"))'),
        ('"vitamin k and bone"', '(("vitamin k and bone"))'),
        ("Menaquinone-7", '(("menaquinone 7"))'),
        ('NEAR("x" "b") title:bone AND', '(("near") AND ("x") AND ("b") AND ("title bone"))'),
        ("or bone or", '(("bone"))'),
    ],
)
def test_what_a_query_means(query, fts5):
    assert SearchQuery.parse(query).fts5() == fts5


@pytest.mark.parametrize("query", ["", "   ", "the and of", '"the"', "-warfarin", "or", "!!! ()", '""', "*", "-"])
def test_nothing_to_find(query):
    assert not SearchQuery.parse(query)


def test_the_words_of_a_query():
    parsed = SearchQuery.parse('Vitamin "K2 and bone" -warfarin menaq* vitamin')
    assert parsed.words == ["vitamin", "k2", "and", "bone", "menaq"]
    assert [term.text for term in parsed.excluded] == ["warfarin"]


def test_postgresql_reads_each_word_or_phrase_with_its_own_parser():
    sql, params = SearchQuery.parse('"vitamin k2" or menaq* -warfarin').tsquery()
    assert sql == (
        "(((phraseto_tsquery('english'::regconfig, %s) || to_tsquery('english'::regconfig, %s))) "
        "&& !!phraseto_tsquery('english'::regconfig, %s))"
    )
    assert params == ["vitamin k2", "'menaq':*", "warfarin"]


def test_a_long_query_is_cut():
    assert len(SearchQuery.parse(" ".join(f"word{number}" for number in range(50))).terms) == 16
