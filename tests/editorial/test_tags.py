"""Tag management: rename, merge (nothing lost, counts right), delete unused,
names unique whatever their capitals."""

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import PermissionDenied

from catalog.indexing import recount_tags
from catalog.models import Entry, EntryTag, Tag, TagPair
from editorial import tag_operations
from tests.factories import ArticleFactory, StudyFactory, TagFactory

from .helpers import text_of

pytestmark = pytest.mark.django_db


ALIAS_FORMSET = {
    "aliases-TOTAL_FORMS": "0",
    "aliases-INITIAL_FORMS": "0",
    "aliases-MIN_NUM_FORMS": "0",
    "aliases-MAX_NUM_FORMS": "1000",
}


def tag_form(**fields):
    """The tag change form's POST data: the fields and an empty alias inline."""
    return {"description": "", "parent": "", **ALIAS_FORMSET, **fields}


def counts():
    return {tag.slug: tag.entry_count for tag in Tag.objects.all()}, {
        (pair.tag.slug, pair.other.slug): pair.entry_count
        for pair in TagPair.objects.select_related("tag", "other")
        if pair.entry_count
    }


def test_merge_moves_every_entry_and_keeps_counts_exact(moderator, login, client):
    bone = TagFactory(name="Bone", slug="bone")
    bones = TagFactory(name="Bones", slug="bones")
    osteo = TagFactory(name="osteoporosis", slug="osteoporosis")
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    both = StudyFactory(title="Has both spellings", tags=[bone, bones, k2])
    only_old = ArticleFactory(title="Has the plural only", tags=[bones])
    draft = StudyFactory(title="Draft with the plural", tags=[bones, osteo], draft=True)
    third = StudyFactory(title="Osteoporosis only", tags=[osteo, k2])

    admin_client = login(moderator)
    selected = [bone.pk, bones.pk, osteo.pk]
    confirm = admin_client.post(
        "/admin/k2site/tag/", {"action": "merge_tags", "_selected_action": selected, "index": 0}
    )
    assert confirm.status_code == 200 and "Keep this tag" in text_of(confirm)
    response = admin_client.post(
        "/admin/k2site/tag/", {"action": "merge_tags", "_selected_action": selected, "into": bone.pk, "apply": "Merge"}
    )
    assert response.status_code == 302
    assert set(Tag.objects.values_list("slug", flat=True)) == {"bone", "vitamin-k2"}
    for entry in (both, only_old, draft, third):
        assert sorted(t.slug for t in entry.tags.all()) == ["bone"] + (["vitamin-k2"] if entry in (both, third) else [])
    incremental = counts()
    recount_tags()
    assert counts() == incremental  # what sync_entries kept equals a full recount
    assert incremental[0] == {"bone": 3, "vitamin-k2": 2}
    page = text_of(client.get("/tags/bone/"))
    assert "Has both spellings" in page and "Has the plural only" in page and "Osteoporosis only" in page
    assert "Draft with the plural" not in page
    # The merged tags' addresses answer 301 to the tag kept (aliases).
    assert client.get("/tags/bones/")["Location"] == "/tags/bone/"
    assert client.get("/tags/osteoporosis+vitamin-k2/feed/")["Location"] == "/tags/bone+vitamin-k2/feed/"
    assert EntryTag.objects.filter(entry__study=draft).count() == 1
    assert Entry.objects.get(study=both).postings.count() == 2


def test_merge_is_for_moderators_only(editor):
    a, b = TagFactory(name="A"), TagFactory(name="B")
    with pytest.raises(PermissionDenied):
        tag_operations.merge_tags([a], b, user=editor)
    assert Tag.objects.count() == 2


def test_rename_shows_everywhere_and_refuses_a_case_clash(moderator, login, client):
    bone = TagFactory(name="bone", slug="bone")
    TagFactory(name="Calcium", slug="calcium")
    StudyFactory(title="Tagged study", tags=[bone])
    admin_client = login(moderator)
    client.get("/tags/")  # cached before the rename
    url = f"/admin/k2site/tag/{bone.pk}/change/"
    response = admin_client.post(url, tag_form(name="Bone health", slug="bone-health"))
    assert response.status_code == 302
    assert "Bone health" in text_of(client.get("/tags/"))
    assert client.get("/tags/bone-health/").status_code == 200
    response = admin_client.post(url, tag_form(name="CALCIUM", slug="calcium-2"))
    assert response.status_code == 200
    assert "There is already a tag “Calcium”" in text_of(response)
    assert Tag.objects.filter(name__iexact="calcium").count() == 1


def test_adding_a_tag_differing_only_in_case_is_refused(moderator, login):
    TagFactory(name="Bone", slug="bone")
    response = login(moderator).post("/admin/k2site/tag/add/", tag_form(name="bone", slug="bone-2"))
    assert response.status_code == 200 and "There is already a tag “Bone”" in text_of(response)
    assert Tag.objects.count() == 1


def test_delete_unused_tags_keeps_those_in_use_even_by_drafts(moderator, login):
    used = TagFactory(name="Used by a draft")
    unused = TagFactory(name="Nobody uses me")
    StudyFactory(draft=True, tags=[used])
    admin_client = login(moderator)
    response = admin_client.post(
        "/admin/k2site/tag/",
        {"action": "delete_unused_tags", "_selected_action": [used.pk, unused.pk], "index": 0},
        follow=True,
    )
    assert list(Tag.objects.values_list("name", flat=True)) == ["Used by a draft"]
    assert "Kept 1 tags still in use" in text_of(response)
    # The delete page of a tag in use is closed too.
    assert admin_client.post(f"/admin/k2site/tag/{used.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Tag.objects.filter(pk=used.pk).exists()


def test_tag_list_shows_usage_and_filters_unused(moderator, login):
    TagFactory(name="In use")
    StudyFactory(tags=[Tag.objects.get(name="In use")])
    TagFactory(name="Orphan")
    response = login(moderator).get("/admin/k2site/tag/", {"usage": "unused"})
    names = [
        a.get_text(strip=True)
        for a in BeautifulSoup(response.content, "html.parser").select("#result_list th.field-name a")
    ]
    assert names == ["Orphan"]


def test_editors_cannot_touch_tags(editor, login):
    tag = TagFactory(name="Bone")
    client = login(editor)
    assert client.post(f"/admin/k2site/tag/{tag.pk}/change/", {"name": "Bony", "slug": "bony"}).status_code == 403
    assert (
        client.post(
            "/admin/k2site/tag/", {"action": "merge_tags", "_selected_action": [tag.pk], "index": 0}
        ).status_code
        == 403
    )
    tag.refresh_from_db()
    assert tag.name == "Bone"
