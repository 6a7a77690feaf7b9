"""An optional service failing never takes pages down, tried through real
HTTP: a cache on a closed port, a cache that accepts and never answers, and a
database that is gone (a real gunicorn pointed at a closed port)."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings as django_settings

from k2site import cache_backend
from tests.factories import StudyFactory, TagFactory

# Generous: a hang detector, not a speed target (bench/ has those). With
# the cache's 0.25 s time-outs a page takes a fraction of it.
HANG = 10
PAGES = ["/", "/healthz", "/admin/login/", "/tags/bone/", "/studies/", "/search/?q=bone"]


def fetch(url):
    """(status, content type, body) of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=HANG) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def content(transactional_db):
    bone = TagFactory(name="Bone", slug="bone")
    return StudyFactory(title="Menaquinone and bone density", tags=[bone])


@pytest.fixture
def cache_at(settings):
    """Point the site's cache at ``url`` (through the fail-soft backend)."""

    def point(url):
        cache_backend._down_until.clear()
        settings.CACHES = {"default": {"BACKEND": "k2site.cache_backend.FailSoftRedisCache", "LOCATION": url}}

    yield point
    cache_backend._down_until.clear()


@pytest.fixture
def silent_listener():
    """A socket that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


def assert_pages_served(base, content):
    for path in PAGES:
        status, _, body = fetch(base + path)
        assert status == 200, (path, status, body[:300])
    assert content.title in fetch(base + "/")[2]


def test_a_cache_on_a_closed_port_costs_pages_nothing(live_server, content, cache_at, caplog):
    cache_at(f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level("WARNING", logger="k2site.cache_backend"):
        assert_pages_served(live_server.url, content)
        assert_pages_served(live_server.url, content)
    # Logged once for the outage, not once per request.
    outages = [record for record in caplog.records if "unavailable" in record.getMessage()]
    assert len(outages) == 1, [record.getMessage() for record in outages]


def test_a_cache_that_never_answers_costs_pages_nothing(live_server, content, cache_at, silent_listener):
    cache_at(silent_listener)
    assert_pages_served(live_server.url, content)


def test_the_fail_soft_cache_works_with_a_real_redis(cache_at):
    cache_at("redis://127.0.0.1:6379/15")
    from django.core.cache import cache

    cache.set("k2site:test", "kept", 30)
    assert cache.get("k2site:test") == "kept"
    assert cache.add("k2site:test", "other") is False
    cache.delete("k2site:test")


@pytest.fixture
def site_without_database(tmp_path):
    """gunicorn serving the site, configured for a PostgreSQL that is not there."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/gone",
        "DJANGO_SECRET_KEY": "fault-test-secret-key",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "CACHE_URL": "",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "k2site.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "gunicorn.log", "w"),  # noqa: SIM115  (closed with the process)
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=10)


def test_without_a_database_healthz_says_503_and_pages_show_a_clean_error(site_without_database):
    status, content_type, body = fetch(site_without_database + "/healthz")
    assert (status, content_type.split(";")[0], body.strip()) == (503, "text/plain", "database unavailable")
    for path in ("/", "/tags/bone/", "/studies/"):
        status, content_type, body = fetch(site_without_database + path)
        assert status == 503, (path, status)
        assert content_type.startswith("text/html") and "Temporarily unavailable" in body, path
        assert "Traceback" not in body
