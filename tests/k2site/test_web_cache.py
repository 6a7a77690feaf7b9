"""The web server's page cache (issue 16), read through a real nginx in front
of a real gunicorn, as deploy/nginx.conf sets them up: public pages are
served by nginx (as files the app wrote, or from nginx's proxy cache where
the app runs elsewhere), a publish or unpublish reaches visitors within
WEB_CACHE_SECONDS, and an editor's pages are neither served from nor put
into the shared cache."""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from bench.nginx_front import free_port, page_files_config, running_nginx
from k2site import page_files
from tests.k2site.serving import get, manage, production_env, running_gunicorn

REDIS_URL = "redis://127.0.0.1:6379/13"
TAG_PAGE = "/tags/vitamin-k2/"
# WEB_CACHE_SECONDS (5), nginx's clock, which ticks in whole seconds, and
# one rendering of the page by the app on a busy 2-core CI machine.
BOUND = 5 + 1 + 2


def shell(env, code):
    result = manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def require_nginx():
    """Skip on a developer machine without nginx; in CI its absence fails
    (as for Chromium, tests/browser.py)."""
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        if os.environ.get("CI"):
            pytest.fail("nginx is missing on CI: .ci/run should have installed it.")
        pytest.skip("nginx is not installed (apt-get install nginx).")


