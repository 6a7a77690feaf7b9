"""Read replicas: a request's reads from a replica, everything else from the primary.

``DATABASE_REPLICA_URLS`` (k2site/settings.py) adds the aliases ``replica_0``,
``replica_1``, … and turns this router on. Where a query goes:

* Writes: the primary ("default"), always.
* Outside a request (management commands, the shell, migrations, the bench):
  the primary, reads too. Commands write and read back at once, and nothing
  would reset a pin for them; the replicas are there to carry page views.
* In a request: every read from one replica, picked at random among those up
  when the request first reads, unless the request is pinned to the primary:

  - at its start, when it is for the admin, is not a GET or HEAD, or carries
    a session cookie (someone logged in, e.g. an editor checking what they
    just saved: a lagging replica must not show them the old version, or
    lose the session they just logged in with);
  - by its first write: the reads after it see what it wrote;
  - for reads inside a transaction the request opened on the primary
    (they belong with it: read, then write what was read).

Lag: a replica is behind the primary by its replication lag (usually well
under a second), so a page read from it may show the site as it was that
long ago. Read-your-writes holds within a request and for logged-in users,
not for an anonymous visitor's next request.

Down: a replica that cannot be connected to is skipped for
``REPLICA_RETRY_SECONDS`` (per process) and its reads go to the primary: a
replica being down costs at most one connect timeout per period and never
fails a page. (One that dies in the middle of a request fails that request;
the next one checks again.)

The pinning state is per thread (an ``asgiref.local.Local``, as Django's
connections use), set by a receiver of ``request_started`` and cleared by
``request_finished``; both are connected when this module is imported (see
the end of the module). WSGI only, which is what the site runs (gunicorn,
runserver): a request without a WSGI environ (ASGI) is pinned to the primary.
"""

import contextlib
import logging
import random
import time

from asgiref.local import Local
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, Error, connections
from django.http.cookie import parse_cookie

logger = logging.getLogger(__name__)

# Seconds a replica that failed to connect is left alone (per process).
REPLICA_RETRY_SECONDS = 30

READ_ONLY_METHODS = ("GET", "HEAD")
ADMIN_PREFIX = "/admin/"

# in_request: between request_started and request_finished.
# pinned: this request reads from the primary.
# replica: the alias this request reads from, once chosen (may be the primary).
# atomic_depth: transactions open on the primary when the request started
# (none in production; in tests, the test case's own).
_state = Local()


def replica_aliases():
    """replica_0, replica_1, … as settings.py defines them from DATABASE_REPLICA_URLS."""
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


class PrimaryReplicaRouter:
    def __init__(self, replicas=None, retry_seconds=REPLICA_RETRY_SECONDS):
        self.replicas = list(replica_aliases() if replicas is None else replicas)
        self.retry_seconds = retry_seconds
        # alias -> time.monotonic() until which it counts as down.
        self.down_until = {}

    def db_for_read(self, model, **hints):
        if (
            not getattr(_state, "in_request", False)
            or getattr(_state, "pinned", False)
            or not self.replicas
            # A read inside a transaction this request opened on the primary.
            or len(connections[DEFAULT_DB_ALIAS].atomic_blocks) > _state.atomic_depth
        ):
            return DEFAULT_DB_ALIAS
        alias = getattr(_state, "replica", None)
        if alias is None:
            # Once per request: every read of a page sees one replica's state.
            alias = _state.replica = self.pick_replica()
        return alias

    def db_for_write(self, model, **hints):
        # Also for select_for_update() and get_or_create(): what follows in
        # this request reads the primary.
        _state.pinned = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # One database's contents under several names.
        ours = {DEFAULT_DB_ALIAS, *self.replicas}
        if obj1._state.db in ours and obj2._state.db in ours:
            return True
        return None

    def allow_migrate(self, db, app_label, **hints):
        # Replicas are read-only copies: only the primary is migrated.
        return db == DEFAULT_DB_ALIAS

    def pick_replica(self):
        """A replica that accepts a connection now, else the primary."""
        now = time.monotonic()
        candidates = [alias for alias in self.replicas if self.down_until.get(alias, 0) <= now]
        random.shuffle(candidates)
        for alias in candidates:
            if self.connects(alias):
                return alias
        return DEFAULT_DB_ALIAS

    def connects(self, alias):
        """Connect now rather than fail a query later. Costs nothing extra when
        connections are not kept (the page would connect anyway); a kept one
        gets one ``SELECT 1``, as Django's CONN_HEALTH_CHECKS would. A refused
        connection fails at once; an unreachable host after the replica's
        ``connect_timeout`` (settings.py)."""
        connection = connections[alias]
        try:
            if connection.connection is not None and not connection.is_usable():
                connection.close()
            connection.ensure_connection()
        except Error as error:
            self.down_until[alias] = time.monotonic() + self.retry_seconds
            logger.warning(
                "Read replica %s unavailable, reading from the primary for %d s: %s",
                alias,
                self.retry_seconds,
                error,
            )
            with contextlib.suppress(Error):
                connection.close()
            return False
        return True


def start_request(sender, environ=None, **kwargs):
    """A new request: forget the last one's pin and replica, and pin this one
    to the primary from the start if it is the admin's, a write, or a
    logged-in user's."""
    environ = environ or {}
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
    _state.in_request = True
    _state.replica = None
    _state.atomic_depth = len(connections[DEFAULT_DB_ALIAS].atomic_blocks)
    _state.pinned = (
        not environ
        or path.startswith(ADMIN_PREFIX)
        or path == ADMIN_PREFIX.rstrip("/")
        or method.upper() not in READ_ONLY_METHODS
        or settings.SESSION_COOKIE_NAME in parse_cookie(environ.get("HTTP_COOKIE", ""))
    )


def finish_request(sender, **kwargs):
    """Back to "outside a request": what runs next in this thread reads the primary."""
    _state.in_request = False
    _state.replica = None
    _state.pinned = False


# Connected on import. Django imports the router lazily, when the first query
# of the process asks it where to go (django.db.router.routers), which is
# after that first request's request_started: that request runs as "outside
# a request", on the primary only, and every later one is routed. Nothing has
# to be added to INSTALLED_APPS or MIDDLEWARE, and a missed start can only
# send reads to the primary, never a write's follow-up to a replica.
request_started.connect(start_request, dispatch_uid="k2site.db_router.start_request")
request_finished.connect(finish_request, dispatch_uid="k2site.db_router.finish_request")
