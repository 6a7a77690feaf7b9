"""In a real Chromium: an editor writes and submits an article in the admin,
a moderator approves it from the moderation queue, and an anonymous visitor
then finds it on its tag page."""

import os
import re

import pytest

from tests.browser import browser  # noqa: F401  (fixture)
from tests.conftest import PASSWORD, make_user
from tests.factories import TagFactory

# Playwright's sync API runs an event loop in this thread; Django refuses
# database calls from such a thread unless told it is fine (the live server
# does its own work in another thread).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url, username):
    page.goto(base_url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base_url + "/admin/")


def test_editor_submits_moderator_approves_visitor_reads(live_server, browser):  # noqa: F811
    make_user("edith", "Editors", password=PASSWORD)
    make_user("mona", "Moderators", password=PASSWORD)
    TagFactory(name="Bone", slug="bone")
    TagFactory(name="Calcium", slug="calcium")
    base = live_server.url

    # The editor writes a draft, tags it by autocomplete, saves, submits.
    editor = browser.new_context().new_page()
    log_in(editor, base, "edith")
    editor.goto(base + "/admin/articles/article/add/")
    editor.locator("#id_title").press_sequentially("Menaquinone-7 and bone density")
    assert editor.input_value("#id_slug") == "menaquinone-7-and-bone-density"  # prepopulated by the admin's JS
    editor.fill("#id_lead", "What three trials found.")
    editor.fill("#id_body", "## The trials\n\nThree randomised trials, **180 µg** a day.")
    editor.locator(".field-body .md-preview-button").click()
    assert "180 µg" in editor.locator("#id_body-preview strong").inner_text()
    editor.locator(".field-tags .select2-selection").click()
    editor.locator(".field-tags .select2-search__field").press_sequentially("bon")
    editor.locator(".select2-results__option", has_text="Bone").click()
    assert editor.locator("#id_status option").all_inner_texts() == ["Draft", "In review"]
    editor.click("input[name=_continue]")
    editor.wait_for_selector(".messagelist .success")
    editor.get_by_role("button", name="Submit for review").click()
    editor.wait_for_selector(".messagelist .success")
    assert "is now in review" in editor.locator(".messagelist").inner_text()
    assert editor.get_by_role("button", name="Publish").count() == 0

    # The moderator finds it in the queue and approves it.
    moderator = browser.new_context().new_page()
    log_in(moderator, base, "mona")
    moderator.goto(base + "/admin/k2site/reviewqueueentry/")
    moderator.get_by_role("link", name="Menaquinone-7 and bone density").click()
    moderator.wait_for_url(re.compile(r".*/admin/articles/article/\d+/change/"))
    moderator.get_by_role("button", name="Approve and publish").click()
    moderator.wait_for_selector(".messagelist .success")
    assert "is now published" in moderator.locator(".messagelist").inner_text()
    assert "Approve and publish" in moderator.locator(".wf-log").inner_text()

    # A visitor sees it on its tag page and reads it.
    visitor = browser.new_context().new_page()
    visitor.goto(base + "/tags/bone/")
    visitor.get_by_role("link", name="Menaquinone-7 and bone density").click()
    visitor.wait_for_url(base + "/articles/menaquinone-7-and-bone-density/")
    assert visitor.locator("h1").inner_text() == "Menaquinone-7 and bone density"
    assert visitor.locator(".preview-banner").count() == 0
