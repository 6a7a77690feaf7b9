"""/studies/ filters over real HTTP, on SQLite and PostgreSQL."""

import pytest
from bs4 import BeautifulSoup

from tests.conftest import assert_no_secrets
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def titles(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return [item.a.get_text(strip=True) for item in soup.select(".entry-list__item")]


def soup_of(response):
    return BeautifulSoup(response.content, "html.parser")


def test_default_is_newest_first_undated_last_published_only(client, site):
    response = client.get("/studies/")
    assert response.status_code == 200
    assert titles(response) == [
        "Vitamin K and calcium – a review",
        "Menaquinone-7 and bone density",
        "Natto intake and hip fractures",
        "An undated case report",
    ]
    assert_no_secrets(response.content)
    assert "4 studies" in soup_of(response).select_one(".result-count").get_text()


@pytest.mark.parametrize(
    "query, expected",
    [
        (
            "sort=oldest",
            [
                "Natto intake and hip fractures",
                "Menaquinone-7 and bone density",
                "Vitamin K and calcium – a review",
                "An undated case report",
            ],
        ),
        (
            "sort=title",
            [
                "An undated case report",
                "Menaquinone-7 and bone density",
                "Natto intake and hip fractures",
                "Vitamin K and calcium – a review",
            ],
        ),
        ("type=review", ["Vitamin K and calcium – a review"]),
        ("type=review&type=cohort", ["Vitamin K and calcium – a review", "Natto intake and hip fractures"]),
        ("year_min=2010", ["Vitamin K and calcium – a review", "Menaquinone-7 and bone density"]),
        ("year_max=2013", ["Menaquinone-7 and bone density", "Natto intake and hip fractures"]),
        ("year_min=2010&year_max=2015", ["Menaquinone-7 and bone density"]),
        (
            "tag=bone",
            ["Vitamin K and calcium – a review", "Menaquinone-7 and bone density", "Natto intake and hip fractures"],
        ),
        ("tag=bone&tag=vitamin-k2", ["Vitamin K and calcium – a review", "Menaquinone-7 and bone density"]),
        ("tag=bone&tag=vitamin-k2&tag=calcium", ["Vitamin K and calcium – a review"]),
        ("tag=calcium&tag=bone&tag=vitamin-k2", ["Vitamin K and calcium – a review"]),
        ("journal=nutrients", ["Vitamin K and calcium – a review"]),
        ("journal=Osteoporosis%20International", ["Menaquinone-7 and bone density"]),
        ("q=menaquinone", ["Menaquinone-7 and bone density", "Natto intake and hip fractures"]),
        ("q=menaquinone&tag=vitamin-k2", ["Menaquinone-7 and bone density"]),
        ("q=knapen", ["Menaquinone-7 and bone density"]),
        (
            "q=warfarin&type=review&year_min=2017&tag=calcium&journal=Nutrients&sort=oldest",
            ["Vitamin K and calcium – a review"],
        ),
        ("type=rct&tag=calcium", []),
    ],
)
def test_filter_combinations(client, site, query, expected):
    response = client.get(f"/studies/?{query}")
    assert response.status_code == 200
    assert titles(response) == expected
    assert_no_secrets(response.content)


def test_the_form_shows_what_is_applied_and_how_many(client, site):
    response = client.get("/studies/?type=rct&type=review&tag=bone&year_min=2010&journal=Nutrients&q=vitamin")
    soup = soup_of(response)
    applied = [item.get_text(" ", strip=True) for item in soup.select(".applied-filters__list li")]
    assert applied == [
        "Words: vitamin (remove)",
        "Type: RCT (remove)",
        "Type: Review (remove)",
        "From: 2010 (remove)",
        "Category: Bone (remove)",
        "Journal: Nutrients (remove)",
    ]
    assert soup.select_one(".result-count").get_text(strip=True).startswith("1 study")
    # The form keeps the state, so the next change starts from it.
    assert soup.select_one("#filter-type-rct").has_attr("checked")
    assert soup.select_one("#filter-type-review").has_attr("checked")
    assert not soup.select_one("#filter-type-cohort").has_attr("checked")
    assert soup.select_one("#filter-tag-bone").has_attr("checked")
    assert soup.select_one("#filter-year-min")["value"] == "2010"
    assert soup.select_one("#filter-journal")["value"] == "Nutrients"
    # Remove links drop one value and keep the rest.
    remove_rct = soup.select(".applied-filters__list a")[1]["href"]
    follow = client.get("/studies/" + remove_rct)
    assert "type=rct" not in remove_rct and "type=review" in remove_rct and "tag=bone" in remove_rct
    assert titles(follow) == ["Vitamin K and calcium – a review"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("year_min=abc", "From year"),
        ("year_max=99999", "To year"),
        ("type=nonsense", "Study type"),
        ("tag=no-such-tag", "Categories"),
        ("sort=sideways", "Sort"),
        ("q=" + "x" * 300, "Words"),
    ],
)
def test_invalid_values_are_explained_and_ignored(client, site, query, field):
    response = client.get(f"/studies/?{query}")
    assert response.status_code == 200
    errors = soup_of(response).select_one(".form-errors")
    assert errors is not None and field in errors.get_text()
    assert len(titles(response)) == 4


