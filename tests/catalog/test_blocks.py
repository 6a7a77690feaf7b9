"""Listing blocks placed in an entry's Markdown (catalog.blocks): live,
published only, never the entry itself, a fixed number of queries, and
never a 500 for a category that is gone."""

import datetime

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.blocks import ListBlock, PicksBlock, split_blocks
from catalog.models import Tag
from editorial import tag_operations
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def blocks_of(response):
    soup = BeautifulSoup(response.content, "html.parser")
    found = []
    for section in soup.select(".entry-block"):
        heading = section.select_one(".entry-block__heading")
        more = section.select_one(".entry-block__more a")
        found.append(
            {
                "heading": heading.get_text(strip=True) if heading else "",
                "titles": [item.a.get_text(strip=True) for item in section.select(".entry-list__item")],
                "more": (more.get_text(strip=True), more["href"]) if more else None,
            }
        )
    return found


@pytest.fixture
def shelf():
    k2, bone, calcium = (TagFactory(name=name) for name in ("Vitamin K2", "Bone", "Calcium"))
    k2.slug, bone.slug, calcium.slug = "vitamin-k2", "bone", "calcium"
    for tag in (k2, bone, calcium):
        tag.save()
    old = StudyFactory(title="Old trial", tags=[k2, bone], year=2011, month=3, study_type="rct")
    new = StudyFactory(title="New review", tags=[k2, bone], year=2020, month=6, study_type="review")
    StudyFactory(title="Calcium only", tags=[k2, calcium], year=2019)
    StudyFactory(title="Secret draft", tags=[k2, bone], year=2021, draft=True)
    return {"k2": k2, "bone": bone, "calcium": calcium, "old": old, "new": new}


def test_directives_are_parsed_with_their_options_and_notes():
    markdown, blocks = split_blocks(
        "Intro.\n\n[[list vitamin-k2+bone type=rct,meta-analysis years=2010-2020 limit=5 colour=red]]\n\n"
        "[[picks Worth reading]]\n/studies/a/\nhttps://k2.example.org/articles/b/\nnot an address\n[[/picks]]\n\nEnd."
    )
    first, second = blocks
    assert isinstance(first, ListBlock) and isinstance(second, PicksBlock)
    assert (first.slugs, first.types, first.year_min, first.year_max, first.limit) == (
        ["vitamin-k2", "bone"],
        ["rct", "meta-analysis"],
        2010,
        2020,
        5,
    )
    assert first.notes == ["Unknown option “colour=red” left out (type=, years=, limit=, heading=)."]
    assert second.heading == "Worth reading" and second.addresses == [("study", "a"), ("article", "b")]
    assert "not an address" in second.notes[0]
    assert "Intro." in markdown and "End." in markdown and "[[" not in markdown


def test_a_list_block_shows_the_intersection_live_newest_first_without_the_page_itself(client, shelf):
    page = ArticleFactory(
        title="Hub", slug="hub", tags=[shelf["k2"], shelf["bone"]], body="## Bone\n\n[[list vitamin-k2+bone]]"
    )
    (block,) = blocks_of(client.get("/articles/hub/"))
    assert block["heading"] == "Items in both categories Vitamin K2 and Bone are listed here:"
    assert block["titles"] == ["New review", "Old trial"]  # not the draft, not the hub itself
    assert block["more"] == ("See all 3", "/tags/vitamin-k2+bone/")  # the hub is in the intersection too
    # Live: a study published later shows on the (cached) page at once.
    StudyFactory(title="Newest trial", tags=[shelf["k2"], shelf["bone"]], year=2024)
    assert blocks_of(client.get("/articles/hub/"))[0]["titles"][0] == "Newest trial"
    assert page.pk


def test_a_filtered_block_links_to_the_same_filters_on_studies(client, shelf):
    ArticleFactory(slug="trials", body="[[list vitamin-k2+bone type=RCT years=2010-2015]]")
    (block,) = blocks_of(client.get("/articles/trials/"))
    assert block["titles"] == ["Old trial"]
    text, href = block["more"]
    assert text == "See all" and href == "/studies/?tag=vitamin-k2&tag=bone&type=rct&year_min=2010&year_max=2015"
    assert "Old trial" in client.get(href).content.decode()


