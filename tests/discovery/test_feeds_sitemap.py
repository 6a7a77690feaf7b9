"""Atom feeds parsed by feedparser; the sitemap parsed as XML; autodiscovery."""

import datetime
import xml.etree.ElementTree as ET

import feedparser
import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from tests.conftest import assert_no_secrets
from tests.factories import ArticleFactory, StudyFactory

pytestmark = pytest.mark.django_db
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_site_feed_newest_first_published_only(client, site):
    response = client.get("/feed/")
    feed = parse(response)
    assert feed.feed.title == "K2 Site"
    assert [entry.title for entry in feed.entries] == [
        "Vitamin K2 and circulatory system",
        "Vitamin K and calcium – a review",
        "Menaquinone-7 and bone density",
        "Natto intake and hip fractures",
        "An undated case report",
    ]
    assert_no_secrets(response.content)
    first = feed.entries[2]
    assert first.link == "http://testserver/studies/mk7-bone/"
    assert first.id == "http://testserver/studies/mk7-bone/"
    assert "bone mineral density" in first.summary
    assert {tag.term for tag in first.tags} == {"Vitamin K2", "Bone"}
    assert first.updated_parsed and first.published_parsed


def test_site_feed_holds_the_newest_fifty(client, db):
    for year in range(1960, 2020):
        StudyFactory(year=year, title=f"Study of {year}")
    feed = parse(client.get("/feed/"))
    assert len(feed.entries) == 50
    assert feed.entries[0].title == "Study of 2019"
    assert feed.entries[-1].title == "Study of 1970"


def test_tag_and_intersection_feeds(client, site):
    feed = parse(client.get("/tags/bone/feed/"))
    assert [entry.title for entry in feed.entries] == [
        "Vitamin K and calcium – a review",
        "Menaquinone-7 and bone density",
        "Natto intake and hip fractures",
    ]
    assert feed.feed.link == "http://testserver/tags/bone/"
    both = client.get("/tags/vitamin-k2+calcium/feed/")
    feed = parse(both)
    assert "Items in both categories Vitamin K2 and Calcium" in feed.feed.title
    assert [entry.title for entry in feed.entries] == [
        "Vitamin K2 and circulatory system",
        "Vitamin K and calcium – a review",
    ]
    assert_no_secrets(both.content)
    reversed_order = parse(client.get("/tags/calcium+vitamin-k2/feed/"))
    assert [e.title for e in reversed_order.entries] == [e.title for e in feed.entries]


def test_tag_feed_bad_addresses(client, site):
    assert client.get("/tags/nope/feed/").status_code == 404
    assert client.get("/tags/bone+/feed/").status_code == 404
    response = client.get("/tags/bone+bone/feed/")
    assert response.status_code == 301 and response["Location"] == "/tags/bone/feed/"


def test_feed_escapes_titles(client, db):
    StudyFactory(title='Quotes " & <angle> brackets', abstract="x < y & z")
    feed = parse(client.get("/feed/"))
    assert feed.entries[0].title == 'Quotes " & <angle> brackets'


def test_autodiscovery_links(client, site):
    home = BeautifulSoup(client.get("/").content, "html.parser")
    link = home.select_one('head link[rel="alternate"][type="application/atom+xml"]')
    assert link["href"] == "/feed/"
    tag_page = BeautifulSoup(client.get("/tags/vitamin-k2+bone/").content, "html.parser")
    hrefs = [a["href"] for a in tag_page.select('head link[rel="alternate"][type="application/atom+xml"]')]
    assert "feed/" in hrefs  # relative to /tags/vitamin-k2+bone/
    assert client.get("/tags/vitamin-k2+bone/feed/").status_code == 200


def sitemap_locations(client, path):
    root = ET.fromstring(client.get(path).content)
    return {
        url.findtext("s:loc", namespaces=SITEMAP_NS): url.findtext("s:lastmod", namespaces=SITEMAP_NS)
        for url in root.findall("s:url", SITEMAP_NS)
    }


def test_sitemap_lists_every_published_entry_and_tag_with_lastmod(client, site, tags):
    index = ET.fromstring(client.get("/sitemap.xml").content)
    sections = [loc.text for loc in index.findall("s:sitemap/s:loc", SITEMAP_NS)]
    assert sections == [
        "http://testserver/sitemap-entries.xml",
        "http://testserver/sitemap-tags.xml",
        "http://testserver/sitemap-intersections.xml",
    ]
    entries = sitemap_locations(client, "/sitemap-entries.xml")
    published = {"mk7-bone", "k-calcium-review", "natto-fractures", "undated"}
    assert {loc.rsplit("/", 2)[-2] for loc in entries} == published | {"k2-circulation"}
    assert all(lastmod for lastmod in entries.values())
    tag_pages = sitemap_locations(client, "/sitemap-tags.xml")
    assert set(tag_pages) == {f"http://testserver/tags/{slug}/" for slug in ("vitamin-k2", "bone", "calcium")}
    assert all(lastmod for lastmod in tag_pages.values())
    assert "Sitemap: http://testserver/sitemap.xml" in client.get("/robots.txt").content.decode()


@override_settings(SITEMAP_MIN_INTERSECTION_ENTRIES=2)
def test_sitemap_lists_the_intersections_with_enough_entries(client, site, tags):
    # bone+calcium: the review only; the others two or more.
    pairs = sitemap_locations(client, "/sitemap-intersections.xml")
    assert set(pairs) == {"http://testserver/tags/bone+vitamin-k2/", "http://testserver/tags/calcium+vitamin-k2/"}
    assert all(pairs.values())
    for loc in pairs:
        assert client.get(loc.removeprefix("http://testserver")).status_code == 200
    cache.clear()  # the page cache keeps the first answer until content changes
    with override_settings(SITEMAP_MIN_INTERSECTION_ENTRIES=1):
        pairs = sitemap_locations(client, "/sitemap-intersections.xml")
    assert "http://testserver/tags/bone+calcium/" in pairs


def test_tag_lastmod_follows_a_newly_published_entry(client, tags):
    bone = tags[1]
    StudyFactory(tags=[bone], year=2015)
    before = sitemap_locations(client, "/sitemap-tags.xml")["http://testserver/tags/bone/"]
    later = timezone.now() + datetime.timedelta(days=2)
    article = ArticleFactory(tags=[bone])
    type(article).objects.filter(pk=article.pk).update(updated_at=later)
    from catalog.indexing import sync_entries

    sync_entries([type(article).objects.get(pk=article.pk)])
    after = sitemap_locations(client, "/sitemap-tags.xml")["http://testserver/tags/bone/"]
    assert after > before and after.startswith(later.date().isoformat())
