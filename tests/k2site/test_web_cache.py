"""The web server's page cache (issue 16), read through a real nginx in front
of a real gunicorn, as deploy/nginx.conf sets them up: public pages are kept
and served by nginx, a publish or unpublish reaches visitors within
WEB_CACHE_SECONDS, and an editor's pages are neither served from nor put
into the shared cache."""

import os
import shutil
import time

import pytest
import redis

from bench.nginx_front import free_port, running_nginx
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


@pytest.fixture
def front(tmp_path):
    """(nginx URL, the app's environment): the demo site behind nginx with
    its page cache, the app's own page cache in Redis (shared by the workers
    and by the `manage.py` calls that publish, as in production)."""
    require_nginx()
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = production_env(tmp_path, GUNICORN_WORKERS="2", CACHE_URL=REDIS_URL)
    for command in (["migrate", "--no-input"], ["load_demo"]):
        result = manage(env, *command)
        assert result.returncode == 0, result.stdout + result.stderr
    with running_gunicorn(env, free_port(), tmp_path / "gunicorn.log") as app:
        app_port = int(app.rsplit(":", 1)[1])
        with running_nginx(app_port, tmp_path / "nginx") as url:
            yield url, env
    redis.Redis.from_url(REDIS_URL).flushdb()


def wait_until(condition, bound):
    """Seconds until ``condition()`` held, polling; fails past ``bound``."""
    started = time.monotonic()
    while not condition():
        elapsed = time.monotonic() - started
        assert elapsed < bound, f"still not so after {elapsed:.1f} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_public_pages_are_served_by_the_web_server_and_a_publish_shows_within_the_bound(front):
    url, env = front
    status, headers, body = get(url + TAG_PAGE)
    assert status == 200 and headers["X-Cache-Status"] == "MISS"
    assert headers["Cache-Control"] == "public, max-age=0, s-maxage=5"
    status, headers, cached = get(url + TAG_PAGE)
    assert status == 200 and headers["X-Cache-Status"] == "HIT" and cached == body
    # Expired (nginx counts whole seconds: 5 to 6 s on), the copy is checked
    # with its ETag, and the app answers 304 from its own cache.
    seen = []
    wait_until(lambda: seen.append(get(url + TAG_PAGE)) or seen[-1][1]["X-Cache-Status"] != "HIT", bound=BOUND)
    status, headers, again = seen[-1]
    assert status == 200 and headers["X-Cache-Status"] == "REVALIDATED" and again == body

    shell(
        env,
        "from tests.factories import StudyFactory, TagFactory; "
        "StudyFactory(title='Menaquinone-7 and the web cache', slug='web-cache-study', "
        "tags=[TagFactory(name='Vitamin K2')])",
    )
    assert get(url + TAG_PAGE)[0] == 200  # served while the change travels
    took = wait_until(lambda: b"Menaquinone-7 and the web cache" in get(url + TAG_PAGE)[2], bound=BOUND)
    assert took <= BOUND
    status, _, body = get(url + "/studies/web-cache-study/")
    assert status == 200

    # Unpublished (back to draft): gone from the page and the study's own address alike.
    shell(
        env,
        "from studies.models import Study; from catalog.models import Status; "
        "study = Study.objects.get(slug='web-cache-study'); study.status = Status.DRAFT; study.save()",
    )
    wait_until(lambda: b"Menaquinone-7 and the web cache" not in get(url + TAG_PAGE)[2], bound=BOUND)
    wait_until(lambda: get(url + "/studies/web-cache-study/")[0] == 404, bound=BOUND)


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
    # Nothing the editor was answered was kept for a visitor.
    status, headers, _ = get(url + TAG_PAGE)
    assert headers["X-Cache-Status"] == "MISS"
    status, headers, _ = get(url + "/studies/draft-study/")
    assert status == 404 and headers["X-Cache-Status"] != "HIT"
    # And the visitor's copy, now kept, is not handed to the editor.
    assert get(url + TAG_PAGE)[1]["X-Cache-Status"] == "HIT"
    assert get(url + TAG_PAGE, **editor)[1]["X-Cache-Status"] == "BYPASS"


def test_personal_pages_and_errors_are_not_kept(front):
    url, _env = front
    # The follow form carries a CSRF token: personal, never shared.
    for _ in range(2):
        status, headers, _ = get(url + TAG_PAGE + "follow/")
        assert status == 200 and "private" in headers["Cache-Control"]
        assert headers["X-Cache-Status"] == "MISS"
    for _ in range(2):
        status, headers, _ = get(url + "/tags/no-such-category/")
        assert status == 404 and headers["X-Cache-Status"] == "MISS"
