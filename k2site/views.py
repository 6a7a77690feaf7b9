"""Operations views: health check, robots.txt, the error page, and the
benchmark's baseline."""

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader
from django.urls import reverse

logger = logging.getLogger(__name__)

# Seconds a client is told to wait when the database is unreachable.
RETRY_AFTER = 30


def healthz(request):
    """Load balancers ask this: the app answers and the database does too
    (plain text, 200 or 503). It never touches the cache."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("Health check: database unavailable (%s)", error)
        response = HttpResponse("database unavailable\n", content_type="text/plain", status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    return HttpResponse("ok", content_type="text/plain")


def server_error(request):
    """handler500: an unreachable database is a 503 with Retry-After, and any
    other error the plain 500 page. Rendered without a request context: no
    query, no session, nothing that could fail the same way again."""
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())


def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /preview/", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain")


def hello(request):
    """The baseline of bench/: the cheapest response the stack can give.
    Served at /bench/hello only when K2_BENCH_HELLO is on; cached pages are
    measured against its requests per second (bench/RESULTS.md)."""
    return HttpResponse("hello", content_type="text/plain")
