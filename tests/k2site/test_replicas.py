"""Read replicas (k2site/db_router.py, the block at the end of settings.py).

The router's decisions on real connections to the test database: a
"replica" here is the test database under another alias and connection (as
TEST MIRROR makes the replicas in a test run), a replica that is down an
address where no PostgreSQL listens. The end-to-end proof with a real
streaming replica is bench/replica/replica_check.py, run here too.
"""

import copy
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.utils import load_backend
from django.test import Client, override_settings

from catalog.models import Entry
from k2site import db_router
from k2site.db_router import PrimaryReplicaRouter

ROOT = Path(__file__).resolve().parents[2]
PROOF_SCRIPT = ROOT / "bench" / "replica" / "replica_check.py"


def closed_port():
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def aliases(db):
    """Add database aliases for one test: ``up(alias)`` is the test database
    under another name, ``down(alias)`` a PostgreSQL server that is not there.
    Their connections are made here rather than declared in settings: Django's
    test case lets a test use such connections, not undeclared aliases."""
    added = set()

    def add(alias, settings_dict):
        connections[alias] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
        added.add(alias)
        return alias

    def up(alias):
        return add(alias, copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict))

    def down(alias):
        settings_dict = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
        settings_dict.update(
            ENGINE="django.db.backends.postgresql",
            NAME="k2site",
            USER="postgres",
            PASSWORD="",
            HOST="127.0.0.1",
            PORT=closed_port(),
            OPTIONS={"connect_timeout": 2},
        )
        return add(alias, settings_dict)

    db_router.finish_request(sender=None)
    yield SimpleNamespace(up=up, down=down)
    db_router.finish_request(sender=None)
    for alias in added:
        connections[alias].close()
        del connections[alias]


def start(path="/", method="GET", cookie=""):
    """What request_started tells the router of a WSGI request (called
    directly: sending the signal would also run close_old_connections)."""
    db_router.start_request(sender=None, environ={"PATH_INFO": path, "REQUEST_METHOD": method, "HTTP_COOKIE": cookie})


def finish():
    db_router.finish_request(sender=None)


def test_outside_a_request_everything_goes_to_the_primary(aliases):
    router = PrimaryReplicaRouter(replicas=[aliases.up("replica_0")])
    assert router.db_for_read(Entry) == DEFAULT_DB_ALIAS
    assert router.db_for_write(Entry) == DEFAULT_DB_ALIAS


def test_public_reads_go_to_the_replica_until_the_request_writes(aliases):
    router = PrimaryReplicaRouter(replicas=[aliases.up("replica_0")])
    start("/tags/bone/")
    assert router.db_for_read(Entry) == "replica_0"
    assert router.db_for_read(Entry) == "replica_0"
    assert router.db_for_write(Entry) == DEFAULT_DB_ALIAS
    # Read-your-writes: the rest of the request reads the primary.
    assert router.db_for_read(Entry) == DEFAULT_DB_ALIAS
    finish()
    assert router.db_for_read(Entry) == DEFAULT_DB_ALIAS
    # The next request starts unpinned.
    start("/tags/bone/", method="HEAD")
    assert router.db_for_read(Entry) == "replica_0"


@pytest.mark.parametrize(
    "path, method, cookie",
    [
        ("/admin/", "GET", ""),
        ("/admin/studies/study/", "GET", ""),
        ("/admin", "GET", ""),
        ("/search/", "POST", ""),
        ("/studies/some-study/", "PUT", ""),
        ("/", "GET", "csrftoken=abc; sessionid=xyz"),
    ],
)
def test_admin_writes_and_logged_in_users_read_the_primary(aliases, path, method, cookie):
    router = PrimaryReplicaRouter(replicas=[aliases.up("replica_0")])
    start(path, method, cookie)
    assert router.db_for_read(Entry) == DEFAULT_DB_ALIAS


def test_a_request_without_a_wsgi_environ_reads_the_primary(aliases):
    """ASGI sends request_started with a scope: not routed, all on the primary."""
    router = PrimaryReplicaRouter(replicas=[aliases.up("replica_0")])
    db_router.start_request(sender=None, scope={"type": "http", "path": "/", "method": "GET"})
    assert router.db_for_read(Entry) == DEFAULT_DB_ALIAS


def test_an_anonymous_cookie_does_not_pin(aliases):
    router = PrimaryReplicaRouter(replicas=[aliases.up("replica_0")])
    start("/", cookie="csrftoken=abc")
    assert router.db_for_read(Entry) == "replica_0"


def test_reads_inside_a_transaction_on_the_primary_stay_there(aliases):
    router = PrimaryReplicaRouter(replicas=[aliases.up("replica_0")])
    start("/")
    with transaction.atomic():
        assert router.db_for_read(Entry) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Entry) == "replica_0"


def test_a_replica_that_is_down_falls_back_to_the_primary(aliases, caplog):
    router = PrimaryReplicaRouter(replicas=[aliases.down("replica_0")])
    for _ in range(3):
        start("/")
        started = time.monotonic()
        assert router.db_for_read(Entry) == DEFAULT_DB_ALIAS
        assert time.monotonic() - started < 1, "a refused connection fails at once"
        finish()
    # One attempt: marked down, the next requests did not try it again.
    warnings = [record for record in caplog.records if record.name == "k2site.db_router"]
    assert len(warnings) == 1
    assert "replica_0 unavailable" in warnings[0].getMessage()
    assert router.down_until["replica_0"] > time.monotonic() + 20


