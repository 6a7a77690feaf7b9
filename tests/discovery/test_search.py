"""/search/: the same cases on PostgreSQL and SQLite (one query language,
common.fulltext), marking only what truly differs: published entries only,
kind, date, tags, highlighted titles and snippets, ranking, the web-search
syntax, stemming and prefixes, help on empty and no-result pages."""

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article
from studies.models import Study
from tests.conftest import assert_no_secrets
from tests.factories import ArticleFactory, StudyFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5")


def results(response):
    """The titles of the results, as read (the <mark>s inside them aside)."""
    soup = BeautifulSoup(response.content, "html.parser")
    return [" ".join(item.a.get_text().split()) for item in soup.select(".search-results > li")]


def found(client, query):
    return results(client.get("/search/", {"q": query}))


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
    assert item.select_one(".kind").get_text() == "Study"
    assert item.select_one(".design").get_text() == "Cohort/observational"
    assert item.select_one("time").get_text() == "2001"
    assert [a.get_text() for a in item.select(".tag-list a")] == ["Bone"]
    assert item.select_one(".snippet mark").get_text().lower() == "soybeans"
    assert "1 result" in soup.select_one(".result-count").get_text()


def test_snippet_escapes_the_text(client, db):
    StudyFactory(title="Escaping", abstract='Menaquinone <script>alert("x")</script> & friends')
    html = client.get("/search/?q=menaquinone").content.decode()
    snippet = BeautifulSoup(html, "html.parser").select_one(".snippet")
    # PostgreSQL's ts_headline drops tags, SQLite's snippet() keeps them and
    # they are escaped: either way no markup from the text reaches the page,
    # only our <mark>.
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


# Ranking --------------------------------------------------------------------------


def test_a_title_match_outranks_a_text_match(client, db):
    """Fails if the best match drops: the entry with the word in its title
    comes first, whichever kind, however recent the others."""
    StudyFactory(title="Calcification in dialysis", abstract="Nothing here.")
    for number in range(3):
        StudyFactory(title=f"Unrelated headline {number}", abstract="Calcification of arteries.")
        ArticleFactory(title=f"Other explainer {number}", body="Calcification, once.")
    ranked = found(client, "calcification")
    assert ranked[0] == "Calcification in dialysis"
    assert len(ranked) == 7


def test_title_ranks_above_journal_above_abstract(client, db):
    StudyFactory(title="Unrelated headline", abstract="Calcification of arteries.", journal="Heart")
    StudyFactory(title="Calcification in dialysis", abstract="Nothing here.", journal="Kidney")
    StudyFactory(title="Another headline", abstract="Nothing here.", journal="Calcification Reports")
    assert found(client, "calcification") == ["Calcification in dialysis", "Another headline", "Unrelated headline"]


def test_articles_and_studies_are_merged_by_rank(client, db):
    ArticleFactory(title="Warfarin explained", body="Other words.")
    StudyFactory(title="A trial", abstract="Warfarin users.")
    ArticleFactory(title="Something else", body="Mentions warfarin once.")
    StudyFactory(title="Warfarin and MGP", abstract="Warfarin warfarin.")
    ranked = found(client, "warfarin")
    assert set(ranked[:2]) == {"Warfarin explained", "Warfarin and MGP"}
    assert set(ranked[2:]) == {"A trial", "Something else"}


def test_ranking_is_bounded_to_the_newest_candidates(client, db, monkeypatch):
    from common import fulltext

    monkeypatch.setattr(fulltext, "RANK_CANDIDATES", 3)
    StudyFactory(title="Calcification first", abstract="")  # best rank, but the oldest match
    for number in range(4):
        StudyFactory(title=f"Paper {number}", abstract="calcification")
    assert found(client, "calcification") == ["Paper 3", "Paper 2", "Paper 1"]


# The query language ------------------------------------------------------------


@pytest.fixture
def k2_studies(db):
    StudyFactory(title="Vitamin K2 and arteries", abstract="Warfarin stops it.")
    StudyFactory(title="Vitamin K2 in bone", abstract="No anticoagulants.")
    StudyFactory(title="K2 and vitamin D", abstract="Calcium.")


def test_phrases(client, k2_studies):
    assert set(found(client, '"vitamin k2"')) == {"Vitamin K2 and arteries", "Vitamin K2 in bone"}
    assert set(found(client, "vitamin k2")) == {"Vitamin K2 and arteries", "Vitamin K2 in bone", "K2 and vitamin D"}
    assert found(client, '"k2 vitamin"') == []


def test_exclusion(client, k2_studies):
    assert found(client, '"vitamin k2" -warfarin') == ["Vitamin K2 in bone"]
    assert set(found(client, "k2 -calcium -warfarin")) == {"Vitamin K2 in bone"}
    assert set(found(client, 'k2 -"vitamin k2"')) == {"K2 and vitamin D"}
    # Nothing to find but what to leave out: nothing.
    assert found(client, "-warfarin") == []


def test_or(client, k2_studies):
    assert set(found(client, "arteries or calcium")) == {"Vitamin K2 and arteries", "K2 and vitamin D"}
    assert set(found(client, "arteries OR calcium OR anticoagulants")) == {
        "Vitamin K2 and arteries",
        "K2 and vitamin D",
        "Vitamin K2 in bone",
    }
    # "or" binds the words beside it; the other words are still required.
    assert found(client, "bone arteries or calcium") == []
    assert found(client, "vitamin arteries or nothingsuch") == ["Vitamin K2 and arteries"]


