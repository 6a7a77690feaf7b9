"""One counter that every change a visitor could see bumps: cached pages
(k2site.middleware) key on it, so one increment makes them all stale at once."""

from django.core.cache import cache
from django.db import transaction

CONTENT_VERSION_KEY = "k2site:content-version"


def content_changed():
    """Invalidate every cached public page at once (cheap: one counter)."""
    try:
        cache.incr(CONTENT_VERSION_KEY)
    except ValueError:
        cache.set(CONTENT_VERSION_KEY, 1, timeout=None)


def announce_change():
    """Bump now and again at commit: a request that reads in between caches
    the old content under the first bump, and the second bump drops it."""
    content_changed()
    transaction.on_commit(content_changed)


def content_version():
    return cache.get_or_set(CONTENT_VERSION_KEY, 1, timeout=None)
