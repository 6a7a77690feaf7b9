"""Every kind of public page passes axe-core (the rules browsers' accessibility
tools apply: WCAG A/AA and best practices such as distinct landmarks), on a
wide screen and on a phone; and /studies/ puts its results first on a phone."""

import pytest
from django.core.management import call_command

from tests.browser import browser  # noqa: F401  (fixture)
from tests.checkers import AXE_JS, require_node_module

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "home": "/",
    "studies": "/studies/",
    "study": "/studies/bone-loss-results-in-blood-vessel-plaque-if-low-vitamin-k2-less-bone-loss-if-hig/",
    "articles": "/articles/",
    "article": "/articles/vitamin-k2-and-circulatory-system/",
    "article with a listing block": "/articles/calcium-and-vitamin-k2-many-studies/",
    "categories": "/tags/",
    "category": "/tags/vitamin-k2/",
    "intersection": "/tags/vitamin-k2+bone/",
    "search results": "/search/?q=bone",
    "search, no query": "/search/?q=",
    "search, nothing found": "/search/?q=xylophone",
    "not found": "/no-such-page/",
}
SCREENS = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}

# What axe reports, reduced to what a reader of the failure needs.
RUN_AXE = """async () => {
  const results = await axe.run(document);
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + n.failureSummary.replace(/\\s+/g, " ")),
  }));
}"""


def readable(violations):
    return "\n".join(
        f"{name} ({screen}): {v['id']} [{v['impact']}] {v['help']}\n" + "\n".join(f"    {node}" for node in v["nodes"])
        for name, screen, v in violations
    )


def test_public_pages_have_no_axe_violations(live_server, browser):  # noqa: F811
    require_node_module(AXE_JS)
    call_command("load_demo")
    violations = []
    for screen, viewport in SCREENS.items():
        # axe is injected as an inline script, which the site's CSP refuses.
        context = browser.new_context(viewport=viewport, bypass_csp=True)
        page = context.new_page()
        for name, path in PAGES.items():
            response = page.goto(live_server.url + path)
            assert response.status == (404 if name == "not found" else 200), path
            page.add_script_tag(path=str(AXE_JS))
            violations += [(name, screen, v) for v in page.evaluate(RUN_AXE)]
        context.close()
    assert not violations, "axe-core found:\n" + readable(violations)


def test_study_filters_fold_away_on_a_phone_and_stand_open_on_a_wide_screen(live_server, browser):  # noqa: F811
    call_command("load_demo")
    phone = browser.new_page(viewport=SCREENS["phone"])
    phone.goto(live_server.url + "/studies/")
    filters, results = phone.locator(".study-filters"), phone.locator(".results")
    assert not filters.is_visible()
    assert results.bounding_box()["y"] < phone.viewport_size["height"]
    phone.get_by_text("Filters", exact=True).click()
    assert filters.is_visible() and phone.get_by_label("Journal").is_visible()

    wide = browser.new_page(viewport=SCREENS["wide"])
    wide.goto(live_server.url + "/studies/")
    assert wide.locator(".study-filters").is_visible() and wide.get_by_label("Journal").is_visible()
    assert not wide.locator(".filters-fold > summary").is_visible()
