"""The project's middlewares: refusing NUL characters in addresses, the
whole-page cache for anonymous visitors, and scheduled publishing without a
cron job.

Page cache: invalidated by one counter.

A public page is the same for every anonymous visitor, so the first one's
response is kept and the next ones get it without touching the database. The
key of a page is its address; the cached value carries the content version
(``catalog.content_version``) it was rendered under, and every
publish, change or unpublish bumps that version — so one increment makes
every cached page stale at once, on every app server sharing the cache
(Redis via CACHE_URL; local memory only reaches its own process).

A short time-to-live bounds what no write announces. Scheduled publishing
is announced by no write, so a page is also never kept past the next
scheduled publish or expiry time: past it, the page is rendered again (and
rendering decides visibility exactly), so a scheduled entry shows, and an
expired one goes, on time.

Never cached: requests carrying a session or messages cookie (editors,
anyone who logged in, anyone about to see a flash message), anything but
GET/HEAD, the admin and preview pages, responses other than 200, responses
that set a cookie (a CSRF token in a form makes a page personal) or that say
private/no-cache/no-store. Off while DEBUG is on, so template edits show at once.

The web server in front keeps pages too (issue 16: nginx ``proxy_cache``,
deploy/nginx-page-cache.conf), for at most ``WEB_CACHE_SECONDS``: every page
this cache would share is marked ``Cache-Control: public, max-age=0,
s-maxage=N`` (N: to the end of the current five-second slice, never past the
next scheduled change), everything answered to a request with a session or
messages cookie ``private``. Expired, nginx asks again (one request; the
others get the copy it has meanwhile). A short lifetime rather than a purge
on publish: stock nginx has no purge, several servers or a CDN in front would
each need one, and a publish then shows within N seconds (5) without the app
knowing who is in front of it. Browsers are told max-age=0: they revalidate
(a 304) and never keep a page past a change. Where nginx runs on the app's
machine, the pages marked so are also written as files it sends itself, for
the rest of the same slice (``PageFileMiddleware``, ``k2site.page_files``).
"""

import hashlib
import time

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import DatabaseError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import cc_delim_re, patch_cache_control, set_response_etag

from catalog.content_version import CONTENT_VERSION_KEY
from catalog.indexing import next_visibility_change, refresh_scheduled
from k2site import page_files

# Seconds a page may be served from the cache at most (see above).
PAGE_CACHE_SECONDS = 15


def share(response, next_change):
    """Let shared caches (the web server in front) keep this public page until
    the current five-second slice ends (at most WEB_CACHE_SECONDS), never past
    ``next_change`` (the next scheduled change); and mark it for the page
    files (``shared_until``, k2site.page_files). Ending with the slice,
    nginx's copy expires just when its page files move on to a new slice,
    and the request that refreshes it writes the new slice's file. Not
    bounded by this cache's own time-to-live: the web server asks again
    within seconds anyway."""
    now = time.time()
    # nginx keeps a copy through the whole second its s-maxage ends in.
    to_slice_end = page_files.slice_end(now) - int(now) - 1
    seconds = int(min(settings.WEB_CACHE_SECONDS, to_slice_end, next_change - now))
    if seconds > 0:
        response["Cache-Control"] = f"public, max-age=0, s-maxage={seconds}"
    response.shared_until = next_change
    return response


NOT_CACHED_PREFIXES = ("/admin/", "/preview/", "/accounts/", "/bench/", "/healthz", "/media/", "/static/")
PERSONAL_CACHE_CONTROL = {"private", "no-cache", "no-store"}


def page_key(request):
    url = request.build_absolute_uri()
    # "2": the cached value gained the next scheduled change (no old entry may match).
    return "k2site:page:2:" + hashlib.sha1(url.encode(), usedforsecurity=False).hexdigest()


