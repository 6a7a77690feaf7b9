"""Bad input gets a clear 4xx, never a 500: huge page numbers, NUL
characters, too many categories at once; feeds carry summaries as text and
pages never show a login name."""

import json

import feedparser
import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import User
from django.core.cache import cache

from studies.importing import ImportRefused, study_import
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db

PAGINATED = ["/articles/", "/studies/", "/tags/bone/", "/tags/bone+calcium/", "/search/?q=bone"]
HUGE = "99999999999999999999"


@pytest.fixture
def entries():
    bone, calcium = TagFactory(name="Bone", slug="bone"), TagFactory(name="Calcium", slug="calcium")
    for number in range(3):
        StudyFactory(title=f"Bone study {number}", tags=[bone, calcium])
    ArticleFactory(title="Bone article", tags=[bone, calcium])
    return bone, calcium


@pytest.mark.parametrize("path", PAGINATED)
def test_a_huge_page_number_is_404(client, entries, path):
    separator = "&" if "?" in path else "?"
    for page in (HUGE, "1000000", "-5", "abc"):
        response = client.get(f"{path}{separator}page={page}")
        assert response.status_code in (200, 404), (path, page, response.status_code)
    assert client.get(f"{path}{separator}page={HUGE}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/search/?q=a%00b",
        "/tags/bone%00/",
        "/studies/?journal=x%00",
        "/studies/%00/",
        "/admin/studies/study/?q=a%00b",
        "/admin/autocomplete/?term=a%00&app_label=studies&model_name=study&field_name=tags",
    ],
)
def test_a_nul_character_is_a_400_with_a_message(client, moderator, path):
    client.force_login(moderator)
    response = client.get(path)
    assert response.status_code == 400, path
    assert "NUL character" in response.content.decode()


def test_an_import_record_with_a_nul_is_refused_naming_the_record_and_line(tmp_path):
    path = tmp_path / "nul.ris"
    path.write_text("TY  - JOUR\nTI  - Fine\nER  - \n\nTY  - JOUR\nTI  - Bad\x00title\nER  - \n")
    with pytest.raises(ImportRefused) as refused:
        study_import(source=path)
    message = str(refused.value)
    assert "Record 2 (line 5)" in message and "NUL" in message


def test_too_many_categories_at_once_is_refused_before_any_query(client, settings, entries, django_assert_num_queries):
    settings.MAX_TAGS_PER_LISTING = 2
    third = TagFactory(name="Heart", slug="heart")
    StudyFactory(tags=[third])
    for path in ("/tags/bone+calcium+heart/", "/tags/bone+calcium+heart/feed/", "/tags/bone+calcium+heart/cite.ris"):
        with django_assert_num_queries(0):
            assert client.get(path).status_code == 404, path
    response = client.get("/studies/?tag=bone&tag=calcium&tag=heart")
    assert response.status_code == 400
    assert "at most 2 categories" in response.content.decode()
    assert client.get("/studies/?tag=bone&tag=calcium").status_code == 200
    assert client.get("/tags/bone+calcium/").status_code == 200


def test_feed_summaries_are_plain_text(client):
    tag = TagFactory(name="Bone", slug="bone")
    StudyFactory(
        title="Tricky summary",
        tags=[tag],
        summary="Effect was p < 0.05 <script>alert(1)</script> <img src=x onerror=alert(2)>",
    )
    body = client.get("/tags/bone/feed/").content.decode()
    (entry,) = feedparser.parse(body).entries
    assert entry.summary_detail.type == "text/plain"
    assert "p < 0.05" in entry.summary and "<script>" in entry.summary  # shown as typed, never run
    assert 'type="html"' not in body


def test_pages_never_show_a_login_name(client):
    author = User.objects.create_user("edith_login", first_name="", last_name="")
    article = ArticleFactory(title="Unsigned", author=author)
    html = client.get(article.get_absolute_url()).content.decode()
    assert "edith_login" not in html
    soup = BeautifulSoup(html, "html.parser")
    data = json.loads(soup.find("script", type="application/ld+json").string)
    assert data["author"]["@type"] == "Organization"
    author.first_name, author.last_name = "Edith", "Writer"
    author.save()
    cache.clear()  # a renamed author announces no change to the page cache
    html = client.get(article.get_absolute_url()).content.decode()
    assert "By Edith Writer" in html and "edith_login" not in html
