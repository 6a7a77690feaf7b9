"""A draft, in-review, scheduled, expired or archived entry never reaches a
visitor: a matrix of every hidden state × every public surface.

Every hidden entry's title carries the marker word "Zanzibar" and its state;
so does a published control entry of each kind, which must show where the
surface lists things (so each check can fail). Every surface must
resolve: a route lost in a refactoring fails here instead of being skipped.
"""

import datetime

import pytest
from django.urls import Resolver404, resolve
from django.utils import timezone

from catalog.models import Status, Tag
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
HIDDEN_STATES = {
    "draft": dict(status=Status.DRAFT, publish_at=None),
    "in-review": dict(status=Status.IN_REVIEW, publish_at=None),
    "scheduled": dict(status=Status.PUBLISHED, publish_at=NOW + datetime.timedelta(days=3)),
    "expired": dict(
        status=Status.PUBLISHED,
        publish_at=NOW - datetime.timedelta(days=30),
        expire_at=NOW - datetime.timedelta(days=1),
    ),
    "archived": dict(status=Status.ARCHIVED, publish_at=NOW - datetime.timedelta(days=30)),
    # Published once, then sent back to draft: the index must forget it.
    "unpublished": dict(status=Status.PUBLISHED, publish_at=NOW - datetime.timedelta(days=30)),
}


@pytest.fixture
def world(db):
    bone = TagFactory(name="Bone", slug="bone")
    calcium = TagFactory(name="Calcium", slug="calcium")
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    secret = TagFactory(name="Secretive", slug="secretive")
    shared = [bone, calcium, k2]
    hidden = {}
    for state, fields in HIDDEN_STATES.items():
        study = StudyFactory(
            title=f"Zanzibar hidden {state} study", tags=[*shared, secret], year=2030, summary="Zanzibar", **fields
        )
        article = ArticleFactory(
            title=f"Zanzibar hidden {state} article", tags=[*shared, secret], body="Zanzibar", **fields
        )
        hidden[f"{state} study"] = study
        hidden[f"{state} article"] = article
    for entry in (hidden["unpublished study"], hidden["unpublished article"]):
        entry.status = Status.DRAFT
        entry.save()
    control_study = StudyFactory(title="Zanzibar visible control study", tags=shared, year=2029, summary="Zanzibar")
    control_article = ArticleFactory(title="Zanzibar visible control article", tags=shared, body="Zanzibar")
    control_article.related_studies.add(*[e for e in hidden.values() if e._meta.model_name == "study"], control_study)
    return {"hidden": hidden, "study": control_study, "article": control_article, "tags": shared, "secret": secret}


def resolves(path):
    try:
        resolve(path.split("?")[0])
    except Resolver404:
        return False
    return True


LISTINGS = [
    "/",
    "/articles/",
    "/studies/",
    "/studies/?q=Zanzibar",
    "/studies/?tag=bone&tag=calcium",
    "/studies/?year_min=2000",
    "/tags/",
    "/tags/bone/",
    "/tags/bone+calcium/",
    "/tags/calcium+bone+vitamin-k2/",
    "/sitemap.xml",
    "/sitemap-entries.xml",
    "/sitemap-tags.xml",
    "/feed/",
    "/tags/bone/feed/",
    "/tags/bone+calcium/feed/",
    "/search/?q=Zanzibar",
    "/tags/bone/cite.bib",
    "/tags/bone+calcium/cite.ris",
    "/tags/bone/cite.json",
    "CONTROL_STUDY",
    "CONTROL_ARTICLE",
]
# Which published control entries each surface must show, so that every
# check can fail: "study", "article", both, or neither (the tag index and
# the sitemap index list no entries; a page shows itself).
STUDIES_ONLY = {"/studies/", "/studies/?q=Zanzibar", "/studies/?tag=bone&tag=calcium", "/studies/?year_min=2000"}
MUST_SHOW = {
    **{path: {"study", "article"} for path in LISTINGS},
    **{path: {"study"} for path in STUDIES_ONLY},
    **{path: {"study"} for path in LISTINGS if "cite." in path},
    "/articles/": {"article"},
    "/tags/": set(),
    "/sitemap.xml": set(),
    "/sitemap-tags.xml": set(),
    "CONTROL_STUDY": {"study"},
    "CONTROL_ARTICLE": {"article", "study"},
}


