"""The anonymous page cache (k2site.middleware) and conditional GET.

A hit is recognised by running no query at all. Invalidation goes through
the real write paths: the workflow services and the admin change form.
"""

import datetime
import time

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Entry, Status
from editorial import workflow
from k2site import page_files
from k2site.middleware import SCHEDULE_CHECK_KEY
from tests.editorial.helpers import change_form
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = ["/", "/tags/", "/tags/bone/", "/tags/bone+vitamin-k2/", "/studies/", "/articles/", "/feed/"]


@pytest.fixture
def site():
    k2, bone = TagFactory(name="Vitamin K2", slug="vitamin-k2"), TagFactory(name="Bone", slug="bone")
    return {
        "tags": (k2, bone),
        "study": StudyFactory(title="MK-7 and bone density", slug="mk7-bone", tags=[k2, bone]),
        "article": ArticleFactory(title="Why bones need K2", slug="why-bones", tags=[k2, bone]),
        "draft": StudyFactory(title="Unreleased trial", slug="unreleased", tags=[k2, bone], draft=True),
    }


@pytest.fixture
def moderator():
    user = User.objects.create_user("mona", is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


def staff_client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", [*PUBLIC_PAGES, "/studies/mk7-bone/", "/articles/why-bones/"])
def test_second_anonymous_visit_is_served_from_the_cache(url, site, count_queries):
    first, first_queries = count_queries(url)
    second, second_queries = count_queries(url)
    assert first.status_code == second.status_code == 200
    assert first_queries > 0
    assert second_queries == 0
    assert second.content == first.content


def test_publishing_changing_and_unpublishing_show_at_once(site, moderator, count_queries):
    draft = site["draft"]
    pages = ["/", "/tags/bone/", "/tags/bone+vitamin-k2/", "/studies/", "/feed/"]
    for url in pages:
        assert b"Unreleased trial" not in count_queries(url)[0].content
        assert count_queries(url)[1] == 0  # cached without the draft
    assert count_queries("/studies/unreleased/")[0].status_code == 404

    workflow.publish(draft, user=moderator)
    for url in pages:
        assert b"Unreleased trial" in count_queries(url)[0].content, url
    assert count_queries("/studies/unreleased/")[0].status_code == 200

    # A change made in the admin: the cached copies with the old title go.
    admin = staff_client(moderator)
    change_url, data = change_form(admin, draft)
    data["title"] = ["Released trial, renamed"]
    assert admin.post(change_url, data).status_code == 302
    for url in [*pages, "/studies/unreleased/"]:
        content = count_queries(url)[0].content
        assert b"Released trial, renamed" in content and b"Unreleased trial" not in content, url

    draft.refresh_from_db()
    workflow.unpublish(draft, user=moderator)
    for url in pages:
        assert b"Released trial, renamed" not in count_queries(url)[0].content, url
    assert count_queries("/studies/unreleased/")[0].status_code == 404


def test_logged_in_visitors_never_get_or_fill_cached_pages(site, moderator, count_queries):
    staff = staff_client(moderator)
    for _ in range(2):
        assert staff.get("/tags/bone/").status_code == 200
    # The logged-in visits left nothing behind for anonymous visitors …
    assert count_queries("/tags/bone/")[1] > 0
    assert count_queries("/tags/bone/")[1] == 0
    # … and do not read what anonymous visitors cached.
    with CaptureQueriesContext(connection) as queries:
        assert staff.get("/tags/bone/").status_code == 200
    assert len(queries) > 0


def test_a_staff_preview_of_a_draft_is_never_cached_for_anyone(site, moderator):
    staff = staff_client(moderator)
    preview = f"/preview/studies/{site['draft'].pk}/"
    assert staff.get(preview).status_code == 200
    assert b"Unreleased trial" in staff.get(preview).content
    anonymous = Client()
    response = anonymous.get(preview)
    assert response.status_code == 404
    assert b"Unreleased trial" not in response.content


def test_a_visitor_with_a_pending_message_is_not_served_the_cache(site, count_queries):
    count_queries("/tags/bone/")
    _, queries = count_queries("/tags/bone/", HTTP_COOKIE="messages=anything")
    assert queries > 0


def test_errors_and_posts_are_not_cached(site, count_queries):
    assert count_queries("/tags/no-such-tag/")[0].status_code == 404
    assert count_queries("/tags/no-such-tag/")[1] > 0
    client = Client()
    client.post("/tags/bone/")
    assert count_queries("/tags/bone/")[1] > 0


@pytest.mark.parametrize("url", ["/", "/tags/bone+vitamin-k2/", "/studies/mk7-bone/", "/feed/", "/tags/bone/feed/"])
def test_conditional_get_answers_304_while_unchanged(url, site, moderator):
    client = Client()
    first = client.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag
    for _ in range(2):  # rendered, then from the cache
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert not_modified.status_code == 304
        assert not_modified.content == b""
    study = site["study"]
    study.title = "MK-7 and bone density, revised"
    study.save()
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_scheduled_entry_appears_when_its_time_comes(site, count_queries):
    """The scheduled-publishing check (run by the next uncached request, at
    most PAGE_CACHE_SECONDS away) bumps the content version, so the cached
    page without the entry is dropped."""
    study = StudyFactory(
        title="Scheduled trial", tags=list(site["tags"]), publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    assert b"Scheduled trial" not in count_queries("/tags/bone/")[0].content
    # Its time comes (moved back rather than waiting an hour).
    Entry.objects.filter(study=study).update(publish_at=timezone.now() - datetime.timedelta(seconds=1))
    type(study).objects.filter(pk=study.pk).update(publish_at=timezone.now() - datetime.timedelta(seconds=1))
    cache.delete(SCHEDULE_CHECK_KEY)  # the interval has passed
    # The cached copy is still served until a miss anywhere runs the check …
    assert b"Scheduled trial" not in count_queries("/tags/bone/")[0].content
    assert b"Scheduled trial" in count_queries("/tags/vitamin-k2/")[0].content
    # … which bumps the version: every cached page is dropped.
    assert b"Scheduled trial" in count_queries("/tags/bone/")[0].content
    assert study.status == Status.PUBLISHED


def test_personal_responses_are_not_cacheable():
    from django.http import HttpResponse, StreamingHttpResponse

    from k2site.middleware import is_cacheable_response

    assert is_cacheable_response(HttpResponse("page"))
    with_cookie = HttpResponse("form with a CSRF token")
    with_cookie.set_cookie("csrftoken", "x")
    private = HttpResponse("mine")
    private["Cache-Control"] = "private, max-age=0"
    never = HttpResponse("never")
    never["Cache-Control"] = "max-age=0, no-cache, no-store, must-revalidate"
    for response in (with_cookie, private, never, HttpResponse(status=404), StreamingHttpResponse(iter([b"x"]))):
        assert not is_cacheable_response(response)


def test_a_cached_page_is_not_served_past_a_scheduled_entrys_time(client, settings):
    """The entry appears on time although the page listing it was cached."""
    import datetime
    import time as time_module

    from django.utils import timezone

    from tests.factories import StudyFactory, TagFactory

    settings.DEBUG = False
    tag = TagFactory(name="Scheduled", slug="scheduled")
    StudyFactory(title="Already out", tags=[tag])
    StudyFactory(title="Comes out soon", tags=[tag], publish_at=timezone.now() + datetime.timedelta(seconds=2))
    first = client.get("/tags/scheduled/").content.decode()
    assert "Already out" in first and "Comes out soon" not in first
    time_module.sleep(2.2)
    assert "Comes out soon" in client.get("/tags/scheduled/").content.decode()


def test_shared_caches_are_never_told_to_keep_a_page_past_a_scheduled_change(client):
    tag = TagFactory(name="Scheduled", slug="scheduled")
    StudyFactory(title="Already out", tags=[tag])
    # Kept until the current five-second slice ends (k2site.page_files;
    # nginx keeps a copy through the second its s-maxage ends in).
    while page_files.slice_end() - time.time() < 2.5:
        time.sleep(0.1)
    now = time.time()
    to_slice_end = page_files.slice_end(now) - int(now)
    assert client.get("/tags/scheduled/")["Cache-Control"] in (
        f"public, max-age=0, s-maxage={to_slice_end - 1}",
        f"public, max-age=0, s-maxage={to_slice_end - 2}",  # a second turned meanwhile
    )
    # Never past an entry's publication, which may come sooner.
    StudyFactory(title="Comes out soon", tags=[tag], publish_at=timezone.now() + datetime.timedelta(seconds=1.5))
    for _ in range(2):  # rendered, then from the app's cache
        response = client.get("/tags/scheduled/")
        assert response.get("Cache-Control") in (None, "public, max-age=0, s-maxage=1")
