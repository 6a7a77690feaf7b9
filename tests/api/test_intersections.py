"""An intersection through the API and through the page: the same entries in
the same order (run on SQLite and on PostgreSQL)."""

import datetime

import pytest

from catalog.models import Entry
from common.pagination import Page
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def page_slugs(client, url):
    slugs, number = [], 1
    while True:
        response = client.get(f"{url}?page={number}")
        page = response.context["page"]
        assert isinstance(page, Page)
        slugs += [entry.slug for entry in page.items]
        if not page.has_next:
            return slugs
        number += 1


def api_slugs(api, url):
    slugs = []
    while url:
        data = api(url.removeprefix("http://testserver")).json()
        slugs += [entry["slug"] for entry in data["results"]]
        url = data["next"]
    return slugs


@pytest.mark.parametrize("slugs", ["a+b", "b+a", "a+b+c", "c"])
def test_api_and_page_list_the_same_entries_in_the_same_order(api, client, settings, slugs):
    settings.LISTING_PAGE_SIZE = 4
    from api.pagination import KeysetPagination

    KeysetPagination.page_size = 4
    try:
        a, b, c = TagFactory(slug="a", name="A"), TagFactory(slug="b", name="B"), TagFactory(slug="c", name="C")
        for number in range(11):
            # Ties on the month: the order falls back to the entry id, on both sides.
            StudyFactory(
                title=f"Study {number}", year=2010 + number % 3, month=1 + number % 2, tags=[a, b, c][: 1 + number % 3]
            )
            StudyFactory(title=f"Undated {number}", year=None, month=None, tags=[a, b, c])
        for number in range(3):
            article = ArticleFactory(title=f"Article {number}", tags=[a, b, c])
            article.first_published_at = datetime.datetime(2011, 1, 5, tzinfo=datetime.UTC)
            article.save()
        StudyFactory(title="Secret draft", slug="secret-draft", tags=[a, b, c], draft=True)
        from_page = page_slugs(client, f"/tags/{slugs}/")
        from_api = api_slugs(api, f"/api/v1/tags/{slugs}/entries/")
        assert from_api == from_page
        assert len(from_api) > 4 and "secret-draft" not in from_api
        assert Entry.objects.filter(slug__in=from_api).count() == len(from_api)
    finally:
        KeysetPagination.page_size = 50
