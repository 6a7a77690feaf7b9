from django.core.cache import cache

from .services import refresh_scheduled

# How often (seconds) a server process looks for entries whose publish or
# expiry time has passed, to bring tag counts and cached pages up to date.
# Visibility itself is exact at every request; only counts wait this long.
SCHEDULE_CHECK_INTERVAL = 5


class ScheduledVisibilityMiddleware:
    """Scheduled publishing without a cron job: the first request after an
    entry's time comes catches the counts and the page cache up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # cache.add succeeds for one request per interval across all servers
        # sharing the cache.
        if cache.add("k2site:schedule-check", 1, timeout=SCHEDULE_CHECK_INTERVAL):
            refresh_scheduled()
        return self.get_response(request)
