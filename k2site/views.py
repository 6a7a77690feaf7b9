"""Operations views: health check, robots.txt, and the benchmark's baseline."""

from django.db import connection
from django.http import HttpResponse
from django.urls import reverse


def healthz(request):
    """Load balancers ask this: the app answers and the database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /preview/", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain")


def hello(request):
    """The baseline of bench/: the cheapest response the stack can give.
    Served at /bench/hello only when K2_BENCH_HELLO is on; cached pages are
    measured against its requests per second (bench/RESULTS.md)."""
    return HttpResponse("hello", content_type="text/plain")