def test_prefix(client, db):
    StudyFactory(title="Menaquinone-7 and bone", abstract="")
    StudyFactory(title="Menadione toxicity", abstract="")
    StudyFactory(title="Phylloquinone intake", abstract="")
    assert found(client, "menaquin*") == ["Menaquinone-7 and bone"]
    assert set(found(client, "mena*")) == {"Menaquinone-7 and bone", "Menadione toxicity"}
    # Without the star a word is a word (stemmed), not a beginning.
    assert found(client, "mena") == []
    # A one-letter "prefix" is the word itself.
    assert found(client, "m*") == []


def test_stemming(client, db):
    StudyFactory(title="Fractures in the elderly", abstract="")
    StudyFactory(title="Bone density", abstract="")
    assert found(client, "fracture") == ["Fractures in the elderly"]
    assert found(client, "bones") == ["Bone density"]
    assert found(client, "densities") == ["Bone density"]


def test_stop_words_are_not_required(client, db):
    StudyFactory(title="Vitamin K2 for bone", abstract="")
    assert found(client, "the vitamin and bone") == ["Vitamin K2 for bone"]
    assert found(client, "the and") == []


def test_non_ascii_author_names(client, db):
    StudyFactory(title="A paper", authors=[{"family": "Müller", "given": "Jörg"}], abstract="")
    assert found(client, "Müller") == ["A paper"]
    assert found(client, "jörg müller") == ["A paper"]


@sqlite_only
def test_sqlite_folds_diacritics(client, db):
    """unicode61 removes diacritics; PostgreSQL's english configuration does
    not (no unaccent dictionary), so "Muller" finds Müller on SQLite only."""
    StudyFactory(title="A paper", authors=[{"family": "Müller", "given": "Jörg"}], abstract="")
    assert found(client, "Muller") == ["A paper"]


def test_the_listing_filter_uses_the_same_language(client, db):
    StudyFactory(title="Vitamin K2 and arteries", abstract="Warfarin stops it.", slug="arteries")
    StudyFactory(title="Vitamin K2 in bone", abstract="No anticoagulants.", slug="bone")
    assert list(Study.objects.matching('"vitamin k2" -warfarin').values_list("slug", flat=True)) == ["bone"]
    assert set(Study.objects.matching("bones or arter*").values_list("slug", flat=True)) == {"arteries", "bone"}
    assert not Article.objects.matching("vitamin").exists()


@postgres_only
def test_search_vector_uses_gin_index():
    """EXPLAIN shows the GIN index (once the table is big enough that a
    sequential scan is not cheaper): the tsquery built from the parsed query
    is a constant the planner folds."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in ("vitamin", '"vitamin k2" or menaq* -warfarin'):
            sql, params = Study.objects.matching(query).order_by().query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "study_search_vector_idx" in plan
            assert "::tsquery" in plan  # folded into a constant
        sql, params = Article.objects.matching("vitamin").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        assert "article_search_vector_idx" in "\n".join(row[0] for row in cursor.fetchall())


@sqlite_only
def test_sqlite_search_reads_the_fts5_index():
    from discovery.search import ranked_union

    def plan(sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(str(row) for row in cursor.fetchall())

    assert "MATERIALIZE" in plan(*Study.objects.published().search("vitamin").query.sql_with_params())
    # The page's union starts from the index, then looks each candidate up
    # by its primary key: never a walk through every published row.
    with CaptureQueriesContext(connection) as queries:
        ranked_union('"vitamin k2" or menaq* -warfarin')[:21]
    (page,) = [query["sql"] for query in queries.captured_queries]
    union = plan(page)
    assert "search_index VIRTUAL TABLE" in union
    assert "SEARCH studies_study USING INTEGER PRIMARY KEY" in union
    assert "SEARCH articles_article USING INTEGER PRIMARY KEY" in union
    assert "SCAN studies_study" not in union and "SCAN articles_article" not in union


# Query counts ---------------------------------------------------------------------

# The ranked page, the entries and their tags (two), the texts quoted (one,
# both kinds), the matching categories; PostgreSQL highlights in SQL (one
# more), SQLite in memory. Spelling suggestions: see test_search_suggestions.
RESULT_PAGE_QUERIES = 6 if connection.vendor == "postgresql" else 5


def test_query_count_is_fixed(count_queries, tags):
    k2, bone, _calcium = tags

    def seed(count):
        for number in range(count):
            StudyFactory(tags=[k2, bone], title=f"Menaquinone study {number}", abstract="menaquinone and bone")
            ArticleFactory(tags=[k2], title=f"Menaquinone article {number}", body="## Menaquinone\n\n**bone**")

    seed(2)
    # What any page stored in the page cache costs (its freshness), beside
    # the empty search page's one query (the popular categories).
    overhead = count_queries("/search/?q=", cold=True)[1] - 1
    _, few = count_queries("/search/?q=menaquinone+bone", cold=True)
    seed(20)
    _, many = count_queries("/search/?q=menaquinone+bone", cold=True)
    _, next_page = count_queries("/search/?q=menaquinone+bone&page=2", cold=True)
    assert (few, many, next_page) == (RESULT_PAGE_QUERIES + overhead,) * 3
