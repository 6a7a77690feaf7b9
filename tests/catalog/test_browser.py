"""A visitor in a real browser: home → a category → an intersection → an article."""

import pytest
from django.core.management import call_command

from tests.browser import browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_visitor_browses_from_home_to_an_intersection_and_reads_an_article(live_server, browser):  # noqa: F811
    call_command("load_demo")
    page = browser.new_page()
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Vitamin K2 and health, from the evidence"

    page.get_by_role("complementary").get_by_role("link", name="Vitamin K2", exact=True).click()
    page.wait_for_url("**/tags/vitamin-k2/")
    assert page.locator("h1").inner_text() == "Items in category Vitamin K2"

    page.locator(".narrow-down").get_by_role("link", name="Bone", exact=True).click()
    page.wait_for_url("**/tags/vitamin-k2+bone/")
    assert "Items in both categories Vitamin K2 and Bone are listed here" in page.locator("h1").inner_text()
    assert page.locator(".entry-list__item").count() == 29
    assert (
        "Apr 2021"
        in page.locator(".entry-list__item", has_text="Bone loss results in blood vessel plaque").inner_text()
    )

    page.goto(live_server.url + "/articles/")
    page.get_by_role("link", name="Vitamin K2 and circulatory system").click()
    page.wait_for_url("**/articles/vitamin-k2-and-circulatory-system/")
    page.locator(".toc").get_by_role("link", name="Validity of supplementation").click()
    page.wait_for_url("**#validity-of-supplementation")
    assert page.locator("#validity-of-supplementation").is_visible()
    # The stylesheet loaded from our own server.
    assert page.evaluate("getComputedStyle(document.querySelector('.toc')).borderRadius") == "6px"


def test_pages_fit_a_phone_screen(live_server, browser):  # noqa: F811
    call_command("load_demo")
    page = browser.new_page(viewport={"width": 360, "height": 740}, device_scale_factor=2)
    for path in ["/", "/tags/vitamin-k2+bone/", "/articles/vitamin-k2-and-circulatory-system/", "/studies/"]:
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"


def test_visitor_walks_the_tree_to_an_intersection_narrows_it_and_follows_it(live_server, browser):  # noqa: F811
    """home → tag → child tag → intersection → narrow down → facet → feed."""
    call_command("load_demo")
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("complementary").get_by_role("link", name="Vitamin K", exact=True).click()
    page.wait_for_url("**/tags/vitamin-k/")
    assert "Vitamin K includes its subcategories" in page.locator(".tree-note").inner_text()

    page.locator(".subcategories").get_by_role("link", name="Vitamin K2", exact=True).click()
    page.wait_for_url("**/tags/vitamin-k2/")
    assert page.locator(".breadcrumbs").get_by_role("link", name="Vitamin K").is_visible()

    page.locator(".narrow-down").get_by_role("link", name="Bone", exact=True).click()
    page.wait_for_url("**/tags/vitamin-k2+bone/")
    assert page.locator(".entry-list__item").count() == 29

    page.locator(".narrow-down").get_by_role("link", name="Calcium", exact=True).click()
    page.wait_for_url("**/tags/vitamin-k2+bone+calcium/")
    assert "Items in all of categories Vitamin K2, Bone and Calcium" in page.locator("h1").inner_text()
    everything = page.locator(".entry-list__item").count()

    # The first study design offered (the demo's studies here are untyped: "Other").
    facet = page.locator(".facet-list li", has=page.locator("a")).first
    design = facet.locator("a").inner_text()
    expected = int(facet.locator(".count").inner_text().split()[0].lstrip("~"))
    facet.locator("a").click()
    page.wait_for_url("**/tags/vitamin-k2+bone+calcium/?type=*")
    assert 0 < page.locator(".entry-list__item").count() == expected < everything
    assert f"Type: {design}" in page.locator(".applied-filters__list").inner_text()

    feed_url = page.locator(".feed-link a").get_attribute("href")
    response = page.request.get(page.url.split("?")[0] + feed_url)
    assert response.ok and response.headers["content-type"].startswith("application/atom+xml")
    assert response.text().count("<entry>") == expected
