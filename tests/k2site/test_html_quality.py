"""Pages are valid HTML (the W3C Nu checker, vnu.jar, run locally) and keep
the basics of accessibility: language, landmarks, one h1, labelled inputs,
readable contrast."""

import re

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.core.management import call_command

from tests.checkers import vnu_messages
from tests.factories import StudyFactory

PAGES = [
    "/",
    "/tags/",
    "/tags/vitamin-k2/",
    "/tags/vitamin-k2+bone/",
    "/tags/vitamin-k2+bone+calcium/",
    "/articles/",
    "/articles/vitamin-k2-and-circulatory-system/",
    "/studies/",
    "/studies/bone-loss-results-in-blood-vessel-plaque-if-low-vitamin-k2-less-bone-loss-if-hig/",
    "/articles/calcium-and-vitamin-k2-many-studies/",
    "/studies/vitamin-k-and-bone/",
    "/tags/no-such-tag/",
    "/api/v1/docs/",
]
MISSING_PAGE = "/tags/no-such-tag/"


@pytest.fixture
def demo_pages(client, db):
    call_command("load_demo")
    StudyFactory(title='Quotes " and <angle> brackets & ampersands', slug="tricky")
    pages = {}
    for path in [*PAGES, "/studies/tricky/"]:
        response = client.get(path)
        # Only the page meant to be missing may be a 404: another one would
        # be a lost route whose error page passes the checks.
        assert response.status_code == (404 if path == MISSING_PAGE else 200), path
        pages[path] = response.content.decode()
    return pages


def test_pages_are_valid_html(demo_pages, tmp_path):
    files = []
    for index, html in enumerate(demo_pages.values()):
        file = tmp_path / f"page{index}.html"
        file.write_text(html)
        files.append(str(file))
    messages = vnu_messages(files)
    by_page = {str(tmp_path / f"page{i}.html"): path for i, path in enumerate(demo_pages)}
    errors = [f"{by_page.get(m.get('url', '').removeprefix('file:'), m.get('url'))}: {m['message']}" for m in messages]
    assert errors == []


def test_pages_have_landmarks_one_h1_and_labelled_inputs(demo_pages):
    for path, html in demo_pages.items():
        soup = BeautifulSoup(html, "html.parser")
        assert soup.html.get("lang") == "en", path
        assert soup.find("main") and soup.find("header") and soup.find("footer"), path
        assert soup.find("nav", attrs={"aria-label": True}), path
        assert len(soup.find_all("h1")) == 1, path
        for field in soup.find_all(["input", "select", "textarea"]):
            if field.get("type") in ("hidden", "submit"):
                continue
            assert field.get("id") and soup.find("label", attrs={"for": field["id"]}), (path, field)
        for image in soup.find_all("img"):
            assert image.has_attr("alt"), (path, image)
        for asset in soup.find_all("link", rel=["stylesheet", "icon", "preload", "modulepreload"]):
            assert not re.match(r"^(https?:)?//", asset["href"]), f"{path} loads an external asset"
        assert not soup.find("script", src=re.compile(r"^(https?:)?//")), f"{path} loads an external script"


def _luminance(hex_colour):
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_text_colours_meet_wcag_aa_contrast():
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [
        ("ink", "paper"),
        ("muted", "paper"),
        ("link", "paper"),
        ("accent-ink", "accent"),
        ("ink", "panel"),
        ("muted", "panel"),
        ("link", "panel"),
    ]
    for foreground, background in pairs:
        assert contrast(colours[foreground], colours[background]) >= 4.5, (foreground, background)