def serve_demo_behind_nginx(tmp_path, *, page_files):
    """(nginx URL, the app's environment): the demo site behind nginx with
    its page cache, and with the page files if ``page_files`` (the
    production recipe on one machine); the app's own page cache in Redis
    (shared by the workers and by the `manage.py` calls that publish, as in
    production)."""
    require_nginx()
    redis.Redis.from_url(REDIS_URL).flushdb()
    pages = tmp_path / "pages"
    env = production_env(
        tmp_path, GUNICORN_WORKERS="2", CACHE_URL=REDIS_URL, WEB_CACHE_DIR=str(pages) if page_files else ""
    )
    for command in (["migrate", "--no-input"], ["load_demo"]):
        result = manage(env, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    config = None
    if page_files:
        # The recipe's step: the site's headers written into nginx's configuration.
        headers = subprocess.run(
            [sys.executable, "-m", "k2site.page_files"], env=env, capture_output=True, text=True, check=True
        ).stdout
        config = page_files_config(pages, headers)
    with running_gunicorn(env, free_port(), tmp_path / "gunicorn.log") as app:
        app_port = int(app.rsplit(":", 1)[1])
        with running_nginx(app_port, tmp_path / "nginx", page_files=config) as url:
            yield url, env
    redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.fixture
def front(tmp_path):
    """As production has it on one machine: page files and the proxy cache."""
    yield from serve_demo_behind_nginx(tmp_path, page_files=True)


@pytest.fixture
def proxy_front(tmp_path):
    """The app elsewhere (no shared WEB_CACHE_DIR): nginx's proxy cache alone."""
    yield from serve_demo_behind_nginx(tmp_path, page_files=False)


def wait_until(condition, bound):
    """Seconds until ``condition()`` held, polling; fails past ``bound``."""
    started = time.monotonic()
    while not condition():
        elapsed = time.monotonic() - started
        assert elapsed < bound, f"still not so after {elapsed:.1f} s"
        time.sleep(0.2)
    return time.monotonic() - started


def publish_and_unpublish_within_the_bound(url, env):
    shell(
        env,
        "from tests.factories import StudyFactory, TagFactory; "
        "StudyFactory(title='Menaquinone-7 and the web cache', slug='web-cache-study', "
        "tags=[TagFactory(name='Vitamin K2')])",
    )
    assert get(url + TAG_PAGE)[0] == 200  # served while the change travels
    took = wait_until(lambda: b"Menaquinone-7 and the web cache" in get(url + TAG_PAGE)[2], bound=BOUND)
    assert took <= BOUND
    status, _, _ = get(url + "/studies/web-cache-study/")
    assert status == 200

    # Unpublished (back to draft): gone from the page and the study's own address alike.
    shell(
        env,
        "from studies.models import Study; from catalog.models import Status; "
        "study = Study.objects.get(slug='web-cache-study'); study.status = Status.DRAFT; study.save()",
    )
    wait_until(lambda: b"Menaquinone-7 and the web cache" not in get(url + TAG_PAGE)[2], bound=BOUND)
    wait_until(lambda: get(url + "/studies/web-cache-study/")[0] == 404, bound=BOUND)


# What the app says of a page nginx may keep: until the current five-second
# slice ends (nginx keeps a copy through the second its s-maxage ends in).
SHARED_TO_SLICE_END = re.compile(r"public, max-age=0, s-maxage=[1-4]")
# Headers nginx makes for itself, or that say where a page came from.
OWN_HEADERS = {"Date", "Server", "Connection", "ETag", "Last-Modified", "Accept-Ranges", "X-Cache-Status"}


def comparable(headers):
    """The headers both give, the policy's directives in any order (django-csp
    writes them in an order that changes from one process to the next)."""
    kept = {name: value for name, value in headers.items() if name not in OWN_HEADERS | {"Cache-Control"}}
    kept["Content-Security-Policy"] = sorted(kept["Content-Security-Policy"].split("; "))
    return kept


def test_public_pages_are_sent_by_the_web_server_as_files_and_a_publish_shows_within_the_bound(front):
    url, env = front
    for page in (TAG_PAGE, "/", "/search/?q=bone", "/feed/"):
        early_in_a_slice()
        status, app_headers, body = get(url + page)
        assert status == 200 and app_headers["X-Cache-Status"] == "MISS", page
        assert SHARED_TO_SLICE_END.fullmatch(app_headers["Cache-Control"]), app_headers["Cache-Control"]
        # The app wrote the page into this five-second slice; nginx sends the
        # file, with the headers the app gave it (the slice may just have
        # turned over: then the proxy cache's copy expired with it, and the
        # request that refreshes it writes the next slice's file).
        status, headers, sent = sent_as_file(url + page)
        assert status == 200 and headers["X-Cache-Status"] == "FILE" and sent == body, page
        assert headers["Cache-Control"] == "public, max-age=0"
        assert comparable(headers) == comparable(app_headers), page
    publish_and_unpublish_within_the_bound(url, env)


def test_without_page_files_nginx_keeps_pages_and_a_publish_shows_within_the_bound(proxy_front):
    url, env = proxy_front
    early_in_a_slice()
    status, headers, body = get(url + TAG_PAGE)
    assert status == 200 and headers["X-Cache-Status"] == "MISS"
    assert SHARED_TO_SLICE_END.fullmatch(headers["Cache-Control"]), headers["Cache-Control"]
    status, headers, cached = get(url + TAG_PAGE)
    assert status == 200 and headers["X-Cache-Status"] == "HIT" and cached == body
    # Expired with its slice (nginx counts whole seconds), the page is asked
    # for again, from the app's own cache.
    seen = []
    wait_until(lambda: seen.append(get(url + TAG_PAGE)) or seen[-1][1]["X-Cache-Status"] != "HIT", bound=BOUND)
    status, headers, again = seen[-1]
    assert status == 200 and headers["X-Cache-Status"] == "EXPIRED" and again == body
    publish_and_unpublish_within_the_bound(url, env)


def test_an_editors_pages_never_come_from_or_go_into_the_shared_cache(front):
    url, env = front
    session = shell(
        env,
        "from django.contrib.auth.models import User; from django.contrib.sessions.backends.db import SessionStore; "
        "from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY; "
        "user = User.objects.create_superuser('eddie', 'eddie@example.org', 'a-long-password-1'); "
        "s = SessionStore(); s[SESSION_KEY] = str(user.pk); "
        "s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'; "
        "s[HASH_SESSION_KEY] = user.get_session_auth_hash(); s.create(); print(s.session_key)",
    )
    editor = {"Cookie": f"sessionid={session}"}
    # A draft the editor can reach in the admin: the editor's requests pass
    # nginx's cache both ways, marked private by the app.
    shell(env, "from tests.factories import StudyFactory; StudyFactory(slug='draft-study', draft=True)")
    for path in (TAG_PAGE, "/studies/draft-study/", "/admin/"):
        status, headers, _ = get(url + path, **editor)
        assert headers["X-Cache-Status"] == "BYPASS", path
        assert "private" in headers["Cache-Control"] and "public" not in headers["Cache-Control"], path
    # Nothing the editor was answered was kept for a visitor: no file
    # written, nothing in nginx's cache.
    assert written_pages(env) == []
    for path in (TAG_PAGE, "/studies/draft-study/"):
        status, headers, _ = get(url + path)
        assert headers["X-Cache-Status"] not in ("FILE", "HIT"), path
    assert status == 404
    # And the visitor's copy, now a file, is not handed to the editor.
    assert sent_as_file(url + TAG_PAGE)[1]["X-Cache-Status"] == "FILE"
    assert get(url + TAG_PAGE, **editor)[1]["X-Cache-Status"] == "BYPASS"


def test_personal_pages_and_errors_are_not_kept(front):
    url, env = front
    # The follow form carries a CSRF token: personal, never shared.
    for _ in range(2):
        status, headers, _ = get(url + TAG_PAGE + "follow/")
        assert status == 200 and "private" in headers["Cache-Control"]
        assert headers["X-Cache-Status"] not in ("FILE", "HIT")
    for _ in range(2):
        status, headers, _ = get(url + "/tags/no-such-category/")
        assert status == 404 and headers["X-Cache-Status"] not in ("FILE", "HIT")
    assert written_pages(env) == []


def early_in_a_slice():
    """Wait for a five-second slice with 2.5 s or more left: in its last
    second a page is not shared with nginx (it would keep it past the slice)."""
    while page_files.slice_end() - time.time() < 2.5:
        time.sleep(0.1)


def written_pages(env):
    return sorted(path.name for path in Path(env["WEB_CACHE_DIR"]).rglob("*") if path.is_file())


def sent_as_file(url):
    """GET twice at most: the first may fall on a new five-second slice,
    whose file the app then writes."""
    response = get(url)
    return response if response[1]["X-Cache-Status"] == "FILE" else get(url)
