"""Finding one's way from a search: the categories whose name or alias the
query names ("K2" → Vitamin K2), and "Did you mean …?" for a misspelled
word (pg_trgm on PostgreSQL, the FTS5 vocabulary on SQLite). Both databases."""

import pytest
from bs4 import BeautifulSoup
from django.db import connection

from catalog.indexing import recount_tags
from catalog.models import TagAlias
from tests.conftest import assert_no_secrets
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def page(client, query):
    return BeautifulSoup(client.get("/search/", {"q": query}).content, "html.parser")


def categories(soup):
    return [" ".join(item.get_text().split()) for item in soup.select(".matching-categories li")]


def suggestion(soup):
    link = soup.select_one(".did-you-mean a")
    return link and (link.get_text(), link["href"])


# Categories ------------------------------------------------------------------------


@pytest.fixture
def vocabulary(db):
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    bone = TagFactory(name="Bone", slug="bone")
    hidden = TagFactory(name="K2 drafts", slug="k2-drafts")
    TagAlias.objects.create(tag=k2, name="K2", slug="k2")
    TagAlias.objects.create(tag=k2, name="menaquinone", slug="menaquinone")
    TagAlias.objects.create(tag=hidden, name="mk-4", slug="mk-4")
    StudyFactory(title="Bone density and menaquinone-7", tags=[k2, bone])
    StudyFactory(title="A draft", tags=[hidden], draft=True)
    recount_tags()
    return k2, bone, hidden


@pytest.mark.parametrize(
    "query, expected",
    [
        ("K2", ["Vitamin K2 (also: K2)"]),  # an alias, and a word of the name
        ("menaquinone", ["Vitamin K2 (also: menaquinone)"]),
        ("vitamin", ["Vitamin K2"]),
        ("vitam k2", ["Vitamin K2 (also: K2)"]),  # every word starts a word of the name
        ("menaquinone bone density", ["Vitamin K2 (also: menaquinone)", "Bone"]),  # the names are in the query
        ('"bone" -calcium', ["Bone"]),
        ("one", []),  # not the inside of a word
        ("mk-4", []),  # a category no published entry carries
        ("xylophone", []),
    ],
)
def test_categories_by_name_or_alias(client, vocabulary, query, expected):
    soup = page(client, query)
    assert sorted(categories(soup)) == sorted(expected)
    for link in soup.select(".matching-categories a"):
        assert link["href"] in ("/tags/vitamin-k2/", "/tags/bone/")


def test_categories_are_bounded_and_most_used_first(client, db):
    tags = [TagFactory(name=f"Vitamin {letter}") for letter in "ABCDEFG"]
    for number, tag in enumerate(tags):
        for _ in range(number + 1):
            StudyFactory(title="A study", tags=[tag])
    recount_tags()
    assert categories(page(client, "vitamin")) == [f"Vitamin {letter}" for letter in "GFEDC"]


def test_categories_cost_one_query_whatever_their_number(count_queries, vocabulary):
    k2 = vocabulary[0]
    StudyFactory(title="Vitamin K2 basics", tags=[k2])
    recount_tags()
    _, few = count_queries("/search/?q=k2", cold=True)
    more = [TagFactory(name=f"K2 topic {number}") for number in range(6)]
    for number, tag in enumerate(more):
        TagAlias.objects.create(tag=tag, name=f"k2 synonym {number}", slug=f"k2-{number}")
    StudyFactory(title="K2 everywhere", tags=[k2, *more])
    recount_tags()
    _, many = count_queries("/search/?q=k2", cold=True)
    assert many == few


# Spelling ---------------------------------------------------------------------------


@pytest.fixture
def spelled(db):
    StudyFactory(title="Menaquinone-7 and arterial calcification", abstract="Vascular calcification slowed.")
    ArticleFactory(title="Calcification explained", body="How menaquinone works.")
    StudyFactory(title="Secret draft on ferroptosis", abstract="Ferroptosis.", draft=True)


def test_a_misspelled_word_that_finds_nothing(client, spelled):
    soup = page(client, "calcificaton")
    assert "Nothing found" in soup.get_text()
    assert suggestion(soup) == ("calcification", "/search/?q=calcification")
    assert soup.select_one(".did-you-mean em").get_text() == "calcification"


def test_a_stem_that_finds_entries_gets_its_word(client, spelled):
    """ "menaquinon" is the stem of "menaquinone" on both databases, so it
    finds the entries, but it is not a word: the page offers the word."""
    soup = page(client, "menaquinon")
    assert soup.select(".search-results > li")
    assert suggestion(soup) == ("menaquinone", "/search/?q=menaquinone")


def test_only_the_misspelled_words_change(client, spelled):
    soup = page(client, 'arterial "vascular" calcificaton -warfarin')
    assert suggestion(soup) == (
        'arterial "vascular" calcification -warfarin',
        "/search/?q=arterial%20%22vascular%22%20calcification%20-warfarin",
    )
    assert [em.get_text() for em in soup.select(".did-you-mean em")] == ["calcification"]


@pytest.mark.parametrize("query", ["menaquinone", "calcification arterial", "menaq*", "xylophone", "qzxv", "k2"])
def test_no_suggestion_for_known_words_prefixes_or_nothing_alike(client, spelled, query):
    assert suggestion(page(client, query)) is None


def test_never_a_word_only_drafts_carry(client, spelled):
    soup = page(client, "ferroptosys")
    assert suggestion(soup) is None
    assert_no_secrets(str(soup))
    assert "ferroptosis" not in str(soup).lower()


def test_category_names_and_aliases_are_known_words(client, db):
    tag = TagFactory(name="Osteocalcin")
    TagAlias.objects.create(tag=tag, name="bone gla protein", slug="bgp")
    StudyFactory(title="A trial", abstract="Osteocalcin and bone gla protein levels.", tags=[tag])
    assert suggestion(page(client, "osteocalcn")) == ("osteocalcin", "/search/?q=osteocalcin")
    assert suggestion(page(client, "bone protien")) == ("bone protein", "/search/?q=bone%20protein")


def test_suggestions_cost_two_queries_at_most(count_queries, spelled):
    _, found = count_queries("/search/?q=calcification", cold=True)
    _, misspelled = count_queries("/search/?q=calcificaton", cold=True)
    _, unknown = count_queries("/search/?q=qzxvw", cold=True)
    # Nothing found: no listing, tags, texts or highlighting (3 or 4 fewer),
    # the popular categories (one more), the lookup, and the check that the
    # corrected query finds entries.
    shown = 4 if connection.vendor == "postgresql" else 3
    assert misspelled == found - shown + 1 + 2
    assert unknown == found - shown + 1 + 1  # the lookup found nothing alike: no check


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm")
def test_title_words_use_the_trigram_index(db):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO search_title_word SELECT md5(n::text) FROM generate_series(1, 20000) AS n")
        cursor.execute("ANALYZE search_title_word")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT word FROM search_title_word WHERE word %% %s", ["menaquinon"])
        assert "search_title_word_trgm_idx" in "\n".join(row[0] for row in cursor.fetchall())
