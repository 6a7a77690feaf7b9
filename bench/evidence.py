"""What issue 14's evidence features cost on a seeded database, written to
bench/EVIDENCE.md:

- the evidence timeline: each tag and intersection page with the chart and
  without it (``EVIDENCE_TIMELINE`` off), requests taking turns, target ≤ 1.5×;
- a digest run (``send_digests``): subscriptions to popular, mid, rare and
  filtered topics, daily and weekly, with a day's or a week's new entries,
  mail to Django's in-memory backend (the site's own cost, not a mail server's).

    DATABASE_URL=postgres://…/k2_bench_1000000 DJANGO_SECRET_KEY=bench \\
        .venv/bin/python bench/evidence.py --subscriptions 2000

The subscriptions are written, sent and deleted again: the database is left
as it was. Nothing in the entries changes: the run's clock is set just after
the newest publication, so the seeded dates give the windows their entries.
"""

import argparse
import datetime
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
from django.core import mail  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.measure import FACETS, percentile, pick, ranked_tags, slugs  # noqa: E402
from bench.run import machine_line  # noqa: E402
from catalog.models import Entry, EntryKind, EntryTag  # noqa: E402
from following import digests  # noqa: E402
from following.models import Delivery, Frequency, Subscription  # noqa: E402
from k2site.middleware import SCHEDULE_CHECK_KEY  # noqa: E402

TIMELINE_RATIO_TARGET = 1.5
BENCH_DOMAIN = "bench.invalid"  # the subscriptions this script writes, and deletes


def timeline_pages(ranked):
    mid_pair = pick(ranked, 10, 20)
    return [
        ("popular tag", f"/tags/{pick(ranked, 1)[0].slug}/"),
        ("rare tag", f"/tags/{pick(ranked, 200)[0].slug}/"),
        ("2 tags, popular pair (1+2)", f"/tags/{slugs(pick(ranked, 1, 2))}/"),
        ("2 tags, mid pair (10+20)", f"/tags/{slugs(mid_pair)}/"),
        ("2 tags, rare pair (100+200)", f"/tags/{slugs(pick(ranked, 100, 200))}/"),
        ("3 tags, mid (10+20+30)", f"/tags/{slugs(pick(ranked, 10, 20, 30))}/"),
        ("faceted intersection, mid pair", f"/tags/{slugs(mid_pair)}/?{FACETS}"),
    ]


def measure_timeline(ranked, requests):
    """Each page with and without the chart, one request of each in turn."""
    middleware = [name for name in settings.MIDDLEWARE if name != "k2site.middleware.PageCacheMiddleware"]
    client = Client(HTTP_HOST="localhost")
    rows = []
    with override_settings(MIDDLEWARE=middleware):
        for name, url in timeline_pages(ranked):
            times = {True: [], False: []}
            queries = {}
            for shown in (True, False):
                with override_settings(EVIDENCE_TIMELINE=shown):
                    for _ in range(3):
                        client.get(url)
                    with CaptureQueriesContext(connection) as captured:
                        response = client.get(url)
                    assert response.status_code == 200, (url, response.status_code)
                    # An empty listing has no chart to draw, on or off.
                    assert shown or b"timeline-caption" not in response.content, url
                    queries[shown] = len(captured.captured_queries)
            for _ in range(requests):
                for shown in (True, False):
                    with override_settings(EVIDENCE_TIMELINE=shown):
                        started = time.perf_counter()
                        client.get(url)
                        times[shown].append((time.perf_counter() - started) * 1000)
            with_chart, without = statistics.median(times[True]), statistics.median(times[False])
            rows.append(
                {
                    "name": name,
                    "url": url,
                    "with": with_chart,
                    "with_p95": percentile(times[True], 0.95),
                    "without": without,
                    "without_p95": percentile(times[False], 0.95),
                    "ratio": with_chart / without,
                    "queries_with": queries[True],
                    "queries_without": queries[False],
                }
            )
            ratio = with_chart / without
            print(f"{name:36} {with_chart:7.1f} ms with, {without:7.1f} without: {ratio:.2f}×", file=sys.stderr)
    return rows


def digest_topics(ranked):
    """(slugs, filters) of followed topics: single tags across the ranks,
    pairs, a three-tag intersection, filtered views."""
    topics = [(tag.slug, "") for tag in pick(ranked, 1, 2, 3, 5, 10, 20, 50, 100, 200)]
    for ranks in ((1, 2), (10, 20), (100, 200), (3, 30)):
        topics.append((slugs(sorted(pick(ranked, *ranks), key=lambda tag: tag.slug)), ""))
    topics.append((slugs(sorted(pick(ranked, 10, 20, 30), key=lambda tag: tag.slug)), ""))
    topics.append((pick(ranked, 1)[0].slug, "type=rct"))
    topics.append((slugs(sorted(pick(ranked, 10, 20), key=lambda tag: tag.slug)), "type=meta_analysis&year_min=2010"))
    return topics