def test_picks_keep_their_order_and_leave_out_what_is_not_published(client, shelf, editor, login):
    draft = StudyFactory(title="Draft pick", slug="draft-pick", draft=True)
    study = StudyFactory(
        slug="with-picks",
        summary=(
            "[[picks Worth reading]]\n/studies/{old}/\n/studies/draft-pick/\n/studies/{new}/\n[[/picks]]".format(
                old=shelf["old"].slug, new=shelf["new"].slug
            )
        ),
    )
    (block,) = blocks_of(client.get("/studies/with-picks/"))
    assert block["heading"] == "Worth reading" and block["titles"] == ["Old trial", "New review"]
    assert "block-notes" not in client.get("/studies/with-picks/").content.decode()
    preview = login(editor).get(f"/preview/studies/{study.pk}/").content.decode()
    assert "/studies/draft-pick/” is not published" in preview
    assert draft.pk


def test_a_merged_or_deleted_category_never_fails_the_page(client, shelf, moderator, login):
    article = ArticleFactory(slug="merged", body="[[list vitamin-k2+calcium]]\n\n[[list bone+gone]]")
    tag_operations.merge_tags([shelf["calcium"]], shelf["bone"], user=moderator)
    cache.clear()
    response = client.get("/articles/merged/")
    assert response.status_code == 200
    blocks = blocks_of(response)
    # calcium was merged into bone: its slug is an alias, so the block follows it.
    assert blocks[0]["heading"] == "Items in both categories Vitamin K2 and Bone are listed here:"
    assert blocks[1]["heading"] == "Items in category Bone:"  # gone never existed: bone alone
    assert "block-notes" not in response.content.decode()
    preview = login(moderator).get(f"/preview/articles/{article.pk}/").content.decode()
    assert "“calcium”" not in preview and "The category “gone” no longer exists" in preview


def test_the_query_count_does_not_grow_with_blocks_items(client, shelf, count_queries):
    body = "\n\n".join(
        [
            "[[list vitamin-k2+bone]]",
            "[[list vitamin-k2+calcium type=review years=2000-]]",
            "[[list vitamin-k2+bone+calcium]]",
            f"[[picks Picks]]\n/studies/{shelf['old'].slug}/\n/studies/{shelf['new'].slug}/\n[[/picks]]",
        ]
    )
    ArticleFactory(slug="blocks", tags=[shelf["k2"]], body=body)
    _, small = count_queries("/articles/blocks/", cold=True)
    for number in range(30):
        StudyFactory(
            title=f"More {number}",
            tags=[shelf["k2"], shelf["bone"], shelf["calcium"]],
            year=2000 + number % 20,
            study_type="review",
        )
    response, large = count_queries("/articles/blocks/", cold=True)
    assert len(blocks_of(response)[0]["titles"]) == 32
    assert small == large


def test_more_blocks_than_the_bound_are_left_as_text(client, shelf, settings):
    from catalog import blocks

    body = "\n\n".join(["[[list vitamin-k2]]"] * (blocks.MAX_BLOCKS + 1))
    ArticleFactory(slug="many", body=body)
    with CaptureQueriesContext(connection):
        response = client.get("/articles/many/")
    assert len(blocks_of(response)) == blocks.MAX_BLOCKS
    assert "[[list vitamin-k2]]" in response.content.decode()


def test_a_scheduled_entry_joins_its_blocks_on_time(client, shelf):
    ArticleFactory(slug="soon", body="[[list vitamin-k2+bone]]")
    StudyFactory(
        title="Scheduled study",
        tags=[shelf["k2"], shelf["bone"]],
        year=2025,
        publish_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert "Scheduled study" not in blocks_of(client.get("/articles/soon/"))[0]["titles"]
    assert Tag.objects.get(slug="bone").entry_count == 2


def test_a_block_heading_sits_one_level_below_the_heading_before_it(db):
    from catalog.blocks import render_body

    picks = "[[picks {}]]\n[[/picks]]"
    text = "\n\n".join([picks.format("First"), "## Section", picks.format("Second"), "### Part", picks.format("Third")])
    levels = [part["heading_level"] for part in render_body(text).parts if "block" in part]
    assert levels == [2, 3, 4]  # an article's body, under the page's h1
    levels = [part["heading_level"] for part in render_body(text, section_level=2).parts if "block" in part]
    assert levels == [3, 3, 4]  # a study's highlights, under their h2
