"""Intersections of three or more tags: their size is estimated from the
precomputed counts instead of counted, and exact when it fits on one page."""

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from catalog.selectors import estimated_intersection, round_estimate
from tests.conftest import only_postgres
from tests.factories import StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def result_count(response):
    return BeautifulSoup(response.content, "html.parser").select_one(".result-count").get_text(" ", strip=True)


@pytest.fixture
def tags():
    return [TagFactory(name=name, slug=name.lower()) for name in ("Bone", "Calcium", "Heart", "Liver")]


@pytest.fixture
def small_facet_sample(monkeypatch):
    """Facets read at most 4 matches: an intersection above that is "big"
    (the type facets cannot count it, so its total is estimated)."""
    monkeypatch.setattr("catalog.selectors.FACET_SAMPLE", 4)


@override_settings(LISTING_PAGE_SIZE=5)
def test_a_big_intersection_shows_an_estimate_and_counts_nothing(tags, client, small_facet_sample):
    bone, calcium, heart, liver = tags
    for number in range(12):
        StudyFactory(tags=[bone, calcium, heart], year=2000 + number)
    for number in range(4):
        StudyFactory(tags=[bone, liver], year=2000 + number)
    for url in ("/tags/bone+calcium+heart/", "/tags/bone+calcium+heart/?page=2"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert result_count(response).startswith("About 12 entries"), url
        statements = [query["sql"].upper() for query in queries.captured_queries]
        assert statements and not any("COUNT(" in sql for sql in statements), statements


@override_settings(LISTING_PAGE_SIZE=5)
def test_an_intersection_that_fits_on_one_page_is_counted_exactly(tags, count_queries):
    bone, calcium, heart, liver = tags
    for _ in range(3):
        StudyFactory(tags=[bone, calcium, heart])
    StudyFactory(tags=[bone, calcium])
    # Liver is a category in use, just not together with the others.
    StudyFactory(tags=[liver])
    assert result_count(count_queries("/tags/bone+calcium+heart/")[0]) == "3 entries"
    assert result_count(count_queries("/tags/bone+calcium+liver/")[0]) == "0 entries"


@override_settings(LISTING_PAGE_SIZE=5)
def test_an_intersection_the_facets_count_whole_shows_its_exact_total(tags, client):
    bone, calcium, heart, _ = tags
    for number in range(12):
        StudyFactory(tags=[bone, calcium, heart], year=2000 + number)
    assert result_count(client.get("/tags/bone+calcium+heart/?page=2")) == "12 entries, newest first"


@override_settings(LISTING_PAGE_SIZE=5)
def test_the_estimate_is_never_below_what_the_pages_show(tags, count_queries, small_facet_sample):
    bone, calcium, heart, _ = tags
    # Correlated tags: the independence estimate would say fewer.
    for _ in range(11):
        StudyFactory(tags=[bone, calcium, heart])
    for _ in range(30):
        StudyFactory(tags=[bone])
    response = count_queries("/tags/bone+calcium+heart/?page=2")[0]
    text = result_count(response)
    assert text.startswith("About ")
    assert int(text.split()[1].replace(",", "")) >= 11


def test_estimate_from_pair_counts(tags):
    bone, calcium, heart, _ = tags
    for number in range(40):
        wanted = [bone]
        if number % 2 == 0:
            wanted.append(calcium)
        if number % 4 in (0, 1):
            wanted.append(heart)
        StudyFactory(tags=wanted)
    for tag in tags:
        tag.refresh_from_db()
    # heart (20) is the rarest; half of its entries carry calcium, all bone: 20 × 1/2 × 1.
    assert estimated_intersection([bone, calcium, heart]) == 10
    assert round_estimate(41_237) == 41_000 and round_estimate(987) == 990 and round_estimate(42) == 42


@only_postgres()
def test_postings_index_covers_the_listing_columns():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'entrytag_tag_date_idx'")
        (definition,) = cursor.fetchone()
    assert "INCLUDE (id, inherited, study_type)" in definition


@pytest.mark.django_db
def test_a_changed_design_or_year_moves_the_entry_between_filtered_listings(client):
    """Design and date are read from the postings: they follow the study."""
    bone, k2 = TagFactory(name="Bone", slug="bone"), TagFactory(name="Vitamin K2", slug="vitamin-k2")
    study = StudyFactory(title="A moving study", tags=[bone, k2], study_type="rct", year=2015)
    StudyFactory(title="An undated trial", tags=[bone, k2], study_type="rct", year=None)

    def listed(query):
        cache.clear()
        return [entry.title for entry in client.get(f"/tags/bone+vitamin-k2/?{query}").context["page"].items]

    assert listed("type=rct&year_min=2010&year_max=2020") == ["A moving study"]
    assert listed("type=rct&year_max=2020") == ["A moving study"]  # undated: no year to compare
    assert listed("type=rct") == ["A moving study", "An undated trial"]
    study.study_type, study.year = "cohort", 2021
    study.save()
    assert listed("type=rct&year_min=2010&year_max=2020") == []
    assert listed("type=cohort&year_min=2021&year_max=2021") == ["A moving study"]
    assert listed("type=rct") == ["An undated trial"]


def test_far_above_the_sample_facets_come_from_the_counts_without_reading_postings(tags, client, small_facet_sample):
    bone, calcium, _heart, _liver = tags
    for number in range(8):
        StudyFactory(tags=[bone, calcium], year=2000 + number, study_type="rct")
    for _ in range(4):
        StudyFactory(tags=[bone, calcium], year=2010, study_type="cohort")
    for _ in range(4):
        StudyFactory(tags=[calcium], year=2010, study_type="rct")
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tags/bone+calcium/")
    soup = BeautifulSoup(response.content, "html.parser")
    # Bone, the rarer tag, has all 12 of the pair's entries: its counts scaled by 12/12.
    facets = {li.a.get_text(): li.select_one(".count").contents[0].strip() for li in soup.select(".facet-list li")}
    assert facets == {"RCT": "~8", "Cohort/observational": "~4"}  # estimates, marked
    assert "Estimated from the categories’ own counts." in soup.get_text()
    assert result_count(response).startswith("12 entries")
    # The page's listing walks the postings once (its rows); no sample of the intersection.
    walks = [query["sql"] for query in queries.captured_queries if 'FROM "k2site_entrytag"' in query["sql"]]
    assert len(walks) == 1, walks


def test_between_years_far_above_the_sample_facets_come_from_the_counts(tags, client, small_facet_sample):
    bone, calcium, _heart, _liver = tags
    for number in range(12):
        StudyFactory(tags=[bone, calcium], year=2000 + number % 3, study_type="rct")
    StudyFactory(tags=[bone, calcium], year=2010, study_type="rct")
    cache.clear()
    soup = BeautifulSoup(client.get("/tags/bone+calcium/?year_min=2000&year_max=2002").content, "html.parser")
    facets = {li.a.get_text(): li.select_one(".count").contents[0].strip() for li in soup.select(".facet-list li")}
    assert facets == {"RCT": "~12"} and "Estimated from the categories’ own counts." in soup.get_text()
    # A year range with few matches (1, under the sample's 4): read and counted exactly.
    cache.clear()
    soup = BeautifulSoup(client.get("/tags/bone+calcium/?year_min=2010&year_max=2010").content, "html.parser")
    facets = {li.a.get_text(): li.select_one(".count").contents[0].strip() for li in soup.select(".facet-list li")}
    assert facets == {"RCT": "1"} and "own counts" not in soup.get_text()
