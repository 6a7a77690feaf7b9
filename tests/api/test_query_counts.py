"""Each endpoint runs the same number of queries with a few entries as with
many: tags are prefetched, authors and entries joined."""

import pytest

from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db

URLS = {
    "/api/v1/": 2,
    "/api/v1/studies/": 4,
    "/api/v1/studies/?tag=a&tag=b&type=rct&year_min=1990&sort=title": 5,
    "/api/v1/studies/study-1/": 4,
    "/api/v1/articles/": 4,
    "/api/v1/articles/article-1/": 6,
    "/api/v1/tags/": 3,
    "/api/v1/tags/a/entries/": 4,
    "/api/v1/tags/a+b/entries/": 5,
    "/api/v1/tags/a+b+c/entries/": 5,
}


def grow(count, tags, offset):
    for number in range(offset, offset + count):
        StudyFactory(
            title=f"Study {number}",
            slug=f"study-{number}",
            study_type="rct",
            year=1990 + number % 30,
            tags=tags[: 1 + number % 3],
        )
        article = ArticleFactory(title=f"Article {number}", slug=f"article-{number}", tags=tags[: 1 + number % 3])
        article.related_studies.add(*article.related_studies.model.objects.all()[:5])


def counts(count_queries):
    found = {}
    for url in URLS:
        response, queries = count_queries(url, cold=True)
        assert response.status_code == 200, (url, response.content)
        found[url] = queries
    return found


def test_query_counts_are_fixed(count_queries):
    tags = [TagFactory(slug=slug, name=slug.upper()) for slug in "abc"]
    grow(6, tags, 1)
    small = counts(count_queries)
    grow(70, tags, 10)
    large = counts(count_queries)
    assert small == large
    # Pinned; each includes the page cache's two on a miss (the next scheduled
    # publish and expiry times, k2site.middleware.PageCacheMiddleware.next_change).
    assert small == URLS
