"""Server-side time and query count of every benchmark page, in-process.

Run by bench/run.py in a fresh process per database size (settings come from
the environment: DATABASE_URL, DJANGO_DEBUG off). Each page goes through the
whole Django stack with the test client, the page cache taken out of the
middleware so every request does the real work. Prints one JSON document.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "k2site.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import DatabaseError, connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402

from catalog.models import Entry, EntryKind, EntryTag, Tag  # noqa: E402
from k2site.middleware import SCHEDULE_CHECK_KEY  # noqa: E402
from sampledata.seeding.vocabulary import RARE_WORDS  # noqa: E402

# Targets from the issue: server time p95 at 1,000,000 studies, in ms.
TAG_TARGET, INTERSECTION_3_TARGET, SEARCH_TARGET = 50, 100, 100
COMMON_WORD, RARE_WORD = "vitamin", RARE_WORDS[0]
# A page whose query runs longer than this is reported as failing, not waited for.
STATEMENT_TIMEOUT = "30s"


def pick(ranked, *ranks):
    """Distinct tags of these popularity ranks (1 = most used); past the end
    of a short list, the nearest unused ones above."""
    chosen = []
    for rank in ranks:
        index = min(rank, len(ranked)) - 1
        while ranked[index] in chosen:
            index -= 1
        chosen.append(ranked[index])
    return chosen


def slugs(tags):
    return "+".join(tag.slug for tag in tags)


def benchmark_pages():
    """(name, url, target ms or None) for every page the issue lists."""
    ranked = list(Tag.objects.filter(entry_count__gt=0).order_by("-entry_count", "pk"))
    (popular,), (rare,) = pick(ranked, 1), pick(ranked, 200)
    mid_pair = pick(ranked, 10, 20)
    published = Entry.objects.published()
    studies = published.filter(kind=EntryKind.STUDY).order_by("id")
    articles = published.filter(kind=EntryKind.ARTICLE).order_by("id")
    study = studies[studies.count() // 2] if studies.exists() else None
    article = articles[articles.count() // 2] if articles.exists() else None
    pages = [
        ("home", "/", None),
        ("tag index", "/tags/", None),
        (f"popular tag ({popular.entry_count:,})", f"/tags/{popular.slug}/", TAG_TARGET),
        (f"rare tag ({rare.entry_count:,})", f"/tags/{rare.slug}/", TAG_TARGET),
        ("2 tags, popular pair (1+2)", f"/tags/{slugs(pick(ranked, 1, 2))}/", TAG_TARGET),
        ("2 tags, mid pair (10+20)", f"/tags/{slugs(mid_pair)}/", TAG_TARGET),
        ("2 tags, rare pair (100+200)", f"/tags/{slugs(pick(ranked, 100, 200))}/", TAG_TARGET),
        ("3 tags, popular (1+2+3)", f"/tags/{slugs(pick(ranked, 1, 2, 3))}/", INTERSECTION_3_TARGET),
        ("3 tags, mid (10+20+30)", f"/tags/{slugs(pick(ranked, 10, 20, 30))}/", INTERSECTION_3_TARGET),
        ("3 tags, rare (100+200+300)", f"/tags/{slugs(pick(ranked, 100, 200, 300))}/", INTERSECTION_3_TARGET),
        ("/studies/ type + category", f"/studies/?type=rct&tag={pick(ranked, 2)[0].slug}", None),
        ("/studies/ year range + journal", "/studies/?year_min=2010&year_max=2015&journal=Nutrients", None),
        (f"search, common word '{COMMON_WORD}'", f"/search/?q={COMMON_WORD}", SEARCH_TARGET),
        (f"search, rare word '{RARE_WORD}'", f"/search/?q={RARE_WORD}", SEARCH_TARGET),
        ("study page", study.get_absolute_url() if study else None, None),
        ("article page", article.get_absolute_url() if article else None, None),
        ("page 50, popular tag", f"/tags/{popular.slug}/?page=50", TAG_TARGET),
        ("page 50, /studies/", "/studies/?page=50", None),
        ("site feed", "/feed/", None),
        ("tag feed, popular tag", f"/tags/{popular.slug}/feed/", None),
        # The JSON API's list endpoints, beside the pages they mirror.
        ("API studies, type + category", f"/api/v1/studies/?type=rct&tag={pick(ranked, 2)[0].slug}", None),
        ("API intersection, mid pair (10+20)", f"/api/v1/tags/{slugs(mid_pair)}/entries/", TAG_TARGET),
        (
            "API intersection, 3 tags mid (10+20+30)",
            f"/api/v1/tags/{slugs(pick(ranked, 10, 20, 30))}/entries/",
            INTERSECTION_3_TARGET,
        ),
    ]
    return pages, {"popular": popular, "mid_pair": mid_pair, "ranked": ranked}


def resolves(url):
    try:
        resolve(url.split("?")[0])
    except Resolver404:
        return False
    return True


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(client, url, requests):
    started = time.perf_counter()
    try:
        for _ in range(3):  # warm: connection, template and plan caches
            client.get(url)
    except DatabaseError as error:
        return {"status": 500, "error": f"query cancelled after {STATEMENT_TIMEOUT} ({type(error).__name__})"}
    if time.perf_counter() - started > 3:
        # A page taking seconds misses its target by far already; a few
        # samples say so without holding the run up for minutes.
        requests = min(requests, 5)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    sql = [query["sql"] for query in queries.captured_queries]
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "status": response.status_code,
        "bytes": len(response.content),
        "queries": len(sql),
        "uncapped_counts": sum(1 for s in sql if "COUNT(" in s.upper() and "LIMIT" not in s.upper()),
        "samples": len(times),
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "max": max(times),
    }


def intersection_plan(pair):
    postings = EntryTag.objects.published_with_all(list(pair))[: settings.LISTING_PAGE_SIZE + 1]
    return postings.explain(analyze=True, buffers=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    assert not settings.DEBUG, "measure with DJANGO_DEBUG off"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT}'")
    # The scheduled-publishing check runs once, as on a warm server.
    cache.add(SCHEDULE_CHECK_KEY, 1, timeout=3600)
    middleware = [name for name in settings.MIDDLEWARE if name != "k2site.middleware.PageCacheMiddleware"]
    pages, picked = benchmark_pages()
    results = []
    with override_settings(MIDDLEWARE=middleware):
        client = Client(HTTP_HOST="localhost")
        for name, url, target in pages:
            row = {"name": name, "url": url, "target": target}
            if url is None or not resolves(url):
                row["skipped"] = "no such page yet" if url else "no entry of this kind"
            else:
                row.update(measure(client, url, args.requests))
            results.append(row)
            print(
                f"{name:40} {row.get('error', '')} {row.get('p50', 0):8.1f} ms p50 {row.get('p95', 0):8.1f} ms p95 "
                f"{row.get('queries', '-')} queries",
                file=sys.stderr,
            )
    studies = Entry.objects.filter(kind=EntryKind.STUDY).count()
    json.dump(
        {
            "studies": studies,
            "entries": Entry.objects.count(),
            "postings": EntryTag.objects.count(),
            "tags": len(picked["ranked"]),
            "pages": results,
            "explain_pair": [f"{tag.name} ({tag.entry_count:,})" for tag in picked["mid_pair"]],
            "explain": intersection_plan(picked["mid_pair"]) if connection.vendor == "postgresql" else "",
            "postgres": connection.cursor().connection.info.server_version
            if connection.vendor == "postgresql"
            else None,
        },
        sys.stdout,
        indent=1,
    )


if __name__ == "__main__":
    main()