def shows(entry, body):
    return entry.title in body or entry.get_absolute_url() in body


def hidden_markers(world):
    return {label: entry.title for label, entry in world["hidden"].items()}


@pytest.mark.parametrize("surface", LISTINGS)
def test_no_hidden_entry_on_any_listing(client, world, surface):
    path = {
        "CONTROL_STUDY": world["study"].get_absolute_url(),
        "CONTROL_ARTICLE": world["article"].get_absolute_url(),
    }.get(surface, surface)
    # A surface that stops resolving is a lost feature, not a pass.
    assert resolves(path), f"{path} does not resolve"
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.content.decode()
    leaks = [label for label, title in hidden_markers(world).items() if title in body]
    slugs = [label for label, entry in world["hidden"].items() if f"/{entry.slug}/" in body]
    assert not leaks and not slugs, f"{path} shows hidden entries: {leaks or slugs}"
    assert "Secretive" not in body, f"{path} shows a tag only hidden entries carry"
    for kind in MUST_SHOW[surface]:
        assert shows(world[kind], body), f"{path} does not show the published control {kind}"


@pytest.mark.parametrize("state", list(HIDDEN_STATES))
@pytest.mark.parametrize("kind", ["study", "article"])
def test_hidden_entry_pages_and_exports_are_404(client, world, state, kind):
    entry = world["hidden"][f"{state} {kind}"]
    assert client.get(entry.get_absolute_url()).status_code == 404
    if kind == "study":
        for extension in ("bib", "ris", "json"):
            path = f"{entry.get_absolute_url()}cite.{extension}"
            assert resolves(path), f"{path} does not resolve"
            assert client.get(path).status_code == 404, path


def test_counts_only_count_published_entries(client, world):
    counts = {tag.slug: tag.entry_count for tag in Tag.objects.all()}
    assert counts == {"bone": 2, "calcium": 2, "vitamin-k2": 2, "secretive": 0}
    page = client.get("/tags/").content.decode()
    assert '2<span class="visually-hidden"> entries</span>' in page and "Secretive" not in page
    # The intersection's count and the one-tag listing's count.
    assert "2 entries" in client.get("/tags/bone+calcium/").content.decode()
    assert "2 entries" in client.get("/tags/bone/").content.decode()


def test_a_tag_only_hidden_entries_carry_is_unknown_everywhere(client, world):
    # Answered as for a tag that does not exist: a visitor cannot confirm a
    # draft's category by its address.
    for path in ("/tags/secretive/", "/tags/secretive/feed/", "/tags/bone+secretive/", "/tags/secretive/cite.bib"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Zanzibar" not in response.content.decode()
    page = client.get("/studies/?tag=secretive").content.decode()
    assert "Secretive" not in page and "Zanzibar visible control study" in page


def test_related_boxes_hold_only_published_entries(client, world):
    article_page = client.get(world["article"].get_absolute_url()).content.decode()
    study_page = client.get(world["study"].get_absolute_url()).content.decode()
    for body in (article_page, study_page):
        assert not [label for label, title in hidden_markers(world).items() if title in body]
    # The control article cites the control study and every hidden study: only the control shows.
    assert "Zanzibar visible control study" in article_page


def test_anonymous_admin_and_preview_addresses_reveal_nothing(client, world):
    study = world["hidden"]["draft study"]
    assert client.get(f"/preview/studies/{study.pk}/").status_code == 404
    response = client.get(f"/admin/studies/study/{study.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
