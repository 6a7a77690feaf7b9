"""The evidence timeline: its SVG's numbers are the data's, stacked by
design strongest first; a year links to the listing narrowed to it; the
table says the same; estimated (and said so) when the intersection is too
big to count; counts kept at write time stay exact as entries change."""

from collections import Counter, defaultdict

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.indexing import recount_tags
from catalog.models import TagYearCount
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def chart(response):
    """{year: {group: count}} read from the SVG's rectangles, and the soup."""
    soup = BeautifulSoup(response.content, "html.parser")
    bars = defaultdict(dict)
    for rect in soup.select("figure.timeline svg.timeline__chart rect[data-year]"):
        bars[int(rect["data-year"])][rect["data-group"]] = int(rect["data-count"])
    return dict(bars), soup


@pytest.fixture
def bone():
    return TagFactory(name="Bone", slug="bone")


def seed(bone, k2):
    StudyFactory(tags=[bone], year=2019, study_type="rct")
    StudyFactory(tags=[bone, k2], year=2019, study_type="meta_analysis")
    StudyFactory(tags=[bone, k2], year=2019, study_type="cohort")
    StudyFactory(tags=[bone, k2], year=2021, study_type="rct")
    StudyFactory(tags=[bone], year=2021, study_type="other")
    StudyFactory(tags=[bone], year=None, study_type="rct")  # undated: not in the chart
    StudyFactory(tags=[bone], year=2020, draft=True)  # never counted
    ArticleFactory(tags=[bone, k2])  # articles are not studies


def test_the_chart_shows_the_datas_numbers_stacked_strongest_first(bone, client):
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    seed(bone, k2)
    bars, soup = chart(client.get("/tags/bone/"))
    assert bars == {
        2019: {"rct": 1, "synthesis": 1, "observational": 1},
        2021: {"rct": 1, "other": 1},
    }
    # Meta-analyses at the bottom of the bar (the greatest y), then RCTs, then observational.
    rects = soup.select('rect[data-year="2019"]')
    assert [rect["data-group"] for rect in sorted(rects, key=lambda r: -float(r["y"]))] == [
        "synthesis",
        "rct",
        "observational",
    ]
    # Heights are proportional to the counts.
    heights = {rect["data-group"]: float(rect["height"]) for rect in rects}
    assert heights["rct"] == pytest.approx(heights["synthesis"])
    # A year narrows the listing to it; the table says the same.
    link = soup.select_one('svg a:has(rect[data-year="2021"])')["href"]
    assert link == "?year_min=2021&year_max=2021"
    narrowed, _ = chart(client.get("/tags/bone/" + link))
    assert narrowed == {2021: {"rct": 1, "other": 1}}
    rows = {
        row.th.get_text(strip=True): [cell.get_text() for cell in row.select("td")]
        for row in soup.select(".timeline__numbers tbody tr")
    }
    assert rows == {"2019": ["1", "1", "1", "0", "0", "3"], "2021": ["0", "1", "0", "0", "1", "2"]}
    summary = soup.select_one(".timeline figcaption").get_text(" ", strip=True)
    assert "5 studies from 2019 to 2021" in summary


def test_an_intersection_and_its_filters_have_their_own_chart(bone, client):
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    seed(bone, k2)
    bars, _ = chart(client.get("/tags/bone+vitamin-k2/"))
    assert bars == {2019: {"synthesis": 1, "observational": 1}, 2021: {"rct": 1}}
    bars, _ = chart(client.get("/tags/bone+vitamin-k2/?type=rct"))
    assert bars == {2021: {"rct": 1}}


def test_a_big_intersection_is_estimated_and_says_so(bone, client, monkeypatch):
    monkeypatch.setattr("catalog.selectors.FACET_SAMPLE", 3)
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    for year in (2010, 2010, 2012, 2012):
        StudyFactory(tags=[bone, k2], year=year, study_type="rct")
    bars, soup = chart(client.get("/tags/bone+vitamin-k2/"))
    # The rarest tag's years (kept at write time), scaled to the pair's size (4 of 4).
    assert bars == {2010: {"rct": 2}, 2012: {"rct": 2}}
    assert "Estimated" in soup.select_one(".timeline figcaption").get_text()


def test_a_site_can_switch_the_chart_off_and_its_query_with_it(bone, client, settings):
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    seed(bone, k2)
    client.get("/tags/bone+vitamin-k2/")  # the schedule check out of the way
    cache.clear()  # and the page out of the page cache
    with CaptureQueriesContext(connection) as shown:
        response = client.get("/tags/bone+vitamin-k2/")
    assert chart(response)[0]
    settings.EVIDENCE_TIMELINE = False
    cache.clear()  # the page cache holds the page with its chart
    with CaptureQueriesContext(connection) as hidden:
        response = client.get("/tags/bone+vitamin-k2/")
    bars, soup = chart(response)
    assert bars == {} and soup.select_one("figure.timeline") is None
    # The design facets stay; only the rarest tag's year counts are no longer read.
    assert soup.select_one(".facet-list") is not None
    assert len(hidden.captured_queries) == len(shown.captured_queries) - 1


def test_year_counts_kept_at_write_time_equal_a_recount(bone):
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2", parent=bone)
    seed(bone, k2)
    study = StudyFactory(tags=[k2], year=2000, study_type="review")
    study.year, study.study_type = 2001, "rct"
    study.save()
    study.tags.set([bone])

    def snapshot():
        return Counter(
            {
                (row.tag.slug, row.year, row.study_type): row.entry_count
                for row in TagYearCount.objects.select_related("tag")
                if row.entry_count
            }
        )

    kept = snapshot()
    recount_tags()
    assert snapshot() == kept
    assert kept[("bone", 2001, "rct")] == 1 and kept[("vitamin-k2", 2019, "cohort")] == 1


def test_rollups_count_designs_strongest_first(bone, client):
    from catalog.evidence import rollup

    assert rollup({"review": 1, "rct": 3, "meta_analysis": 2}) == "2 meta-analyses, 3 RCTs, 1 review"
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    seed(bone, k2)
    soup = BeautifulSoup(client.get("/tags/bone+vitamin-k2/").content, "html.parser")
    assert soup.select_one(".rollup").get_text(" ", strip=True) == (
        "Items in both categories Bone and Vitamin K2: 1 meta-analysis, 1 RCT, 1 cohort/observational study, 1 article."
    )
    weak = StudyFactory(title="A review", study_type="review", year=2024)
    strong = StudyFactory(title="A meta-analysis", study_type="meta_analysis", year=2001)
    article = ArticleFactory(tags=[bone])
    article.related_studies.set([weak, strong])
    soup = BeautifulSoup(client.get(article.get_absolute_url()).content, "html.parser")
    section = soup.select_one(".related")
    assert section.select_one(".rollup").get_text(" ", strip=True).startswith("2 studies: 1 meta-analysis, 1 review.")
    assert [a.get_text(strip=True) for a in section.select(".entry-list a")][:2] == ["A meta-analysis", "A review"]
