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
from django.http import QueryDict  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402

from catalog.filters import ListingFilterForm  # noqa: E402
from catalog.models import Entry, EntryKind, EntryTag, Tag  # noqa: E402
from catalog.selectors import resolve_tags  # noqa: E402
from catalog.tree import ancestor_ids, parent_map  # noqa: E402
from k2site.middleware import SCHEDULE_CHECK_KEY  # noqa: E402
from sampledata.seeding.vocabulary import RARE_WORDS, tag_names  # noqa: E402

# Targets from the issue: server time p95 at 1,000,000 studies, in ms.
TAG_TARGET, INTERSECTION_3_TARGET, SEARCH_TARGET = 50, 100, 100
COMMON_WORD, RARE_WORD = "vitamin", RARE_WORDS[0]
# The category tree (issue 13): a parent's page and a parent × tag
# intersection cost at most this many times a leaf pair at 1,000,000 studies.
TREE_RATIO_TARGET = 2.0
FACETS = "type=rct&year_min=2010&year_max=2020"
# The pages that target compares, measured again interleaved (one request of
# each in turn): on a shared machine a ratio of pages measured minutes apart
# says more about the load's drift than about the pages.
INTERLEAVED = ("parent", "parent_mid", "parent_x_tag", "leaf_pair")
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


def ranked_tags():
    """The tags in use, most used first as seed_bench draws them (the
    vocabulary's order, long-tail), so every size measures the same tags
    whatever its sampling noise and however many entries a parent inherits;
    tags from elsewhere after them, by their own use."""
    in_use = {tag.name: tag for tag in Tag.objects.filter(entry_count__gt=0)}
    ranked = [in_use.pop(name) for name in tag_names(Tag.objects.count()) if name in in_use]
    return ranked + sorted(in_use.values(), key=lambda tag: (-tag.direct_count, tag.pk))


def tree_picks(ranked):
    """The category tree's tags to measure, by rank: {"root": the root with
    the most tags below it, "mid": the most used tag with both a parent and
    children, "elsewhere": the most used leaf outside that root, "leaf": the
    root's most used leaf}, and {tag id: how many tags below it}; ({}, {})
    on a flat vocabulary."""
    parents = parent_map()
    below = {tag.pk: set() for tag in ranked}
    for tag_id in parents:  # every tag below a ranked one, through its ancestors
        for ancestor in ancestor_ids(tag_id, parents):
            if ancestor in below:
                below[ancestor].add(tag_id)
    order = {tag.pk: rank for rank, tag in enumerate(ranked)}
    roots = [tag for tag in ranked if below[tag.pk] and tag.pk not in parents]
    if not roots:
        return {}, {}
    root = min(roots, key=lambda tag: (-len(below[tag.pk]), order[tag.pk]))
    leaves = [tag for tag in ranked if not below[tag.pk] and tag.pk in parents]
    mid = [tag for tag in ranked if below[tag.pk] and tag.pk in parents]
    elsewhere = [tag for tag in leaves if tag.pk not in below[root.pk]]
    inside = [tag for tag in leaves if tag.pk in below[root.pk]]
    if not (mid and elsewhere and inside):
        return {}, {}
    picks = {"root": root, "mid": mid[0], "elsewhere": elsewhere[0], "leaf": inside[0]}
    return picks, {tag_id: len(tags) for tag_id, tags in below.items()}


def tree_pages(ranked, mid_pair):
    """(name, url, target, key) for the pages of issue 13: a parent's page
    (a root, a mid-level tag), a parent × tag intersection and the leaf pair
    it is compared with (the root's most used leaf in its place), and
    intersections with facets. Url None on a flat vocabulary."""
    picks, below = tree_picks(ranked)
    faceted = [("faceted intersection, mid pair (10+20)", f"/tags/{slugs(mid_pair)}/?{FACETS}", TAG_TARGET, "faceted")]
    if not picks:
        return [
            ("parent tag, root", None, TAG_TARGET, "parent"),
            ("parent tag, mid-level", None, TAG_TARGET, "parent_mid"),
            ("parent × tag", None, TAG_TARGET, "parent_x_tag"),
            ("leaf pair", None, TAG_TARGET, "leaf_pair"),
            *faceted,
            ("faceted parent × tag", None, TAG_TARGET, "faceted_parent"),
        ]
    root, mid, elsewhere, leaf = picks["root"], picks["mid"], picks["elsewhere"], picks["leaf"]
    return [
        (
            f"parent tag, root ({root.name}, {below[root.pk]} below, {root.entry_count:,})",
            f"/tags/{root.slug}/",
            TAG_TARGET,
            "parent",
        ),
        (
            f"parent tag, mid-level ({mid.name}, {below[mid.pk]} below, {mid.entry_count:,})",
            f"/tags/{mid.slug}/",
            TAG_TARGET,
            "parent_mid",
        ),
        (
            f"parent × tag ({root.name} + {elsewhere.name})",
            f"/tags/{slugs([root, elsewhere])}/",
            TAG_TARGET,
            "parent_x_tag",
        ),
        (
            f"leaf pair ({leaf.name} + {elsewhere.name})",
            f"/tags/{slugs([leaf, elsewhere])}/",
            TAG_TARGET,
            "leaf_pair",
        ),
        *faceted,
        (
            f"faceted parent × tag ({root.name} + {elsewhere.name})",
            f"/tags/{slugs([root, elsewhere])}/?{FACETS}",
            TAG_TARGET,
            "faceted_parent",
        ),
    ]


