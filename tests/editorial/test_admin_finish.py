"""The admin's finish: one Tags entry, the site's name, emails with absolute
links, and a studies change list that fits 1280 px (in Chromium)."""

import pytest
from bs4 import BeautifulSoup
from django.core import mail

from editorial import workflow
from tests.browser import browser  # noqa: F401  (fixture)
from tests.conftest import PASSWORD, make_user
from tests.factories import StudyFactory, TagFactory

from .test_browser_workflow import log_in


@pytest.mark.django_db
def test_one_tags_entry_and_the_site_name(moderator, login):
    page = BeautifulSoup(login(moderator).get("/admin/").content, "html.parser")
    assert page.select_one("#site-name").get_text(strip=True) == "K2 Site admin"
    tags_links = [a["href"] for a in page.select("a") if a.get_text(strip=True) == "Tags"]
    assert tags_links == ["/admin/k2site/tag/"]
    assert "/admin/taggit/" not in str(page)


@pytest.mark.django_db
def test_emails_link_with_absolute_addresses_when_site_url_is_set(
    editor, moderator, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://k2.example.org/"
    study = StudyFactory(draft=True)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(study, user=editor)
    (message,) = mail.outbox
    assert f"Open it: https://k2.example.org/admin/studies/study/{study.pk}/change/" in message.body


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_studies_change_list_fits_1280_px_and_the_preview_reads_like_the_site(live_server, browser):  # noqa: F811
    make_user("mona", "Moderators", password=PASSWORD)
    tags = [TagFactory(name=f"Category with a long name {number}") for number in range(6)]
    for number in range(8):
        StudyFactory(
            title=f"A long study headline about menaquinone-7 and arterial stiffness in older adults, part {number}",
            journal="Arteriosclerosis, Thrombosis, and Vascular Biology and another long journal name",
            tags=tags,
        )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "mona")
    page.goto(live_server.url + "/admin/studies/study/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # The admin puts the table in a box that scrolls sideways when too wide.
    results = page.locator("#changelist .results")
    assert results.evaluate("box => box.scrollWidth <= box.clientWidth"), results.evaluate("box => box.scrollWidth")
    page.goto(live_server.url + "/admin/articles/article/add/")
    page.fill("#id_body", "## A section\n\nText with [a link](https://example.org).")
    page.locator(".field-body .md-preview-button").click()
    heading = page.locator("#id_body-preview h2")
    heading.wait_for()
    assert "Georgia" in heading.evaluate("element => getComputedStyle(element).fontFamily")
