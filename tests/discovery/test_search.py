"""/search/: ranking and web-search syntax on PostgreSQL, the plain-words
fallback on SQLite, and what both must do: published entries only, kind,
date, tags, highlighted snippets, help on empty and no-result pages."""

import pytest
from bs4 import BeautifulSoup
from django.db import connection

from articles.models import Article
from studies.models import Study
from tests.conftest import assert_no_secrets
from tests.factories import ArticleFactory, StudyFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite fallback")


def results(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return [item.a.get_text(strip=True) for item in soup.select(".search-results > li")]


def test_plain_words_find_studies_and_articles_published_only(client, site):
    response = client.get("/search/?q=menaquinone")
    assert response.status_code == 200
    assert set(results(response)) == {
        "Menaquinone-7 and bone density",
        "Natto intake and hip fractures",
        "Vitamin K2 and circulatory system",
    }
    assert_no_secrets(response.content)


def test_every_word_must_appear(client, site):
    assert results(client.get("/search/?q=menaquinone+fermented")) == ["Natto intake and hip fractures"]
    assert results(client.get("/search/?q=menaquinone+nothingsuch")) == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ("knapen", {"Menaquinone-7 and bone density"}),  # an author
        ("Marjo", {"Menaquinone-7 and bone density"}),  # a given name
        ("osteoporosis", {"Menaquinone-7 and bone density"}),  # the journal
        ("soybeans", {"Natto intake and hip fractures"}),  # the abstract
        ("matrix", {"Vitamin K2 and circulatory system"}),  # an article's body
        ("arteries", {"Vitamin K2 and circulatory system", "Vitamin K and calcium – a review"}),  # lead, abstract
    ],
)
def test_searches_every_field(client, site, query, expected):
    assert set(results(client.get(f"/search/?q={query}"))) == expected


def test_author_json_keys_are_not_words(client, site):
    assert results(client.get("/search/?q=family")) == []
    assert results(client.get("/search/?q=given")) == []


def test_results_show_kind_date_tags_and_marked_snippet(client, site):
    response = client.get("/search/?q=soybeans")
    soup = BeautifulSoup(response.content, "html.parser")
    item = soup.select_one(".search-results > li")
    assert item.select_one(".kind").get_text() == "Cohort/observational"
    assert item.select_one("time").get_text() == "2001"
    assert [a.get_text() for a in item.select(".tag-list a")] == ["Bone"]
    assert item.select_one(".snippet mark").get_text().lower() == "soybeans"
    assert "1 result" in soup.select_one(".result-count").get_text()


def test_snippet_escapes_the_text(client, db):
    StudyFactory(title="Escaping", abstract='Menaquinone <script>alert("x")</script> & friends')
    html = client.get("/search/?q=menaquinone").content.decode()
    snippet = BeautifulSoup(html, "html.parser").select_one(".snippet")
    # PostgreSQL's ts_headline drops tags, the fallback escapes them: either
    # way no markup from the text reaches the page, only our <mark>.
    assert "<script" not in html
    assert [tag.name for tag in snippet.find_all()] == ["mark"]
    assert "&amp; friends" in str(snippet)


def test_empty_query_helps(client, site):
    response = client.get("/search/?q=")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert "How to search" in soup.get_text()
    assert soup.select(".category-list a")


def test_no_result_page_helps(client, site):
    response = client.get("/search/?q=xylophone")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert "Nothing found" in soup.get_text()
    assert soup.select_one('a[href="/studies/"]') and soup.select(".category-list a")
    assert soup.select_one("#search-page")["value"] == "xylophone"


