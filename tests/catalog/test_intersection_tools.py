"""Intersections one click from anywhere: narrow down and widen on every
intersection, the /studies/ filters and type facets on tag pages (and their
feed and export), the most-populated intersections on home and /tags/, an
entry's own intersections on its page; query counts fixed at two sizes."""

import xml.etree.ElementTree as ET

import pytest
from bs4 import BeautifulSoup

from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db
ATOM = {"a": "http://www.w3.org/2005/Atom"}


def soup_of(response):
    return BeautifulSoup(response.content, "html.parser")


def titles(response):
    return [a.get_text(strip=True) for a in soup_of(response).select(".entry-list__item > a")]


@pytest.fixture
def topics():
    names = ["Vitamin K2", "Bone", "Calcium", "Heart", "Diabetes"]
    return {name: TagFactory(name=name, slug=name.lower().replace(" ", "-")) for name in names}


def seed(topics, copies=1):
    k2, bone, calcium, heart = (topics[name] for name in ("Vitamin K2", "Bone", "Calcium", "Heart"))
    for copy in range(copies):
        StudyFactory(title=f"RCT {copy}", tags=[k2, bone, calcium], study_type="rct", year=2020)
        StudyFactory(title=f"Meta {copy}", tags=[k2, bone], study_type="meta_analysis", year=2015)
        StudyFactory(title=f"Cohort {copy}", tags=[k2, bone, heart], study_type="cohort", year=2005)
        ArticleFactory(title=f"Article {copy}", tags=[k2, bone, calcium])
        StudyFactory(title=f"Heart only {copy}", tags=[k2, heart], study_type="rct", year=2021)


def test_an_intersection_narrows_down_and_widens(topics, client):
    seed(topics)
    soup = soup_of(client.get("/tags/vitamin-k2+bone/"))
    narrow = {a.get_text(): a["href"] for a in soup.select(".narrow-down a")}
    assert narrow == {"Calcium": "/tags/vitamin-k2+bone+calcium/", "Heart": "/tags/vitamin-k2+bone+heart/"}
    widen = [a.get_text() for a in soup.select(".widen a")]
    assert widen == ["All of Vitamin K2", "All of Bone"]
    soup = soup_of(client.get("/tags/vitamin-k2+bone+calcium/"))
    assert {a.get_text(): a["href"] for a in soup.select(".widen a")}["Without Calcium"] == "/tags/bone+vitamin-k2/"
    # Estimated counts are said to be estimates.
    assert "estimated" in soup_of(client.get("/tags/vitamin-k2+bone/")).select_one(".narrow-down").get_text()


def test_filters_facets_and_their_feed_and_export(topics, client):
    seed(topics)
    page = client.get("/tags/vitamin-k2+bone/")
    facets = {
        li.a.get_text() if li.a else li.contents[0].strip(): li.select_one(".count").contents[0].strip()
        for li in soup_of(page).select(".facet-list li")
    }
    assert facets == {"RCT": "1", "Meta-analysis": "1", "Cohort/observational": "1", "Articles": "1"}
    rct_link = next(a["href"] for a in soup_of(page).select(".facet-list a") if a.get_text() == "RCT")
    assert rct_link == "?type=rct"
    filtered = client.get("/tags/vitamin-k2+bone/?type=rct&type=meta_analysis&year_min=2016")
    assert titles(filtered) == ["RCT 0"]
    applied = [li.get_text(" ", strip=True) for li in soup_of(filtered).select(".applied-filters__list li")]
    assert applied[0].startswith("Type: RCT") and applied[-1].startswith("From: 2016")
    assert soup_of(filtered).select_one(".result-count").get_text(strip=True).startswith("1 entry")
    # Oldest first and title order.
    assert titles(client.get("/tags/vitamin-k2+bone/?sort=oldest"))[:3] == ["Cohort 0", "Meta 0", "RCT 0"]
    # An invalid value is left out and explained; the page still answers.
    bad = client.get("/tags/vitamin-k2+bone/?type=nonsense&year_min=abc&sort=zz")
    assert bad.status_code == 200 and len(titles(bad)) == 4
    assert soup_of(bad).select(".form-errors li")
    # The feed and the export carry the same filters.
    feed = ET.fromstring(client.get("/tags/vitamin-k2+bone/feed/?type=rct").content)
    assert [entry.findtext("a:title", namespaces=ATOM) for entry in feed.findall("a:entry", ATOM)] == ["RCT 0"]
    assert "Type: RCT" in feed.findtext("a:title", namespaces=ATOM)
    export = client.get("/tags/vitamin-k2+bone/cite.ris?type=meta_analysis").content.decode()
    assert export.count("TY  -") == 1 and "Meta 0" in export
    soup = soup_of(filtered)
    assert soup.select_one(".feed-link a")["href"].startswith("feed/?type=rct")


def test_home_tags_and_entry_pages_link_intersections(topics, client):
    seed(topics)
    home = {a.get_text(): a["href"] for a in soup_of(client.get("/")).select(".intersection-list a")}
    assert home["Vitamin K2 and Bone"] in ("/tags/bone+vitamin-k2/",)
    index = soup_of(client.get("/tags/")).select(".intersection-list a")
    assert index[0].get_text() == "Vitamin K2 and Bone"
    study = StudyFactory(title="Another", tags=[topics["Vitamin K2"], topics["Bone"]])
    more = [li.get_text(" ", strip=True) for li in soup_of(client.get(study.get_absolute_url())).select(".more-on li")]
    assert more == ["More on Vitamin K2 and Bone : 5 entries"]


@pytest.mark.parametrize(
    "path",
    [
        "/tags/vitamin-k2/",
        "/tags/vitamin-k2+bone/",
        "/tags/vitamin-k2+bone/?type=rct&year_min=2000&sort=oldest",
        "/tags/vitamin-k2+bone+calcium/",
        "/tags/vitamin-k2+bone/?direct=1",
        "/tags/",
        "/",
    ],
)
def test_query_counts_do_not_grow_with_the_rows(topics, count_queries, path, monkeypatch):
    # Facets read at most 6 matches: the larger site fills the sample (or,
    # far above it, reads none: one query fewer), the smaller does not; the
    # count must not grow with the rows.
    monkeypatch.setattr("catalog.selectors.FACET_SAMPLE", 6)
    topics["Vitamin K2"].parent = topics["Diabetes"]  # any parent: a breadcrumb and inherited postings
    topics["Vitamin K2"].save()
    seed(topics, copies=1)
    _, small = count_queries(path, cold=True)
    seed(topics, copies=8)
    response, large = count_queries(path, cold=True)
    assert response.status_code == 200
    assert large <= small, path
