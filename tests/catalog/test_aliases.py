"""Aliases: a renamed or merged tag's old addresses answer 301 to the tag's
canonical ones (pages, feeds, exports, one hop), synonyms moderators add are
found by the admin autocomplete, and names stay unique across tags and
aliases whatever their capitals."""

import pytest
from django.core.exceptions import ValidationError

from catalog import aliases
from catalog.models import TagAlias
from editorial import tag_operations
from tests.factories import StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags():
    k2 = TagFactory(name="Vitamin K2", slug="vitamin-k2")
    bone = TagFactory(name="Bone", slug="bone")
    StudyFactory(tags=[k2, bone])
    return k2, bone


def test_a_rename_keeps_the_old_address_as_a_redirect(tags, moderator, client):
    k2, _bone = tags
    old = type(k2).objects.get(pk=k2.pk)
    k2.name, k2.slug = "Menaquinone", "menaquinone"
    tag_operations.save_tag(k2, user=moderator, old=old)
    for path, target in [
        ("/tags/vitamin-k2/", "/tags/menaquinone/"),
        ("/tags/vitamin-k2+bone/", "/tags/menaquinone+bone/"),
        ("/tags/bone+vitamin-k2/?type=rct&page=1", "/tags/bone+menaquinone/?type=rct&page=1"),
        ("/tags/vitamin-k2/feed/", "/tags/menaquinone/feed/"),
        ("/tags/vitamin-k2+bone/cite.bib", "/tags/menaquinone+bone/cite.bib"),
    ]:
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (301, target), path
        assert client.get(target).status_code == 200, target


def test_a_chain_of_merges_resolves_in_one_hop(tags, moderator, client):
    k2, _bone = tags
    first = TagFactory(name="Menaquinone", slug="menaquinone")
    StudyFactory(tags=[first])
    tag_operations.merge_tags([first], k2, user=moderator)
    third = TagFactory(name="K vitamins", slug="k-vitamins")
    StudyFactory(tags=[third])
    tag_operations.merge_tags([k2], third, user=moderator)
    for old in ("menaquinone", "vitamin-k2"):
        response = client.get(f"/tags/{old}/")
        assert (response.status_code, response["Location"]) == (301, "/tags/k-vitamins/")
    assert set(TagAlias.objects.values_list("slug", flat=True)) == {"menaquinone", "vitamin-k2"}


def test_an_alias_of_a_tag_no_visitor_may_see_is_404(moderator, client):
    hidden = TagFactory(name="Hidden", slug="hidden")
    StudyFactory(tags=[hidden], draft=True)
    TagAlias.objects.create(tag=hidden, name="Secret", slug="secret")
    assert client.get("/tags/secret/").status_code == 404
    assert client.get("/tags/nothing-at-all/").status_code == 404


def test_aliases_are_unique_against_tags_and_aliases_whatever_the_capitals(tags):
    k2, _bone = tags
    TagAlias.objects.create(tag=k2, name="K2", slug="k2")
    for name, slug in [("bone", "bone-2"), ("BONE", "osso"), ("k2", "k2-again"), ("Other", "K2")]:
        with pytest.raises(ValidationError):
            aliases.check_free(name, slug)
    aliases.check_free("Menaquinone", "menaquinone")


def test_the_admin_adds_synonyms_and_the_autocomplete_finds_them(tags, moderator, login):
    k2, _bone = tags
    client = login(moderator)
    data = {
        "name": k2.name,
        "slug": k2.slug,
        "parent": "",
        "description": "",
        "aliases-TOTAL_FORMS": "2",
        "aliases-INITIAL_FORMS": "0",
        "aliases-MIN_NUM_FORMS": "0",
        "aliases-MAX_NUM_FORMS": "1000",
        "aliases-0-name": "Menaquinone",
        "aliases-0-slug": "menaquinone",
        "aliases-1-name": "K2",
        "aliases-1-slug": "",
    }
    response = client.post(f"/admin/k2site/tag/{k2.pk}/change/", data)
    assert response.status_code == 302
    assert set(k2.aliases.values_list("name", "slug")) == {("Menaquinone", "menaquinone"), ("K2", "k2")}
    found = client.get(
        "/admin/autocomplete/",
        {"term": "menaq", "app_label": "studies", "model_name": "study", "field_name": "tags"},
    ).json()
    assert [result["text"] for result in found["results"]] == ["Vitamin K2"]
    # A synonym that is another tag's name is refused with a message.
    data.update({"aliases-0-name": "Bone", "aliases-0-slug": "bone-synonym", "aliases-1-name": ""})
    response = client.post(f"/admin/k2site/tag/{k2.pk}/change/", data)
    assert response.status_code == 200
    assert "There is already a tag “Bone”" in response.content.decode()


def test_a_new_tag_cannot_take_an_alias_name(tags, moderator, login):
    k2, _ = tags
    TagAlias.objects.create(tag=k2, name="Menaquinone", slug="menaquinone")
    response = login(moderator).post(
        "/admin/k2site/tag/add/",
        {
            "name": "menaquinone",
            "slug": "menaquinone-2",
            "parent": "",
            "description": "",
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
            "aliases-MIN_NUM_FORMS": "0",
            "aliases-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert "already another name of the tag “Vitamin K2”" in response.content.decode()


def test_a_listing_block_naming_a_merged_tag_still_lists_it(tags, moderator):
    from catalog.blocks import render_body

    k2, bone = tags
    old = TagFactory(name="Bones", slug="bones")
    StudyFactory(title="Plural only", tags=[old, k2])
    tag_operations.merge_tags([old], bone, user=moderator)
    body = render_body("[[list vitamin-k2+bones]]")
    block = body.blocks[0]
    assert [tag.slug for tag in block.tags] == ["vitamin-k2", "bone"] and not block.notes
    assert "Plural only" in [entry.title for entry in block.entries]
