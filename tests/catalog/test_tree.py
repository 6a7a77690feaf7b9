"""The category tree: a parent's pages include its descendants' entries
through inherited postings written at sync time; counts stay exact when
entries change and when a subtree moves; cycles are refused."""

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import PermissionDenied, ValidationError

from catalog.indexing import recount_tags
from catalog.models import EntryTag, Tag, TagPair
from catalog.tree import check_parent
from editorial import tag_operations
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def counts():
    tags = {tag.slug: (tag.entry_count, tag.direct_count) for tag in Tag.objects.all()}
    pairs = {
        (pair.tag.slug, pair.other.slug): pair.entry_count
        for pair in TagPair.objects.select_related("tag", "other")
        if pair.entry_count
    }
    return tags, pairs


def assert_counts_match_a_recount():
    incremental = counts()
    recount_tags()
    assert counts() == incremental


def titles(response):
    return [a.get_text(strip=True) for a in BeautifulSoup(response.content, "html.parser").select(".entry-list a")]


@pytest.fixture
def tree():
    vitamin_k = TagFactory(name="Vitamin K", slug="vitamin-k")
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2", parent=vitamin_k)
    mk7 = TagFactory(name="MK-7", slug="mk-7", parent=k2)
    k1 = TagFactory(name="Vitamin K1", slug="vitamin-k1", parent=vitamin_k)
    bone = TagFactory(name="Bone", slug="bone")
    return vitamin_k, k2, mk7, k1, bone


def test_a_parent_lists_its_descendants_entries_and_says_so(tree, client):
    vitamin_k, k2, mk7, k1, bone = tree
    StudyFactory(title="MK-7 and bone", tags=[mk7, bone], year=2020)
    StudyFactory(title="K1 in greens", tags=[k1], year=2019)
    StudyFactory(title="Vitamin K in general", tags=[vitamin_k], year=2018)
    ArticleFactory(title="About K2", tags=[k2])
    page = client.get("/tags/vitamin-k/")
    assert set(titles(page)) == {"MK-7 and bone", "K1 in greens", "Vitamin K in general", "About K2"}
    note = BeautifulSoup(page.content, "html.parser").select_one(".tree-note").get_text(" ", strip=True)
    assert note.startswith("Vitamin K includes its subcategories.")
    # Only the entries tagged with the parent itself.
    assert titles(client.get("/tags/vitamin-k/?direct=1")) == ["Vitamin K in general"]
    # An intersection naming a parent is one walk of the inherited postings.
    assert titles(client.get("/tags/vitamin-k+bone/")) == ["MK-7 and bone"]
    assert titles(client.get("/tags/vitamin-k+bone/?direct=1")) == []
    vitamin_k.refresh_from_db()
    assert (vitamin_k.entry_count, vitamin_k.direct_count) == (4, 1)
    assert EntryTag.objects.filter(tag=vitamin_k, inherited=True).count() == 3
    assert_counts_match_a_recount()


def test_breadcrumbs_children_and_the_tree_index(tree, client):
    _vitamin_k, _k2, mk7, k1, bone = tree
    StudyFactory(tags=[mk7])
    StudyFactory(tags=[k1, bone])
    soup = BeautifulSoup(client.get("/tags/mk-7/").content, "html.parser")
    assert [a.get_text() for a in soup.select(".breadcrumbs a")] == ["Categories", "Vitamin K", "Vitamin K2"]
    soup = BeautifulSoup(client.get("/tags/vitamin-k/").content, "html.parser")
    assert [a.get_text() for a in soup.select(".subcategories a")] == ["Vitamin K1", "Vitamin K2"]
    index = BeautifulSoup(client.get("/tags/").content, "html.parser")
    top = index.select_one(".category-tree")
    assert [li.a.get_text() for li in top.find_all("li", recursive=False)] == ["Bone", "Vitamin K"]
    nested = top.select_one("li > ul > li > ul > li > a")
    assert nested.get_text() == "MK-7"
    counts_shown = {li.a.get_text(): li.select_one(".count").contents[0].strip() for li in top.select("li")}
    assert counts_shown == {"Bone": "1", "Vitamin K": "2", "Vitamin K1": "1", "Vitamin K2": "1", "MK-7": "1"}


