"""No query can break search: FTS5 and tsquery syntax, quotes, NUL, long
junk — a page (200 or 400), never a 500, and never a draft. Both databases."""

import random

import pytest

from articles.models import Article
from common.fulltext import SearchQuery, highlighted
from discovery.search import matching_categories, ranked_union, suggestion_for
from studies.models import Study
from tests.conftest import assert_no_secrets

pytestmark = pytest.mark.django_db

PIECES = [
    '"', '""', "'", "-", "--", "*", "**", ":", "^", "+", "(", ")", "()", "{", "}", "[", "]", "|", "&", "!", "!!",
    "<->", "<2>", ":*", "\\", "%", "_", ";", ",", ".", "…", "\u00a0", "\t", "\ue000", "\ue001", "\x01",
    "NEAR", "NEAR(", "NEAR/2", "AND", "OR", "NOT", "or", "and", "not", "title:", "body:", "{title body}:",
    "rowid", "MATCH", "'; DROP TABLE studies_study; --", "SELECT", "%s", "%%", "?", "$1",
    "vitamin", "k2", "menaquinone", "bone", "the", "a", "é", "Müller", "ß", "日本", "🦴", "x" * 60, "9" * 30,
]  # fmt: skip


def hostile_queries(count, seed):
    rng = random.Random(seed)
    for _ in range(count):
        pieces = rng.choices(PIECES, k=rng.randint(1, 12))
        yield "".join(piece + rng.choice(["", " ", "", "-", '"', "*"]) for piece in pieces)[:200]


FIXED = [
    '"', "-", "*", '"unclosed phrase', 'NEAR("a" "b")', "a NEAR b", "title:bone", "bone*:", "*bone", "-*", '"*"',
    "a' OR 1=1 --", "!!!", "()", "&|!", "<b>", "or", "OR OR", "-or", "- -", '"" ""', "vitamin -", "-vitamin",
    "a:b:c", "^bone", "bone^2", "x" * 200, "é" * 200, '"' * 200, "(" * 200, "NEAR " * 40,
]  # fmt: skip


@pytest.mark.parametrize("query", FIXED)
def test_odd_queries_give_a_page(client, site, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert_no_secrets(response.content)


def test_a_nul_character_is_refused_politely(client, site):
    assert client.get("/search/", {"q": "bone\x00"}).status_code == 400


def test_fuzzed_queries_never_fail(client, site):
    for query in hostile_queries(60, seed=13):
        response = client.get("/search/", {"q": query})
        assert response.status_code in (200, 400), query
        assert_no_secrets(response.content)


def test_fuzzed_queries_in_every_query_that_reads_them(site):
    """The same, straight through the SQL (faster than pages, more cases):
    matching, ranking, highlighting, categories, suggestions."""
    for query in hostile_queries(200, seed=7):
        query = query.replace("\x00", "")
        list(ranked_union(query)[:3])
        list(Study.objects.matching(query).values_list("pk", flat=True)[:3])
        list(Article.objects.published().search(query).values_list("pk", flat=True)[:3])
        matching_categories(query)
        suggestion_for(query, [])
        highlighted([("Vitamin K2 and bone", 'Menaquinone: "the" NEAR bone*')], query)
        parsed = SearchQuery.parse(query)
        assert all('"' not in word for term in parsed.terms + parsed.excluded for word in term.words)
