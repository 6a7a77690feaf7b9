"""The baseline of bench/: the cheapest response the stack can give.

Served at /bench/hello only when K2_BENCH_HELLO is on. Its requests per
second, through the same server and middleware, is what cached pages are
measured against (bench/RESULTS.md)."""

from django.http import HttpResponse


def hello(request):
    return HttpResponse("hello", content_type="text/plain")