def measure_digests(ranked, count):
    """One ``send_digests`` run over ``count`` due subscriptions."""
    newest = Entry.objects.published().aggregate(newest=Max("publish_at"))["newest"]
    now = newest + digests.SETTLE + datetime.timedelta(minutes=1)
    topics = digest_topics(ranked)
    subscriptions = []
    for number in range(count):
        slugs_, filters = topics[number % len(topics)]
        weekly = number % 4 == 3
        subscriptions.append(
            Subscription(
                email=f"reader{number}@{BENCH_DOMAIN}",
                slugs=slugs_,
                filters=filters,
                frequency=Frequency.WEEKLY if weekly else Frequency.DAILY,
                confirmed_at=now - datetime.timedelta(days=30),
                cutoff=now - datetime.timedelta(days=7 if weekly else 1),
                next_due_at=now - datetime.timedelta(minutes=1),
            )
        )
    window_day = Entry.objects.published().filter(publish_at__gt=now - datetime.timedelta(days=1)).count()
    Subscription.objects.filter(email__endswith="@" + BENCH_DOMAIN).delete()
    Subscription.objects.bulk_create(subscriptions)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                report = digests.run(now=now, root="https://example.org")
                seconds = time.perf_counter() - started
            messages = len(mail.outbox)
            # Run again at once: nothing is due, nothing is sent twice.
            again = digests.run(now=now, root="https://example.org")
    finally:
        Delivery.objects.filter(subscription__email__endswith="@" + BENCH_DOMAIN).delete()
        Subscription.objects.filter(email__endswith="@" + BENCH_DOMAIN).delete()
    result = {
        "subscriptions": count,
        "topics": len(topics),
        "new_in_a_day": window_day,
        "seconds": seconds,
        "queries": len(captured.captured_queries),
        "messages": messages,
        "nothing_new": report.nothing_new,
        "second_run_sent": len(again.sent),
    }
    print(f"digests: {result}", file=sys.stderr)
    return result


def write_report(path, timeline, digest, requests):
    studies = Entry.objects.filter(kind=EntryKind.STUDY).count()
    machine = machine_line()
    database = "SQLite"
    if connection.vendor == "postgresql":
        database = f"PostgreSQL {connection.cursor().connection.info.server_version // 10000}"
    lines = [
        "# Evidence timeline and topic digests at scale (issue 14)",
        "",
        f"Measured {datetime.date.today():%d %b %Y} on {machine}, {database}; "
        f"{studies:,} studies, {Entry.objects.count():,} entries, {EntryTag.objects.count():,} postings "
        "(`seed_bench --tree 3`). Load average before the run: "
        f"{os.getloadavg()[0]:.1f}.",
        "",
        "Repeat: `DATABASE_URL=postgres://…/k2_bench_1000000 DJANGO_SECRET_KEY=bench "
        ".venv/bin/python bench/evidence.py` on a database seeded by `make bench` "
        "(`bench/run.py --keep`) or by `manage.py seed_bench --studies 1000000 --tree 3`.",
        "",
        "## The timeline's cost",
        "",
        f"Server time in the process (Django's test client, page cache off), {requests} requests of each "
        "page with the chart and without it (`EVIDENCE_TIMELINE=0`), taking turns, after 3 warm-up ones. "
        f"Target: with ≤ {TIMELINE_RATIO_TARGET}× without.",
        "",
        "| page | with p50 / p95 ms | without p50 / p95 ms | ratio (p50) | queries with / without | meets |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in timeline:
        meets = "✓" if row["ratio"] <= TIMELINE_RATIO_TARGET else "✗"
        lines.append(
            f"| {row['name']} (`{row['url']}`) | {row['with']:.1f} / {row['with_p95']:.1f} | "
            f"{row['without']:.1f} / {row['without_p95']:.1f} | {row['ratio']:.2f}× | "
            f"{row['queries_with']} / {row['queries_without']} | {meets} |"
        )
    lines += [
        "",
        "The chart's data is the facets' (one tag: the counts kept at write time; an intersection: "
        "the same bounded sample of ≤ 1,000 matches the design facets read) plus, for an intersection, "
        "one read of the rarest tag's year counts: one query more, whatever the sizes.",
        "",
        "## A digest run",
        "",
        f"`following.digests.run` (what `manage.py send_digests` runs) over {digest['subscriptions']:,} due "
        f"subscriptions to {digest['topics']} topics (single tags from the most used to the 200th, pairs, "
        "a three-tag intersection, filtered views; three in four daily, one in four weekly), "
        f"the clock set just after the newest publication ({digest['new_in_a_day']:,} entries published "
        "in the last day). Mail goes to Django's in-memory backend, so this is the site's own cost.",
        "",
        "| subscriptions | messages | nothing new | wall time | per subscription | queries | sent by a second run |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {digest['subscriptions']:,} | {digest['messages']:,} | {digest['nothing_new']:,} | "
        f"{digest['seconds']:.1f} s | {digest['seconds'] / digest['subscriptions'] * 1000:.1f} ms | "
        f"{digest['queries']:,} | {digest['second_run_sent']} |",
        "",
        "Each topic's new entries are read once per run, however many follow it "
        "(`Topic.new_entries`, on the partial index of published entries by publication time); the "
        "rest is a claim and a conditional update per subscription, and rendering the message.",
        "",
    ]
    Path(path).write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--subscriptions", type=int, default=2000)
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "EVIDENCE.md"))
    args = parser.parse_args()
    assert not settings.DEBUG, "measure with DJANGO_DEBUG off"
    cache.add(SCHEDULE_CHECK_KEY, 1, timeout=3600)
    ranked = ranked_tags()
    timeline = measure_timeline(ranked, args.requests)
    digest = measure_digests(ranked, args.subscriptions)
    write_report(args.output, timeline, digest, args.requests)


if __name__ == "__main__":
    main()
