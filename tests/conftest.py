import os

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext


def pytest_sessionstart(session):
    # CI says which database it means to test; running on another one by
    # accident (PostgreSQL unreachable, DATABASE_URL lost) must fail loudly.
    expected = os.environ.get("K2_EXPECT_DB")
    if expected:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        if expected not in engine:
            pytest.exit(f"Expected the {expected} database, settings use {engine}.", returncode=3)


def reset_cache():
    """An empty cache, with the scheduled-publishing check already done, so
    query counts don't depend on test order."""
    cache.clear()
    cache.add("k2site:schedule-check", 1, timeout=3600)


@pytest.fixture(autouse=True)
def fresh_cache():
    reset_cache()
    yield
    cache.clear()


@pytest.fixture
def count_queries(client):
    """GET a URL and return (response, number of queries it ran); with
    ``cold=True`` on an empty cache, as the first visitor after a change."""

    def get(url, cold=False, **kwargs):
        if cold:
            reset_cache()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **kwargs)
        return response, len(queries)

    return get


def only_postgres():
    return pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
