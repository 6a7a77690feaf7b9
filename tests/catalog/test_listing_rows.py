"""What a listing row shows (catalog/templatetags/listing.py): for a study
its design badge, first author, journal and date; for an article its lead;
the kind said once, and never "Study" as a design. The same row on every
listing, whether it renders Entry rows or Studies."""

import re

import pytest
from bs4 import BeautifulSoup

from tests.factories import StudyFactory, TagFactory

pytestmark = pytest.mark.django_db

MIXED_LISTINGS = ["/", "/tags/bone/", "/tags/vitamin-k2+bone/"]


def row(response, title, within="body"):
    soup = BeautifulSoup(response.content, "html.parser").select_one(within)
    (item,) = [item for item in soup.select(".entry-list__item") if item.select_one(".entry-title").get_text() == title]
    return item


def meta(item):
    return item.select_one(".entry-meta").get_text(" ", strip=True)


@pytest.fixture
def untyped(tags):
    k2, bone, _ = tags
    return StudyFactory(
        title="A study of no stated design",
        slug="untyped",
        tags=[k2, bone],
        study_type="other",
        authors=[{"family": "Geleijnse", "given": "Johanna M"}],
        journal="J Nutr",
        year=2004,
        month=11,
    )


@pytest.mark.parametrize("path", MIXED_LISTINGS)
def test_a_study_row_shows_its_design_first_author_journal_and_date(client, site, path):
    item = row(client.get(path), "Menaquinone-7 and bone density")
    assert item.select_one(".kind").get_text() == "Study"
    assert item.select_one(".design").get_text() == "RCT"
    assert meta(item) == "Study RCT Knapen MHJ et al. · Osteoporosis International · Mar 2013"
    assert item.select_one("cite.venue").get_text() == "Osteoporosis International"
    assert item.select_one("time")["datetime"] == "2013-03"
    assert not item.select(".entry-lead")


@pytest.mark.parametrize("path", MIXED_LISTINGS)
def test_an_untyped_study_says_study_once_and_has_no_design(client, site, untyped, path):
    item = row(client.get(path), "A study of no stated design")
    assert not item.select(".design")
    assert meta(item) == "Study Geleijnse JM · J Nutr · Nov 2004"


def test_an_article_row_shows_its_lead(client, site):
    for path in ["/", "/tags/vitamin-k2/", "/articles/"]:
        item = row(client.get(path), "Vitamin K2 and circulatory system")
        assert item.select_one(".entry-lead").get_text() == "How menaquinone keeps calcium out of arteries."
        assert not item.select(".design, .entry-byline, .venue")
    assert row(client.get("/"), "Vitamin K2 and circulatory system").select_one(".kind").get_text() == "Article"


def test_studies_list_rows_carry_the_same_fields_without_repeating_the_kind(client, site, untyped):
    response = client.get("/studies/")
    item = row(response, "Menaquinone-7 and bone density")
    assert meta(item) == "RCT Knapen MHJ et al. · Osteoporosis International · Mar 2013"
    assert meta(row(response, "A study of no stated design")) == "Geleijnse JM · J Nutr · Nov 2004"
    assert (
        meta(row(response, "Natto intake and hip fractures"))
        == "Cohort/observational Schurgers LJ et al. · Nutrition · 2001"
    )
    assert not BeautifulSoup(response.content, "html.parser").select(".entry-list .kind")


def test_article_page_lists_the_studies_it_draws_on_as_rows(client, site):
    site["article"].related_studies.add(site["rct"])
    item = row(client.get("/articles/k2-circulation/"), "Menaquinone-7 and bone density", within=".related")
    assert meta(item) == "RCT Knapen MHJ et al. · Osteoporosis International · Mar 2013"


def test_search_results_use_the_same_row(client, site):
    item = row(client.get("/search/?q=density"), "Menaquinone-7 and bone density")
    assert meta(item) == "Study RCT Knapen MHJ et al. · Osteoporosis International · Mar 2013"


def test_counts_say_entry_or_entries(client, site):
    one = TagFactory(name="Rare", slug="rare")
    StudyFactory(tags=[one])
    articles = BeautifulSoup(client.get("/articles/").content, "html.parser")
    assert articles.select_one(".result-count").get_text() == "1 entry"
    home = BeautifulSoup(client.get("/").content, "html.parser")
    counts = {item.a.get_text(): item.select_one(".count").get_text() for item in home.select(".category-list li")}
    assert counts["Rare"] == "1 entry" and counts["Vitamin K2"] == "4 entries"
    for count in home.select(".count"):
        assert re.fullmatch(r"\d+ (entry|entries)", count.get_text()) and not count.has_attr("aria-label")
        assert count.select_one(".visually-hidden").get_text().strip() in ("entry", "entries")