def test_a_replica_that_is_down_is_skipped_for_one_that_is_up(aliases):
    router = PrimaryReplicaRouter(replicas=[aliases.down("replica_0"), aliases.up("replica_1")])
    for _ in range(6):  # whichever the random pick tries first
        start("/")
        assert router.db_for_read(Entry) == "replica_1"
        finish()


def test_a_replica_is_tried_again_after_the_retry_time(aliases):
    down = aliases.down("replica_0")
    router = PrimaryReplicaRouter(replicas=[down], retry_seconds=0)
    start("/")
    assert router.db_for_read(Entry) == DEFAULT_DB_ALIAS
    # Back up under the same name: the next request reads from it again.
    finish()
    aliases.up(down)
    start("/")
    assert router.db_for_read(Entry) == down


def test_migrations_and_relations(aliases):
    router = PrimaryReplicaRouter(replicas=[aliases.up("replica_0")])
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "studies") is True
    assert router.allow_migrate("replica_0", "studies") is False
    on_primary, on_replica = Entry(), Entry()
    on_primary._state.db, on_replica._state.db = DEFAULT_DB_ALIAS, "replica_0"
    assert router.allow_relation(on_primary, on_replica) is True


class QueryLog:
    """The SQL each alias runs (execute_wrapper: the real queries, as run)."""

    def __init__(self, *aliases):
        self.queries = {alias: [] for alias in aliases}

    def __enter__(self):
        self.wrappers = []
        for alias, queries in self.queries.items():

            def record(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            wrapper = connections[alias].execute_wrapper(record)
            wrapper.__enter__()
            self.wrappers.append(wrapper)
        return self.queries

    def __exit__(self, *exc_info):
        for wrapper in reversed(self.wrappers):
            wrapper.__exit__(*exc_info)


@pytest.mark.parametrize(
    "method, session_cookie, reads_from",
    [("get", False, "replica_0"), ("post", False, DEFAULT_DB_ALIAS), ("get", True, DEFAULT_DB_ALIAS)],
)
def test_a_page_through_the_whole_stack(aliases, method, session_cookie, reads_from):
    """The test client sends request_started and request_finished as a
    server does, so this also shows the receivers are connected: the home
    page reads from the replica, unless pinned."""
    router = PrimaryReplicaRouter(replicas=[aliases.up("replica_0")])
    client = Client()
    if session_cookie:
        client.cookies[settings.SESSION_COOKIE_NAME] = "not-a-session"
    with override_settings(DATABASE_ROUTERS=[router]), QueryLog(DEFAULT_DB_ALIAS, "replica_0") as queries:
        response = getattr(client, method)("/")
    assert response.status_code == 200
    other = "replica_0" if reads_from == DEFAULT_DB_ALIAS else DEFAULT_DB_ALIAS
    assert any('FROM "k2site_entry"' in sql for sql in queries[reads_from])
    assert queries[other] == []


def test_settings_add_the_replicas_and_the_router():
    """The settings block, in a fresh process; and when Django imports the
    router (which connects the receivers): with the application (k2site.wsgi)."""
    program = """
import json, sys
import django
from django.conf import settings
import k2site.wsgi
at_startup = "k2site.db_router" in sys.modules
from django.db import router
from catalog.models import Entry
router.db_for_read(Entry)
print(json.dumps({
    "databases": settings.DATABASES,
    "routers": settings.DATABASE_ROUTERS,
    "imported_at_startup": at_startup,
    "imported_at_first_query": "k2site.db_router" in sys.modules,
}, default=str))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "k2site.settings",
        "DJANGO_SECRET_KEY": "x",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/k2site",
        "DATABASE_CONN_MAX_AGE": "60",
        "DATABASE_REPLICA_URLS": (
            "postgres://reader:secret@127.0.0.1:5441/k2site, postgres://reader@127.0.0.1:5442/k2site?connect_timeout=5,"
        ),
    }

    def run(env):
        result = subprocess.run([sys.executable, "-c", program], env=env, cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    found = run(env)
    databases = found["databases"]
    assert list(databases) == ["default", "replica_0", "replica_1"]
    first, second = databases["replica_0"], databases["replica_1"]
    assert (first["PORT"], first["USER"], first["PASSWORD"], first["NAME"]) == (5441, "reader", "secret", "k2site")
    assert first["CONN_MAX_AGE"] == second["CONN_MAX_AGE"] == 60
    assert first["TEST"]["MIRROR"] == second["TEST"]["MIRROR"] == "default"
    assert first["OPTIONS"] == {"options": databases["default"]["OPTIONS"]["options"], "connect_timeout": 2}
    assert second["OPTIONS"]["connect_timeout"] == 5
    assert found["routers"] == ["k2site.db_router.PrimaryReplicaRouter"]
    assert (found["imported_at_startup"], found["imported_at_first_query"]) == (True, True)

    without = run({**env, "DATABASE_REPLICA_URLS": ""})
    assert list(without["databases"]) == ["default"]
    assert without["routers"] == []


def postgres_binaries():
    return shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb")


def test_proof_with_a_real_streaming_replica():
    """Two throwaway clusters, the site in gunicorn: public pages read the
    replica, a publish shows once replicated, a stopped replica falls back."""
    if not postgres_binaries():
        # CI has them (PostgreSQL runs there); a developer machine may not.
        if os.environ.get("CI"):
            pytest.fail("The PostgreSQL server binaries (initdb, pg_ctl) are missing on CI.")
        pytest.skip("needs the PostgreSQL server binaries (initdb, pg_ctl)")
    result = subprocess.run([sys.executable, str(PROOF_SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK in" in result.stdout
