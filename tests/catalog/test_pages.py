"""Every public page over real HTTP: status, content, drafts absent, fixed query counts."""

import pytest
from bs4 import BeautifulSoup

from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def text(response):
    return BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)


def listing_titles(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return [item.a.get_text(strip=True) for item in soup.select(".entry-list__item")]


@pytest.fixture
def site(tags):
    k2, bone, calcium = tags
    return {
        "rct": StudyFactory(title="MK-7 and bone density", tags=[k2, bone], year=2013, month=3),
        "review": StudyFactory(
            title="Vitamin K and bone – a review", tags=[k2, bone, calcium], year=2017, month=10, study_type="review"
        ),
        "undated": ArticleFactory(title="Which supplements heal fractures", tags=[k2, bone], first_published_at=None),
        "article": ArticleFactory(title="Vitamin K2 and circulatory system", tags=[k2]),
        "draft": StudyFactory(title="Secret draft study", tags=[k2, bone], draft=True),
        "draft_article": ArticleFactory(title="Secret draft article", tags=[k2, bone], draft=True),
    }


def test_home_lists_latest_entries_and_categories(client, site):
    response = client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert "Vitamin K2 and circulatory system" in page and "MK-7 and bone density" in page
    assert "Secret draft" not in page
    assert 'role="search"' in response.content.decode()


def test_intersection_lists_entries_with_all_tags_newest_first_with_dates(client, site):
    response = client.get("/tags/vitamin-k2+bone/")
    assert response.status_code == 200
    page = text(response)
    assert "Items in both categories Vitamin K2 and Bone are listed here" in page
    assert listing_titles(response) == [
        "Vitamin K and bone – a review",
        "MK-7 and bone density",
        "Which supplements heal fractures",
    ]
    assert "Oct 2017" in page and "Mar 2013" in page
    assert "Secret draft" not in page


def test_intersection_is_the_same_in_any_order_of_slugs(client, site):
    forward = listing_titles(client.get("/tags/vitamin-k2+bone/"))
    backward = client.get("/tags/bone+vitamin-k2/")
    assert listing_titles(backward) == forward
    assert "Items in both categories Bone and Vitamin K2" in text(backward)


def test_three_tag_intersection(client, site):
    response = client.get("/tags/calcium+bone+vitamin-k2/")
    assert response.status_code == 200
    assert "Items in all of categories Calcium, Bone and Vitamin K2 are listed here" in text(response)
    assert listing_titles(response) == ["Vitamin K and bone – a review"]


@pytest.mark.parametrize(
    "path", ["/tags/+/", "/tags/bone+/", "/tags/nope/", "/tags/bone+nope/", "/articles/nope/", "/studies/nope/"]
)
def test_unknown_or_malformed_addresses_are_404(client, site, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in text(response)


def test_repeated_slug_redirects_to_canonical_page(client, site):
    response = client.get("/tags/bone+bone/")
    assert response.status_code == 301
    assert response["Location"] == "/tags/bone/"


def test_tag_page_shows_description_and_narrow_down_counts(client, site, tags):
    k2, _bone, _calcium = tags
    k2.description = "Menaquinones, *MK-4 and MK-7*."
    k2.save()
    response = client.get("/tags/vitamin-k2/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<em>MK-4 and MK-7</em>" in html
    soup = BeautifulSoup(html, "html.parser")
    narrow = {a.get_text(strip=True): a.find_next("span").contents[0].strip() for a in soup.select(".narrow-down a")}
    assert narrow == {"Bone": "3", "Calcium": "1"}
    assert soup.select_one('.narrow-down a[href="/tags/vitamin-k2+bone/"]')


def test_tag_index_lists_tags_with_counts(client, site):
    response = client.get("/tags/")
    page = text(response)
    assert "Vitamin K2 4" in page and "Bone 3" in page and "Calcium 1" in page


def test_article_page_has_toc_tags_and_related_studies(client, site):
    article = site["article"]
    article.related_studies.set([site["rct"], site["draft"]])
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert [a["href"] for a in soup.select(".toc a")] == ["#first-section", "#second-section"]
    assert soup.select_one("#first-section").name == "h2"
    related = [a.get_text() for a in soup.select(".related a")]
    assert related == ["MK-7 and bone density"]


def test_study_page_shows_the_citation(client, site):
    study = site["rct"]
    study.doi = "10.3390/nu13041222"
    study.pmid = "33918097"
    study.affiliation = "University of Chieti-Pescara"
    study.save()
    response = client.get(study.get_absolute_url())
    page = text(response)
    assert "Schurgers LJ, Vermeer C" in page
    assert "Nutrients 2013;12(3):100-110" in page
    assert "University of Chieti-Pescara" in page
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.select_one('a[href="https://doi.org/10.3390/nu13041222"]')
    assert "33918097" in page
    assert "Download the PDF" not in page


def test_drafts_have_no_page(client, site):
    assert client.get(site["draft"].get_absolute_url()).status_code == 404
    assert client.get(site["draft_article"].get_absolute_url()).status_code == 404


@pytest.mark.parametrize("path", ["/studies/", "/articles/"])
def test_lists_show_published_entries_only(client, site, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "Secret draft" not in text(response)
    assert listing_titles(response)


def test_listing_pages_and_page_past_the_end(client, tags, settings):
    settings.LISTING_PAGE_SIZE = 2
    k2 = tags[0]
    for year in range(2010, 2015):
        StudyFactory(tags=[k2], year=year)
    first = client.get("/tags/vitamin-k2/")
    assert listing_titles(first)[0].startswith("Vitamin K2 study")
    assert 'rel="next"' in first.content.decode()
    assert client.get("/tags/vitamin-k2/?page=3").status_code == 200
    assert client.get("/tags/vitamin-k2/?page=4").status_code == 404
    assert client.get("/tags/vitamin-k2/?page=abc").status_code == 200


def test_health_robots_and_sitemap(client, site):
    assert client.get("/healthz").content == b"ok"
    assert "Sitemap: http://testserver/sitemap.xml" in client.get("/robots.txt").content.decode()
    entries = client.get("/sitemap-entries.xml").content.decode()
    assert site["rct"].get_absolute_url() in entries
    assert "secret-draft" not in entries and site["draft"].slug not in entries


LISTING_URLS = [
    "/",
    "/tags/",
    "/tags/vitamin-k2/",
    "/tags/vitamin-k2+bone/",
    "/tags/vitamin-k2+bone+calcium/",
    "/studies/",
    "/articles/",
]


@pytest.mark.parametrize("url", LISTING_URLS)
def test_query_count_does_not_grow_with_rows(count_queries, tags, url):
    k2, bone, calcium = tags
    StudyFactory(tags=[k2, bone, calcium])
    ArticleFactory(tags=[k2, bone, calcium])
    _, small = count_queries(url, cold=True)
    for _ in range(15):
        StudyFactory(tags=[k2, bone, calcium])
        ArticleFactory(tags=[k2, bone, calcium])
    response, large = count_queries(url, cold=True)
    assert response.status_code == 200
    assert len(listing_titles(response)) > 2 or url == "/tags/"
    assert large == small


@pytest.mark.parametrize("kind", ["study", "article"])
def test_detail_query_count_does_not_grow_with_tags(count_queries, kind):
    factory = StudyFactory if kind == "study" else ArticleFactory
    few = factory(tags=[TagFactory() for _ in range(1)])
    many = factory(tags=[TagFactory() for _ in range(8)])
    _, small = count_queries(few.get_absolute_url(), cold=True)
    _, large = count_queries(many.get_absolute_url(), cold=True)
    assert small == large
