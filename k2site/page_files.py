"""Public pages as files the web server sends itself (issue 16).

nginx's ``proxy_cache`` serves a kept page at 70–80% of the rate it sends a
static file (a cache lookup, a stored header to read and parse on every hit;
bench/WEB_CACHE.md). So the app also writes each public page it shares as a
plain file, and nginx sends it with ``try_files`` like any static file
(deploy/nginx-page-files.conf).

Freshness without a purge: the files live in a directory named for the
five-second slice of time they were written in (``BUCKET_SECONDS``), and
nginx only looks in the current slice's directory (a ``map`` of its clock),
so a file is served for at most five seconds after it was written, the
bound the proxy cache gives (``WEB_CACHE_SECONDS``), with nothing to
delete in time: a publish, an unpublish or a scheduled change reaches every
visitor within the slice. The first request of each slice comes to the app
and is answered from its own page cache (one Redis round trip), which
writes the slice's file. A page whose next scheduled change falls inside
the slice is not written at all. Old slices are removed when a new one
starts.

What is written is what ``k2site.middleware.share`` marked shareable
(anonymous GETs of public pages, never a draft),
as it leaves the app (``PageFileMiddleware``, first in MIDDLEWARE), and
never for a request with a session or messages cookie — nginx does not look
for files for those requests either.
Only pages whose headers nginx can give back exactly: an HTML page or an
Atom feed whose other headers are the site's own (``site_headers``: the
security headers every response carries, written into nginx's configuration
by ``python -m k2site.page_files``), and an address nginx names the same way
(a normalised path; a query string of plain characters, no ``/``).

Needs the app and nginx on one machine (``WEB_CACHE_DIR`` shared); with
several app servers, leave it unset and the proxy cache alone serves.
"""

import functools
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.http.request import split_domain_port

logger = logging.getLogger(__name__)

# The slice of time a file is served for; deploy/nginx-page-files.conf cuts
# nginx's clock ($msec) into the same slices.
BUCKET_SECONDS = 5
# Content types nginx gives back from the file's extension (the `types`
# block in deploy/nginx-page-files.conf says the same).
EXTENSIONS = {"text/html; charset=utf-8": "html", "application/atom+xml; charset=utf-8": "atom"}
# Headers that belong to one page; nginx makes its own for a file (ETag and
# Last-Modified from the file, Content-Type from the extension). Every other
# header a filed page carries must be one of the site's own.
PAGE_HEADERS = {"content-type", "content-length", "etag", "last-modified", "cache-control"}
# The query strings nginx looks for (the same class in the nginx map): no
# "/", so a query cannot name a file outside the page's own directory.
PLAIN_QUERY = re.compile(r"[A-Za-z0-9=&%+._~-]*\Z")
# The longest file name Linux file systems take.
NAME_MAX = 255


def current_bucket(now=None):
    now = time.time() if now is None else now
    return int(now) // BUCKET_SECONDS * BUCKET_SECONDS


def slice_end(now=None):
    """When the current slice ends (a whole second)."""
    return current_bucket(now) + BUCKET_SECONDS


def relative_path(request, extension):
    """Where nginx will look for this page, below the slice's directory
    (``$host$uri@$args.<extension>``), or None if it would look nowhere."""
    path = request.path
    query = request.META.get("QUERY_STRING", "")
    if not PLAIN_QUERY.match(query) or os.path.normpath(path).rstrip("/") != path.rstrip("/") or "//" in path:
        return None
    host, _port = split_domain_port(request.get_host())
    if not host or "/" in host:
        return None
    relative = f"{host}{path}@{query}.{extension}"
    # A name the file system refuses (a long query string): nginx finds no
    # file either, and the app answers; nothing to write, nothing to log.
    if any(len(part.encode()) > NAME_MAX for part in relative.split("/")):
        return None
    return relative


@functools.cache
def site_headers():
    """The headers the site puts on every response (security headers), as
    the app answers an HTTPS request for its health check."""
    from django.core.handlers.base import BaseHandler
    from django.test import RequestFactory

    hosts = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host not in ("*", ".")]
    request = RequestFactory().get(
        "/healthz", secure=True, HTTP_HOST=hosts[0] if hosts else "localhost", HTTP_X_FORWARDED_PROTO="https"
    )
    handler = BaseHandler()
    handler.load_middleware()
    response = handler.get_response(request)
    if response.status_code != 200:
        # Not kept (functools.cache): the database was away; ask again next time.
        raise RuntimeError(f"the health check answered {response.status_code}")
    return {name: value for name, value in response.items() if name.lower() not in PAGE_HEADERS}


def keep(request, response):
    """Write this page where nginx looks for it in the current slice, if the
    app shared it (``shared_until``, set by k2site.middleware.share) for at
    least the rest of the slice and nginx can send it as the app did. Never
    fails the request: a full disk only costs speed."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return
    extension = EXTENSIONS.get(response.get("Content-Type"))
    now = time.time()
    bucket = current_bucket(now)
    # Stops at the next scheduled change: a page due to change within the slice is not written.
    if extension is None or getattr(response, "shared_until", 0) < slice_end(now):
        return
    relative = relative_path(request, extension)
    if relative is None:
        return
    try:
        own = site_headers()
    except RuntimeError:
        return
    if {name: value for name, value in response.items() if name.lower() not in PAGE_HEADERS} != own:
        return
    try:
        write(Path(settings.WEB_CACHE_DIR), bucket, relative, response.content)
    except OSError as error:
        logger.warning("Page file not written (%s): %s", relative, error)


def write(root, bucket, relative, content):
    """Atomically (a reader sees the old file or the whole new one)."""
    directory = root / str(bucket)
    try:
        directory.mkdir(parents=True)
    except FileExistsError:
        pass
    else:
        remove_old_buckets(root, bucket)
    target = directory / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.chmod(temporary, 0o644)  # nginx's workers run as another user
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def remove_old_buckets(root, bucket):
    """The first writer of a slice clears the slices before the last one
    (nginx may still be sending a file of the last one)."""
    for entry in root.iterdir():
        if entry.name.isdigit() and int(entry.name) < bucket - BUCKET_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)


def nginx_headers():
    """``add_header`` lines giving a file the site's own headers."""
    lines = ["# Written by `python -m k2site.page_files` from the app's settings: run it again after changing them."]
    for name, value in site_headers().items():
        if "$" in value or '"' in value or "\\" in value:
            # nginx would read a variable or an escape there.
            raise ValueError(f"{name}: {value!r} cannot be written as an nginx string")
        lines.append(f'add_header {name} "{value}" always;')
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # python -m k2site.page_files > /etc/nginx/snippets/k2site-page-headers.conf
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "k2site.settings")
    django.setup()
    sys.stdout.write(nginx_headers())
