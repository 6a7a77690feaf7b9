"""In a real Chromium: an editor places an intersection block in an article,
sees it in the preview, submits; a moderator approves; a visitor reads the
block's entries on the public page."""

import re

import pytest

from tests.browser import browser  # noqa: F401  (fixture)
from tests.conftest import PASSWORD, make_user
from tests.factories import StudyFactory, TagFactory

from .test_browser_workflow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_places_an_intersection_block_moderator_approves(live_server, browser):  # noqa: F811
    make_user("edith", "Editors", password=PASSWORD)
    make_user("mona", "Moderators", password=PASSWORD)
    bone, calcium = TagFactory(name="Bone", slug="bone"), TagFactory(name="Calcium", slug="calcium")
    StudyFactory(title="Calcium and bone density trial", tags=[bone, calcium], year=2019)
    StudyFactory(title="Bone only study", tags=[bone], year=2020)
    base = live_server.url

    editor = browser.new_context().new_page()
    log_in(editor, base, "edith")
    editor.goto(base + "/admin/articles/article/add/")
    editor.locator("#id_title").press_sequentially("Calcium and bone - many studies")
    editor.fill("#id_body", "What the studies say.\n\n[[list bone+calcium]]")
    editor.locator(".field-body .md-preview-button").click()
    preview = editor.locator("#id_body-preview")
    preview.locator(".entry-block").wait_for()
    assert "Calcium and bone density trial" in preview.inner_text()
    assert "Bone only study" not in preview.inner_text()
    editor.click("input[name=_continue]")
    editor.wait_for_selector(".messagelist .success")
    editor.get_by_role("button", name="Submit for review").click()
    editor.wait_for_selector(".messagelist .success")

    moderator = browser.new_context().new_page()
    log_in(moderator, base, "mona")
    moderator.goto(base + "/admin/k2site/reviewqueueentry/")
    moderator.get_by_role("link", name="Calcium and bone - many studies").click()
    moderator.wait_for_url(re.compile(r".*/admin/articles/article/\d+/change/"))
    moderator.get_by_role("button", name="Approve and publish").click()
    moderator.wait_for_selector(".messagelist .success")

    visitor = browser.new_context().new_page()
    visitor.goto(base + "/articles/calcium-and-bone-many-studies/")
    block = visitor.locator(".entry-block")
    # Under the page's h1 (no ## heading before it): an h2, so no level is skipped.
    assert block.locator("h2").inner_text() == "Items in both categories Bone and Calcium are listed here:"
    assert block.locator(".entry-list__item a").all_inner_texts() == ["Calcium and bone density trial"]
    block.get_by_role("link", name="See all 1").click()
    visitor.wait_for_url(base + "/tags/bone+calcium/")