def test_moving_a_subtree_reposts_its_entries_and_keeps_counts_exact(tree, moderator, client):
    vitamin_k, k2, mk7, k1, bone = tree
    StudyFactory(title="MK-7 and bone", tags=[mk7, bone])
    StudyFactory(title="Draft under K2", tags=[k2], draft=True)
    StudyFactory(title="K1 only", tags=[k1])
    nutrients = TagFactory(name="Nutrients", slug="nutrients")
    StudyFactory(tags=[nutrients])
    moved = tag_operations.move_tags([k2], nutrients, user=moderator)
    assert moved == 2  # the published and the draft entry under K2
    assert titles(client.get("/tags/nutrients/")).count("MK-7 and bone") == 1
    assert "MK-7 and bone" not in titles(client.get("/tags/vitamin-k/"))
    assert not EntryTag.objects.filter(tag=vitamin_k, entry__title="MK-7 and bone").exists()
    assert_counts_match_a_recount()
    # Back to the top level.
    tag_operations.move_tags([k2], None, user=moderator)
    assert not EntryTag.objects.filter(tag=nutrients, inherited=True).exists()
    assert_counts_match_a_recount()


def test_retagging_an_entry_keeps_inherited_postings_and_counts_exact(tree):
    vitamin_k, k2, mk7, k1, bone = tree
    study = StudyFactory(tags=[mk7, k1])
    # Vitamin K is reached twice: one posting, inherited.
    assert EntryTag.objects.filter(entry__study=study, tag=vitamin_k).count() == 1
    study.tags.set([bone])
    assert set(EntryTag.objects.filter(entry__study=study).values_list("tag__slug", flat=True)) == {"bone"}
    study.tags.set([k2, vitamin_k])
    postings = dict(EntryTag.objects.filter(entry__study=study).values_list("tag__slug", "inherited"))
    assert postings == {"vitamin-k2": False, "vitamin-k": False}
    assert_counts_match_a_recount()


def test_a_cycle_is_refused_with_a_message(tree, moderator):
    vitamin_k, k2, mk7, *_ = tree
    with pytest.raises(ValidationError, match="inside"):
        check_parent(vitamin_k, mk7)
    with pytest.raises(ValidationError, match="own parent"):
        check_parent(k2, k2)
    with pytest.raises(ValidationError):
        tag_operations.move_tags([vitamin_k], mk7, user=moderator)
    vitamin_k.refresh_from_db()
    assert vitamin_k.parent is None


def test_only_moderators_move_tags(tree, editor):
    _vitamin_k, k2, *_ = tree
    with pytest.raises(PermissionDenied):
        tag_operations.move_tags([k2], None, user=editor)


def test_merging_a_parent_hands_its_children_to_the_tag_kept(tree, moderator):
    _vitamin_k, k2, mk7, k1, _bone = tree
    StudyFactory(tags=[mk7])
    StudyFactory(tags=[k1])
    menaquinones = TagFactory(name="Menaquinones", slug="menaquinones")
    tag_operations.merge_tags([k2], menaquinones, user=moderator)
    mk7.refresh_from_db()
    assert mk7.parent == menaquinones
    assert set(EntryTag.objects.filter(entry__study__tags=mk7).values_list("tag__slug", flat=True)) == {
        "mk-7",
        "menaquinones",
    }
    assert_counts_match_a_recount()


def test_a_tag_with_subcategories_is_not_deleted_as_unused(tree, moderator):
    vitamin_k, *_ = tree
    deleted, kept = tag_operations.delete_unused_tags(Tag.objects.filter(pk=vitamin_k.pk), user=moderator)
    assert deleted == [] and kept == ["Vitamin K"]


def test_top_intersections_leave_out_a_parent_that_adds_nothing(tree, client):
    _vitamin_k, k2, _mk7, k1, bone = tree
    StudyFactory(tags=[k2, bone])
    StudyFactory(tags=[k2, bone])
    shown = [
        a.get_text() for a in BeautifulSoup(client.get("/tags/").content, "html.parser").select(".intersection-list a")
    ]
    # Vitamin K with Bone has the same two entries as Vitamin K2 with Bone; a
    # tag with its own ancestor says nothing.
    assert shown == ["Vitamin K2 and Bone"]
    StudyFactory(tags=[k1, bone])
    shown = [
        a.get_text() for a in BeautifulSoup(client.get("/tags/").content, "html.parser").select(".intersection-list a")
    ]
    assert shown == ["Vitamin K and Bone", "Vitamin K2 and Bone"]
