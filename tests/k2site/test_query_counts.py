"""Every page of the benchmark (bench/measure.py) runs the same number of
queries with 60 studies as with several hundred, and none of them counts a
big result set exactly."""

from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.measure import RARE_WORD, benchmark_pages
from catalog.models import Tag
from k2site.middleware import SCHEDULE_CHECK_KEY
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def seed(**options):
    call_command("seed_bench", tags=12, seed=3, jobs=0, stdout=StringIO(), **options)


# Pages of the benchmark that need more entries than these tests seed.
BEYOND_SMALL_SITES = {"page 50, popular tag", "page 50, /studies/"}


def page_queries():
    """{page name: (status, [sql])} for every benchmark page, each rendered (not cached)."""
    pages, _ = benchmark_pages()
    client = Client()
    found = {}
    for name, url, _target in pages:
        if url is None:
            continue
        cache.clear()
        cache.add(SCHEDULE_CHECK_KEY, 1, timeout=3600)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        found[name.split(" (")[0]] = (response.status_code, [query["sql"] for query in queries.captured_queries])
    return found


def test_query_counts_do_not_grow_with_the_number_of_entries():
    seed(studies=60, articles=6)
    # The rare word is found at both sizes: a search with no results at all
    # legitimately skips the queries that read results.
    StudyFactory(title="Iron and ferroptosis", abstract=f"{RARE_WORD} and vitamin K2.", tags=[Tag.objects.first()])
    small = page_queries()
    seed(studies=540, articles=30, append=True)
    large = page_queries()
    assert small.keys() == large.keys()
    # Every page exists at both sizes: a 404 would be a lost route, and its
    # constant query count would hide it. Only the deep page is past the end
    # of a few hundred studies (test_a_deep_page_costs_the_same_queries_as_the_first
    # covers paging).
    for name in small:
        expected = 404 if name in BEYOND_SMALL_SITES else 200
        assert small[name][0] == expected and large[name][0] == expected, (name, small[name][0], large[name][0])
    counts = {name: (len(small[name][1]), len(large[name][1])) for name in small if name not in BEYOND_SMALL_SITES}
    assert len(counts) >= 15, small
    grew = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
    assert not grew, grew


def test_no_exact_count_over_a_result_set_on_listing_pages():
    seed(studies=200, articles=10)
    for name, (_status, statements) in page_queries().items():
        for sql in statements:
            if "COUNT(" in sql.upper():
                assert "LIMIT" in sql.upper(), (name, sql)


def test_a_deep_page_costs_the_same_queries_as_the_first():
    seed(studies=300, articles=10)
    _, picked = benchmark_pages()
    client = Client()
    popular = picked["popular"].slug
    counts = []
    for url in (f"/tags/{popular}/", f"/tags/{popular}/?page=3", "/studies/", "/studies/?page=3"):
        cache.clear()
        cache.add(SCHEDULE_CHECK_KEY, 1, timeout=3600)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts.append(len(queries))
    assert counts[0] == counts[1] and counts[2] == counts[3], counts