@pytest.mark.parametrize(
    "query", ['"', "-", '"unclosed phrase', "a' OR 1=1 --", "!!!", "()", "&|!", "<b>", "or", "x" * 300]
)
def test_odd_queries_never_fail(client, site, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code in (200, 400)
    assert_no_secrets(response.content)


def test_search_pages(client, db, settings):
    from discovery import views as search

    for number in range(25):
        StudyFactory(title=f"Menaquinone paper {number}")
    first = client.get("/search/?q=menaquinone")
    assert len(results(first)) == search.SEARCH_PAGE_SIZE
    second = client.get("/search/?q=menaquinone&page=2")
    assert len(results(second)) == 25 - search.SEARCH_PAGE_SIZE
    assert not set(results(first)) & set(results(second))
    assert client.get("/search/?q=menaquinone&page=3").status_code == 404


# PostgreSQL: ranking and web-search syntax ----------------------------------


@postgres_only
def test_title_match_ranks_above_author_and_journal_above_abstract(client, db):
    StudyFactory(title="Unrelated headline", abstract="Calcification of arteries.", journal="Heart")
    StudyFactory(title="Calcification in dialysis", abstract="Nothing here.", journal="Kidney")
    StudyFactory(title="Another headline", abstract="Nothing here.", journal="Calcification Reports")
    assert results(client.get("/search/?q=calcification")) == [
        "Calcification in dialysis",
        "Another headline",
        "Unrelated headline",
    ]


@postgres_only
def test_articles_and_studies_are_merged_by_rank(client, db):
    ArticleFactory(title="Warfarin explained", body="Other words.")
    StudyFactory(title="A trial", abstract="Warfarin users.")
    ArticleFactory(title="Something else", body="Mentions warfarin once.")
    StudyFactory(title="Warfarin and MGP", abstract="Warfarin warfarin.")
    ranked = results(client.get("/search/?q=warfarin"))
    assert set(ranked[:2]) == {"Warfarin explained", "Warfarin and MGP"}
    assert set(ranked[2:]) == {"A trial", "Something else"}


@postgres_only
def test_web_search_syntax(client, db):
    StudyFactory(title="Vitamin K2 and arteries", abstract="Warfarin stops it.")
    StudyFactory(title="Vitamin K2 in bone", abstract="No anticoagulants.")
    StudyFactory(title="K2 and vitamin D", abstract="Calcium.")
    assert set(results(client.get('/search/?q="vitamin k2"'))) == {"Vitamin K2 and arteries", "Vitamin K2 in bone"}
    assert results(client.get("/search/", {"q": '"vitamin k2" -warfarin'})) == ["Vitamin K2 in bone"]
    assert set(results(client.get("/search/", {"q": "arteries or calcium"}))) == {
        "Vitamin K2 and arteries",
        "K2 and vitamin D",
    }


@postgres_only
def test_stemming(client, db):
    StudyFactory(title="Fractures in the elderly", abstract="")
    assert results(client.get("/search/?q=fracture")) == ["Fractures in the elderly"]


@postgres_only
def test_search_vector_uses_gin_index():
    """EXPLAIN shows the GIN index (once the table is big enough that a
    sequential scan is not cheaper)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Study.objects.matching("vitamin").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "study_search_vector_idx" in plan
        sql, params = Article.objects.matching("vitamin").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        assert "article_search_vector_idx" in "\n".join(row[0] for row in cursor.fetchall())


# SQLite: the fallback ---------------------------------------------------------


@sqlite_only
def test_fallback_phrases_and_exclusions(client, db):
    StudyFactory(title="Vitamin K2 and arteries", abstract="Warfarin stops it.")
    StudyFactory(title="Vitamin K2 in bone", abstract="No anticoagulants.")
    StudyFactory(title="K2 and vitamin D", abstract="Calcium.")
    assert set(results(client.get('/search/?q="vitamin k2"'))) == {"Vitamin K2 and arteries", "Vitamin K2 in bone"}
    assert results(client.get("/search/", {"q": '"vitamin k2" -warfarin'})) == ["Vitamin K2 in bone"]


@sqlite_only
def test_fallback_ranks_title_matches_first(client, db):
    StudyFactory(title="Unrelated headline", abstract="Calcification of arteries.")
    StudyFactory(title="Calcification in dialysis", abstract="Nothing here.")
    assert results(client.get("/search/?q=calcification")) == ["Calcification in dialysis", "Unrelated headline"]


@sqlite_only
def test_fallback_matches_non_ascii_author_names(client, db):
    StudyFactory(title="A paper", authors=[{"family": "Müller", "given": "Jörg"}], abstract="")
    assert results(client.get("/search/?q=Müller")) == ["A paper"]


@postgres_only
def test_ranking_is_bounded_to_the_newest_candidates(client, db, monkeypatch):
    from common import fulltext

    monkeypatch.setattr(fulltext, "RANK_CANDIDATES", 3)
    StudyFactory(title="Calcification first", abstract="")  # best rank, but the oldest match
    for number in range(4):
        StudyFactory(title=f"Paper {number}", abstract="calcification")
    found = results(client.get("/search/?q=calcification"))
    assert found == ["Paper 3", "Paper 2", "Paper 1"]