def test_invalid_value_leaves_the_valid_filters_in_force(client, site):
    response = client.get("/studies/?year_min=abc&type=review&page=x&sort=zz")
    assert response.status_code == 200
    assert titles(response) == ["Vitamin K and calcium – a review"]


def test_paging_keeps_filters(client, tags, settings):
    settings.LISTING_PAGE_SIZE = 2
    for year in range(2010, 2015):
        StudyFactory(tags=[tags[1]], year=year, study_type="rct")
    StudyFactory(year=2016, study_type="review")
    first = client.get("/studies/?type=rct&tag=bone")
    next_link = soup_of(first).select_one('a[rel="next"]')["href"]
    assert "type=rct" in next_link and "tag=bone" in next_link and "page=2" in next_link
    third = client.get("/studies/?type=rct&tag=bone&page=3")
    assert [t for t in titles(third)] and len(titles(third)) == 1
    assert client.get("/studies/?type=rct&tag=bone&page=4").status_code == 404


def test_count_is_capped(client, tags, settings, monkeypatch):
    from common import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    for _ in range(5):
        StudyFactory()
    response = client.get("/studies/")
    assert "More than 3 studies" in soup_of(response).select_one(".result-count").get_text()


def counted(client, query):
    """(the page's result count, the SQL of its COUNT queries) for /studies/?query, uncached."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/studies/?{query}")
    text = soup_of(response).select_one(".result-count").get_text(" ", strip=True)
    return text, [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.fixture
def count_cap_3(monkeypatch, settings):
    """Above the cap a count says "More than 3"; the kept counts know better."""
    from common import pagination

    monkeypatch.setattr(pagination, "COUNT_CAP", 3)
    settings.LISTING_PAGE_SIZE = 2


def test_one_category_is_counted_from_the_kept_counts(client, tags, count_cap_3):
    from catalog.models import Status
    from tests.factories import ArticleFactory

    _k2, bone, _calcium = tags
    for year in (2010, 2011, 2012, 2013, 2014):
        StudyFactory(tags=[bone], year=year, study_type="rct")
    StudyFactory(tags=[bone], year=2012, study_type="review")
    StudyFactory(tags=[bone], year=None, study_type="rct")
    StudyFactory(tags=[bone], year=2012, study_type="rct", status=Status.DRAFT)
    ArticleFactory(tags=[bone])
    for query, expected in [
        ("type=rct&tag=bone", "6 studies"),
        ("tag=bone", "7 studies"),
        ("type=rct&tag=bone&year_min=2011&year_max=2013", "3 studies"),
        ("type=rct&type=review&tag=bone&year_max=2012", "4 studies"),
    ]:
        text, counts = counted(client, query)
        assert text.startswith(expected) and not counts, query


def test_a_category_with_subcategories_counts_its_own_postings(client, tags, count_cap_3):
    # /studies/ lists a study's own tags; the kept counts hold the subcategory's
    # entries too, so the postings of studies carrying it themselves are counted
    # (capped), not the studies.
    from catalog.models import Status
    from tests.factories import ArticleFactory, TagFactory

    calcium = tags[2]
    mk7 = TagFactory(name="MK-7", slug="mk-7", parent=calcium)
    StudyFactory(tags=[mk7], year=2015, study_type="rct")
    for year in (2011, 2015, 2016, 2017):
        StudyFactory(tags=[calcium], year=year, study_type="rct")
    StudyFactory(tags=[calcium], year=2015, study_type="review")
    StudyFactory(tags=[calcium], year=2015, study_type="rct", status=Status.DRAFT)
    ArticleFactory(tags=[calcium])
    for query, expected in [
        ("tag=calcium", "More than 3 studies"),
        ("tag=calcium&type=rct&year_min=2015&year_max=2016", "2 studies"),
        ("tag=calcium&type=review", "1 study"),
    ]:
        text, counts = counted(client, query)
        assert text.startswith(expected), query
        assert len(counts) == 1 and "k2site_entrytag" in counts[0] and "studies_study" not in counts[0], query
