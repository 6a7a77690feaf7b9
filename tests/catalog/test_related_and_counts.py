"""Related entries by shared tags; fixed query counts on every listing, feed
and export this feature adds; drafts absent from all of them."""

import pytest
from bs4 import BeautifulSoup

from catalog.models import Entry
from tests.conftest import assert_no_secrets
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def related_titles(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return [a.get_text() for a in soup.select(".related-entries .entry-list__item > a")]


def test_related_entries_share_the_most_tags_published_only(client, site, tags):
    # mk7-bone has Vitamin K2 + Bone: the review shares both, the article,
    # the old and undated studies one each; drafts share both but never show.
    response = client.get("/studies/mk7-bone/")
    titles = related_titles(response)
    assert titles[0] == "Vitamin K and calcium – a review"
    assert set(titles[1:]) == {
        "Vitamin K2 and circulatory system",
        "Natto intake and hip fractures",
        "An undated case report",
    }
    assert "Menaquinone-7 and bone density" not in titles
    assert_no_secrets(response.content)
    article = client.get("/articles/k2-circulation/")
    assert related_titles(article)[0] == "Vitamin K and calcium – a review"
    assert_no_secrets(article.content)


def test_no_tags_no_related_section(client, db):
    StudyFactory(slug="lonely")
    response = client.get("/studies/lonely/")
    assert response.status_code == 200
    assert not BeautifulSoup(response.content, "html.parser").select(".related-entries")


def test_related_work_is_bounded_per_tag(db, monkeypatch):
    """Only the newest postings of each tag are candidates: an old entry
    sharing only a popular tag drops out, one sharing a rare tag stays."""
    popular, rare = TagFactory(name="Popular"), TagFactory(name="Rare")
    source = StudyFactory(tags=[popular, rare], year=2000)
    old_popular = StudyFactory(tags=[popular], year=1990, title="Old, popular tag only")
    old_rare = StudyFactory(tags=[rare], year=1980, title="Old, rare tag")
    for year in range(2001, 2006):
        StudyFactory(tags=[popular], year=year)
    popular.refresh_from_db()
    rare.refresh_from_db()
    monkeypatch.setattr(type(Entry.objects.all()), "RELATED_POSTINGS_PER_TAG", 3)
    related = list(Entry.objects.related_to(source, [popular, rare], limit=10))
    titles = [entry.title for entry in related]
    assert old_rare.title in titles and old_popular.title not in titles
    assert len(titles) == 4  # 3 newest of "Popular" + the one of "Rare"


def seed(tags, count):
    k2, bone, calcium = tags
    for number in range(count):
        StudyFactory(tags=[k2, bone, calcium], title=f"Menaquinone study {number}", abstract="menaquinone and bone")
        ArticleFactory(tags=[k2, bone, calcium], title=f"Menaquinone article {number}", body="menaquinone and bone")


URLS = [
    "/studies/",
    "/studies/?type=rct&type=review&year_min=2000&year_max=2030&tag=bone&tag=vitamin-k2&journal=Nutrients&sort=title",
    "/studies/?q=menaquinone&sort=oldest",
    "/studies/?year_min=abc&tag=nope&sort=x",
    "/search/?q=menaquinone",
    "/search/?q=menaquinone+bone&page=1",
    "/search/?q=",
    "/search/?q=nothingsuch",
    "/feed/",
    "/tags/vitamin-k2/feed/",
    "/tags/vitamin-k2+bone/feed/",
    "/tags/vitamin-k2+bone+calcium/feed/",
    "/tags/vitamin-k2+bone/cite.bib",
    "/tags/vitamin-k2/cite.ris",
    "/tags/vitamin-k2+bone+calcium/cite.json",
    "/sitemap-entries.xml",
    "/sitemap-tags.xml",
]


@pytest.mark.parametrize("url", URLS)
def test_query_count_does_not_grow_with_rows(count_queries, tags, url):
    seed(tags, 2)
    _, small = count_queries(url)
    seed(tags, 12)
    response, large = count_queries(url)
    assert response.status_code == 200
    assert large == small, url


@pytest.mark.parametrize("kind", ["study", "article"])
def test_detail_query_count_does_not_grow_with_related(count_queries, tags, kind):
    factory = StudyFactory if kind == "study" else ArticleFactory
    page = factory(tags=list(tags))
    _, small = count_queries(page.get_absolute_url())
    seed(tags, 6)
    response, large = count_queries(page.get_absolute_url())
    assert len(related_titles(response)) == 5
    assert large == small


def test_study_export_query_count(count_queries, tags):
    study = StudyFactory(tags=[tags[0]])
    _, few = count_queries(f"/studies/{study.slug}/cite.bib")
    many = StudyFactory(tags=list(tags) + [TagFactory() for _ in range(5)])
    _, more = count_queries(f"/studies/{many.slug}/cite.bib")
    assert few == more


@pytest.mark.parametrize(
    "url",
    [
        "/studies/",
        "/studies/?tag=bone",
        "/search/?q=menaquinone",
        "/search/?q=bone",
        "/feed/",
        "/tags/bone/feed/",
        "/tags/vitamin-k2+bone/feed/",
        "/tags/vitamin-k2+bone/cite.bib",
        "/tags/bone/cite.ris",
        "/tags/bone/cite.json",
        "/sitemap-entries.xml",
        "/studies/mk7-bone/",
        "/articles/k2-circulation/",
    ],
)
def test_drafts_scheduled_and_expired_are_absent_everywhere(client, site, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_no_secrets(response.content)