def benchmark_pages():
    """(name, url, target ms or None) for every page the issues list; and
    the picks: {"popular", "mid_pair", "ranked", "keys": {page name: key}
    for the pages of the category tree}."""
    ranked = ranked_tags()
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
    tree = tree_pages(ranked, mid_pair)
    pages += [(name, url, target) for name, url, target, _key in tree]
    keys = {name: key for name, _url, _target, key in tree}
    return pages, {"popular": popular, "mid_pair": mid_pair, "ranked": ranked, "keys": keys}


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
    except Exception as error:  # a broken page is reported, and the other pages still measured
        return {"status": 500, "error": f"{type(error).__name__}: {error}"[:200]}
    if time.perf_counter() - started > 3:
        # A page taking seconds misses its target by far already; a few
        # samples say so without holding the run up for minutes.
        requests = min(requests, 5)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    sql = [query["sql"] for query in queries.captured_queries]
    # The database's share of that request (the rest of p50 is Python:
    # views, templates); read now, as the next request clears the query log.
    sql_ms = sum(float(query["time"]) for query in queries.captured_queries) * 1000
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
        "sql_ms": sql_ms,
        "samples": len(times),
        "p50": statistics.median(times),
        "p95": percentile(times, 0.95),
        "max": max(times),
    }


def measure_interleaved(client, rows, requests):
    """{key: {"p50", "p95", "samples"}} of ``rows`` (measured pages), their
    requests taking turns."""
    times = {row["key"]: [] for row in rows}
    for _ in range(requests):
        for row in rows:
            started = time.perf_counter()
            client.get(row["url"])
            times[row["key"]].append((time.perf_counter() - started) * 1000)
    return {
        key: {"p50": statistics.median(values), "p95": percentile(values, 0.95), "samples": len(values)}
        for key, values in times.items()
    }


def intersection_plan(pair, filters=None):
    postings = EntryTag.objects.published_with_all(list(pair), filters=filters)[: settings.LISTING_PAGE_SIZE + 1]
    return postings.explain(analyze=True, buffers=True)


def page_plan(url):
    """EXPLAIN ANALYZE of the listing query of a tag page's first page."""
    path, _, query = url.partition("?")
    tags, _canonical = resolve_tags(path.strip("/").removeprefix("tags/"))
    return intersection_plan(tags, ListingFilterForm(QueryDict(query)).values)


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
            row = {"name": name, "url": url, "target": target, "key": picked["keys"].get(name)}
            if url is None or not resolves(url):
                row["skipped"] = (
                    "no such page yet" if url else "no category tree" if row["key"] else "no entry of this kind"
                )
            else:
                row.update(measure(client, url, args.requests))
            results.append(row)
            print(
                f"{name:40} {row.get('error', '')} {row.get('p50', 0):8.1f} ms p50 {row.get('p95', 0):8.1f} ms p95 "
                f"{row.get('queries', '-')} queries",
                file=sys.stderr,
            )
        compared = [row for row in results if row["key"] in INTERLEAVED and row.get("status") == 200]
        interleaved = measure_interleaved(client, compared, args.requests) if len(compared) == len(INTERLEAVED) else {}
    studies = Entry.objects.filter(kind=EntryKind.STUDY).count()
    parents = parent_map()
    json.dump(
        {
            "studies": studies,
            "entries": Entry.objects.count(),
            "postings": EntryTag.objects.count(),
            "tags": len(picked["ranked"]),
            "tree_depth": 1 + max((len(ancestor_ids(tag_id, parents)) for tag_id in parents), default=0),
            "inherited_postings": EntryTag.objects.filter(inherited=True).count(),
            "pages": results,
            "tree_interleaved": interleaved,
            "explain_pair": [f"{tag.name} ({tag.entry_count:,})" for tag in picked["mid_pair"]],
            "explain": intersection_plan(picked["mid_pair"]) if connection.vendor == "postgresql" else "",
            # The category tree's intersections: their first page's listing query.
            "explain_tree": [
                {"name": row["name"], "url": row["url"], "plan": page_plan(row["url"])}
                for row in results
                if row["key"] in ("parent_x_tag", "faceted") and "p50" in row and connection.vendor == "postgresql"
            ],
            "postgres": connection.cursor().connection.info.server_version
            if connection.vendor == "postgresql"
            else None,
        },
        sys.stdout,
        indent=1,
    )


if __name__ == "__main__":
    main()
