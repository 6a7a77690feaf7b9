"""Public pages written as files for the web server (k2site.page_files):
what is written, where nginx will look for it, and what never is. Read
through a real nginx in tests/k2site/test_web_cache.py."""

import datetime
import time

import pytest
from django.test import Client
from django.utils import timezone

from catalog.models import Tag
from k2site import page_files
from tests.factories import StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(settings, tmp_path):
    settings.WEB_CACHE_DIR = str(tmp_path)
    page_files.site_headers.cache_clear()
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    StudyFactory(title="MK-7 and bone density", slug="mk7-bone", tags=[k2])
    StudyFactory(title="Unreleased trial", slug="unreleased", tags=[k2], draft=True)
    return tmp_path


def written(root):
    """{path below the slice: bytes} of every page file."""
    return {
        str(path.relative_to(root).as_posix().split("/", 1)[1]): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def test_a_shared_page_is_written_where_nginx_looks_for_it(pages, client):
    tag_page = client.get("/tags/vitamin-k2/")
    feed = client.get("/tags/vitamin-k2/feed/")
    search = client.get("/search/?q=bone&type=rct")
    files = written(pages)
    # $host$uri@$args.<type>, in the current five-second slice's directory.
    assert files == {
        "testserver/tags/vitamin-k2/@.html": tag_page.content,
        "testserver/tags/vitamin-k2/feed/@.atom": feed.content,
        "testserver/search/@q=bone&type=rct.html": search.content,
    }
    assert b"Unreleased trial" not in tag_page.content
    (slice_directory,) = [path for path in pages.iterdir()]
    assert int(slice_directory.name) == page_files.current_bucket() or int(slice_directory.name) == (
        page_files.current_bucket() - page_files.BUCKET_SECONDS
    )
    # The second visitor is served from the app's cache, which writes the
    # file again only if it is gone (a new slice).
    assert client.get("/tags/vitamin-k2/").content == tag_page.content


def test_what_is_never_written(pages, client, django_user_model, caplog):
    # A draft's address, an error, a page with a form (a CSRF cookie).
    assert client.get("/studies/unreleased/").status_code == 404
    assert client.get("/tags/vitamin-k2/follow/").status_code == 200
    # A HEAD, a POST.
    assert client.head("/tags/vitamin-k2/").status_code == 200
    client.post("/search/", {"q": "bone"})
    # Query strings nginx does not look for (a "/", a quote, a space).
    for query in ("q=a/b", "q='bone'", "q=bone%20k2&x=1 2", "q=bone&pad=" + "a" * 300):
        assert client.get("/search/?" + query).status_code == 200
    # Anyone logged in.
    editor = Client()
    editor.force_login(django_user_model.objects.create_user("eddie", is_staff=True))
    assert editor.get("/tags/vitamin-k2/").status_code == 200
    assert written(pages) == {} and "Page file not written" not in caplog.text
    # The same public page for a visitor is.
    assert Client().get("/tags/vitamin-k2/").status_code == 200
    assert list(written(pages)) == ["testserver/tags/vitamin-k2/@.html"]


def test_a_page_due_to_change_within_the_slice_is_not_written(pages, client):
    # At least 2.5 s left in this slice, then an entry scheduled for half a
    # second before it ends: the page may be kept by the app until then,
    # but a file would be served past it.
    while page_files.slice_end() - time.time() < 2.5:
        time.sleep(0.2)
    ends = page_files.slice_end()
    StudyFactory(
        title="Comes out soon",
        tags=[Tag.objects.get(slug="vitamin-k2")],
        publish_at=datetime.datetime.fromtimestamp(ends - 0.5, tz=datetime.UTC),
    )
    response = client.get("/tags/vitamin-k2/")
    assert "s-maxage=" in response["Cache-Control"]
    assert written(pages) == {}
    assert timezone.now().timestamp() < ends


def test_old_slices_are_removed_when_a_new_one_starts(pages, client):
    now = page_files.current_bucket()
    for age in (3, 2, 1):
        (pages / str(now - age * page_files.BUCKET_SECONDS) / "testserver").mkdir(parents=True)
    client.get("/tags/vitamin-k2/")
    kept = sorted(int(path.name) for path in pages.iterdir())
    # The new slice, and the last one if it is still the last (nginx may
    # still be sending one of its files).
    assert kept[-1] >= now and kept[0] >= kept[-1] - page_files.BUCKET_SECONDS
    assert len(kept) <= 2


def test_a_disk_that_refuses_costs_the_file_not_the_page(pages, client, settings, caplog):
    (pages / "a-file").write_text("")
    settings.WEB_CACHE_DIR = str(pages / "a-file" / "pages")  # cannot be made, even by root
    response = client.get("/tags/vitamin-k2/")
    assert response.status_code == 200 and b"MK-7 and bone density" in response.content
    assert "Page file not written (testserver/tags/vitamin-k2/@.html)" in caplog.text


def test_the_nginx_headers_are_the_sites_own(pages, client):
    page = client.get("/tags/vitamin-k2/", secure=True)
    lines = page_files.nginx_headers().splitlines()
    names = [line.split()[1] for line in lines if line.startswith("add_header ")]
    for name in ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy"):
        assert f'add_header {name} "{page[name]}" always;' in lines
    assert "Content-Security-Policy" in names
    assert not {"Content-Type", "Content-Length", "ETag", "Cache-Control"} & set(names)
