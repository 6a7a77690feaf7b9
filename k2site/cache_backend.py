"""The cache backend for CACHE_URL=redis://…, failing soft.

The cache only speeds pages up, so a Redis that refuses connections or
accepts and never answers must cost a page its speed, never its answer: every
call has short connect and read time-outs, and any error reads as a miss
(``get`` → default, ``add``/``set`` → not stored, ``incr`` → ValueError as
for a missing key). After an error the process skips the cache for
``RETRY_AFTER`` seconds, so a hanging Redis does not cost every request its
time-outs again, and logs one warning per ``LOG_INTERVAL``, not one per
request.
"""

import logging
import math
import threading
import time

from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# Seconds: connecting and each read; a local Redis answers in well under 1 ms.
SOCKET_TIMEOUT = 0.25
RETRY_AFTER = 5.0
LOG_INTERVAL = 60.0

# Per process and server (cache objects are per thread): when the cache may
# be tried again, and when an outage was last logged.
_state_lock = threading.Lock()
_down_until = {}
_logged_at = {}


class FailSoftRedisCache(RedisCache):
    def __init__(self, server, params):
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT)
        # No retries: a retry only doubles the wait, the next request tries again.
        options.setdefault("retry", Retry(NoBackoff(), 0))
        super().__init__(server, params)
        self._location = str(server)

    def _attempt(self, method, fallback, *args, **kwargs):
        if time.monotonic() < _down_until.get(self._location, 0.0):
            return fallback()
        try:
            return getattr(super(), method)(*args, **kwargs)
        except (RedisError, OSError) as error:
            self._went_down(error)
            return fallback()

    def _went_down(self, error):
        now = time.monotonic()
        with _state_lock:
            _down_until[self._location] = now + RETRY_AFTER
            if now - _logged_at.get(self._location, -math.inf) < LOG_INTERVAL:
                return
            _logged_at[self._location] = now
        logger.warning(
            "Cache %s unavailable (%s: %s); serving without it, trying again every %.0f s.",
            self._location,
            type(error).__name__,
            error,
            RETRY_AFTER,
        )

    def add(self, *args, **kwargs):
        return self._attempt("add", lambda: False, *args, **kwargs)

    def get(self, key, default=None, version=None):
        return self._attempt("get", lambda: default, key, default, version)

    def set(self, *args, **kwargs):
        return self._attempt("set", lambda: None, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._attempt("touch", lambda: False, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._attempt("delete", lambda: False, *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._attempt("get_many", dict, *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._attempt("has_key", lambda: False, *args, **kwargs)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (cache unavailable).")

        return self._attempt("incr", missing, key, delta, version)

    def set_many(self, data, *args, **kwargs):
        return self._attempt("set_many", lambda: list(data), data, *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._attempt("delete_many", lambda: None, *args, **kwargs)

    def clear(self):
        return self._attempt("clear", lambda: None)