def is_anonymous_request(request):
    """Judged by cookies alone, before anything loads a session."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and CookieStorage.cookie_name not in cookies


def is_cacheable_response(response):
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    directives = {
        directive.split("=")[0].strip().lower() for directive in cc_delim_re.split(response.get("Cache-Control", ""))
    }
    return not directives & PERSONAL_CACHE_CONTROL


class PageCacheMiddleware:
    """Serve and store anonymous GETs of public pages (see the module docstring).

    Sits near the end of MIDDLEWARE: the middleware above it still runs on a
    hit (security headers, ETag/304), the scheduled-publishing check and the
    view with its queries do not: a hit costs one cache round trip."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_anonymous_request(request):
            # An editor's or a logged-in reader's page is theirs alone: no
            # shared cache may keep it, nor hand them a visitor's copy
            # (nginx also bypasses its cache for these cookies).
            response = self.get_response(request)
            patch_cache_control(response, private=True)
            return response
        if settings.DEBUG or request.method not in ("GET", "HEAD") or request.path.startswith(NOT_CACHED_PREFIXES):
            return self.get_response(request)

        key = page_key(request)
        # The version is read before the view runs: a change committed while
        # the page renders bumps it again, so that page is stored stale-marked.
        found = cache.get_many([CONTENT_VERSION_KEY, key])
        version = found.get(CONTENT_VERSION_KEY)
        if version is None:
            # Not 1: if the counter was evicted, pages stored under an old
            # small number must not match again.
            cache.add(CONTENT_VERSION_KEY, time.time_ns(), timeout=None)
            version = cache.get(CONTENT_VERSION_KEY)
            if version is None:
                # The cache is unavailable (k2site.cache_backend): serve
                # uncached rather than store pages no version can vouch for.
                return self.get_response(request)
        cached = found.get(key)
        if cached is not None and cached[0] == version and time.time() < cached[2]:
            return share(cached[1], cached[3])

        response = self.get_response(request)
        if is_cacheable_response(response):
            next_change = self.next_change(version)
            fresh_until = min(time.time() + PAGE_CACHE_SECONDS, next_change)
            if request.method == "HEAD":
                return share(response, next_change)
            # The ETag travels with the cached copy: conditional GETs on a hit
            # (ConditionalGetMiddleware) then cost no hashing.
            if not response.has_header("ETag"):
                set_response_etag(response)
            # One chunk: a feed is written in thousands of small pieces, and
            # the server would send each on its own (200 instead of 2,000
            # responses a second).
            response.content = response.content
            cache.set(key, (version, response, fresh_until, next_change), PAGE_CACHE_SECONDS)
            return share(response, next_change)
        return response

    @staticmethod
    def next_change(version):
        """The next scheduled publish or expiry time (a timestamp; infinity if
        none). Looked up once per content version and time-to-live, not per page."""
        key = f"k2site:next-change:{version}"
        next_change = cache.get(key)
        if next_change is None:
            at = next_visibility_change()
            # Infinity, not None, when nothing is scheduled: a stored None
            # would read as a miss and query again on every page.
            next_change = at.timestamp() if at else float("inf")
            cache.set(key, next_change, PAGE_CACHE_SECONDS)
        return next_change


class PageFileMiddleware:
    """Write each page shared above as a file nginx sends itself for the rest
    of the five-second slice (``k2site.page_files``). First in MIDDLEWARE:
    the file must hold the response as it leaves, with every header the
    other middleware added."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.WEB_CACHE_DIR and request.method == "GET" and is_anonymous_request(request):
            page_files.keep(request, response)
        return response


# How often (seconds) a server process looks for entries whose publish or
# expiry time has passed, to bring tag counts and cached pages up to date.
# Visibility itself is exact at every request; only counts wait this long.
SCHEDULE_CHECK_INTERVAL = 5
SCHEDULE_CHECK_KEY = "k2site:schedule-check"


class ScheduledVisibilityMiddleware:
    """Scheduled publishing without a cron job: the first request after an
    entry's time comes catches the counts and the page cache up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # cache.add succeeds for one request per interval across all servers
        # sharing the cache (never while the cache is unavailable: counts
        # then wait, visibility itself is exact). The health check is left
        # alone: it must answer for the database alone.
        if request.path != "/healthz" and cache.add(SCHEDULE_CHECK_KEY, 1, timeout=SCHEDULE_CHECK_INTERVAL):
            try:
                refresh_scheduled()
            except DatabaseError:
                # The page will say so (k2site.views.server_error); counts catch up later.
                cache.delete(SCHEDULE_CHECK_KEY)
        return self.get_response(request)


class RejectNulMiddleware:
    """A NUL character in the path or the query string is a 400 with a
    message, before anything reads it: no page, filter or search accepts
    one, and PostgreSQL refuses it in text (a 500 otherwise). Form posts
    are covered by Django's own field validation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            message = "The address contains a NUL character (%00), which no page accepts."
            if request.path.startswith("/api/"):
                # The API's error shape: the parameters at fault named (api.exceptions).
                names = {name for name, value in request.GET.lists() if any("\x00" in item for item in value)}
                names |= {name for name in request.GET if "\x00" in name}
                errors = {name.replace("\x00", "%00"): [message] for name in sorted(names)} or {"path": [message]}
                return JsonResponse({"detail": message, "errors": errors}, status=400)
            return render(request, "400.html", {"exception": message}, status=400)
        return self.get_response(request)


def client_ip(request):
    """The visitor's address, for login throttling (django-axes): behind the
    TLS proxy the X-Real-IP header it sets, else the connection's address."""
    if settings.BEHIND_PROXY and request.META.get("HTTP_X_REAL_IP"):
        return request.META["HTTP_X_REAL_IP"]
    return request.META.get("REMOTE_ADDR")
