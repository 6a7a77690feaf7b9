"""The admin as a daily tool: list pages with a fixed query count, filters,
search, autocomplete, bulk tag actions, Markdown preview."""

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Tag
from editorial import workflow
from studies.models import Study
from tests.factories import ArticleFactory, StudyFactory, TagFactory

from .helpers import text_of

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "/admin/studies/study/",
    "/admin/articles/article/",
    "/admin/k2site/tag/",
    "/admin/k2site/reviewqueueentry/",
    "/admin/k2site/transition/",
]


def make_rows(n, tags, editor):
    for i in range(n):
        StudyFactory(tags=tags, year=2000 + i % 5, status="in_review" if i % 2 else "published")
        ArticleFactory(tags=tags, author=editor)
    for study in Study.objects.filter(status="in_review"):
        workflow.Transition.objects.create(
            content_type_id=workflow.ContentType.objects.get_for_model(Study).pk,
            object_id=study.pk,
            title=study.title,
            action="submit",
            from_status="draft",
            to_status="in_review",
            actor=editor,
        )
    for i in range(n):
        TagFactory(name=f"Extra tag {i}")


def rows_shown(response):
    return len(BeautifulSoup(response.content, "html.parser").select("#result_list tbody tr"))


@pytest.mark.parametrize("url", LIST_PAGES)
def test_list_pages_run_the_same_number_of_queries_at_two_page_sizes(moderator, login, editor, url, monkeypatch):
    from django.contrib import admin

    make_rows(24, [TagFactory(name="Bone"), TagFactory(name="Calcium")], editor)
    client = login(moderator)
    client.get(url)  # warm the per-process caches (content types, permissions)
    counts = {}
    for per_page in (5, 20):
        for model_admin in admin.site._registry.values():
            monkeypatch.setattr(model_admin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        assert rows_shown(response) >= min(per_page, 10), url
        counts[per_page] = len(queries)
    assert counts[5] == counts[20], counts
    assert counts[20] <= 16, counts


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"status__exact": "in_review"}, {"Waiting"}),
        ({"study_type__exact": "meta_analysis"}, {"Meta"}),
        ({"tag": "calcium"}, {"Meta"}),
        ({"year__exact": "2011"}, {"Waiting"}),
        ({"q": "Schurgers"}, {"Waiting", "Meta", "Plain"}),
        ({"q": "10.1000/xyz"}, {"Plain"}),
    ],
)
def test_study_list_filters_and_search(moderator, login, query, expected):
    calcium = TagFactory(name="Calcium", slug="calcium")
    StudyFactory(title="Waiting", status="in_review", year=2011)
    StudyFactory(title="Meta", study_type="meta_analysis", tags=[calcium], year=2015)
    StudyFactory(title="Plain", doi="10.1000/xyz", year=2019)
    response = login(moderator).get("/admin/studies/study/", query)
    titles = {
        cell.get_text(strip=True)
        for cell in BeautifulSoup(response.content, "html.parser").select("#result_list .field-title")
    }
    assert titles == expected


def test_article_list_filters_by_author_and_year(moderator, editor, login):
    from django.utils import timezone

    ArticleFactory(title="By Edith", author=editor, first_published_at=timezone.now().replace(year=2020))
    ArticleFactory(title="By Mona", author=moderator, first_published_at=timezone.now().replace(year=2021))
    client = login(moderator)

    def titles(query):
        page = client.get("/admin/articles/article/", query)
        return {
            c.get_text(strip=True)
            for c in BeautifulSoup(page.content, "html.parser").select(
                "#result_list th.field-title, #result_list td.field-title"
            )
        }

    assert titles({"author": editor.pk}) == {"By Edith"}
    assert titles({"year": "2021"}) == {"By Mona"}


def test_tag_autocomplete_stays_quick_with_thousands_of_tags(editor, login):
    Tag.objects.bulk_create([Tag(name=f"Tag number {n:04d}", slug=f"tag-number-{n:04d}") for n in range(3000)])
    Tag.objects.create(name="Menaquinone-7", slug="menaquinone-7")
    client = login(editor)
    params = {"app_label": "articles", "model_name": "article", "field_name": "tags", "term": "menaq"}
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/autocomplete/", params)
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Menaquinone-7"]
    assert len(queries) <= 8
    page = client.get("/admin/autocomplete/", {**params, "term": "tag number"}).json()
    assert len(page["results"]) == 20 and page["pagination"]["more"] is True
    # The change form renders only the chosen tags, not 3,000 options.
    article = ArticleFactory(draft=True, tags=[Tag.objects.get(slug="menaquinone-7")])
    form = client.get(f"/admin/articles/article/{article.pk}/change/")
    assert len(BeautifulSoup(form.content, "html.parser").select("select[name=tags] option")) == 1


def test_related_studies_by_autocomplete(editor, login):
    StudyFactory(title="Rotterdam cohort")
    response = login(editor).get(
        "/admin/autocomplete/",
        {"app_label": "articles", "model_name": "article", "field_name": "related_studies", "term": "rotter"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Rotterdam cohort"]


def test_bulk_add_and_remove_tag_resync_the_public_pages(moderator, login, client):
    bone = TagFactory(name="Bone", slug="bone")
    studies = [StudyFactory(title=f"Tagged in bulk {n}") for n in range(3)]
    admin_client = login(moderator)
    selected = [s.pk for s in studies]
    response = admin_client.post(
        "/admin/studies/study/", {"action": "add_tag", "_selected_action": selected, "index": 0, "tag": "bone"}
    )
    assert response.status_code == 302
    bone.refresh_from_db()
    assert bone.entry_count == 3
    assert all(f"Tagged in bulk {n}" in text_of(client.get("/tags/bone/")) for n in range(3))
    assert all(s.version == 2 for s in Study.objects.all())
    response = admin_client.post(
        "/admin/studies/study/", {"action": "remove_tag", "_selected_action": selected[:2], "index": 0, "tag": "Bone"}
    )
    bone.refresh_from_db()
    assert bone.entry_count == 1
    page = text_of(client.get("/tags/bone/"))
    assert "Tagged in bulk 2" in page and "Tagged in bulk 0" not in page


def test_bulk_tag_action_with_an_unknown_tag_says_so_and_changes_nothing(moderator, login):
    study = StudyFactory()
    response = login(moderator).post(
        "/admin/studies/study/",
        {"action": "add_tag", "_selected_action": [study.pk], "index": 0, "tag": "Nonexistent"},
        follow=True,
    )
    assert "There is no tag “Nonexistent”" in text_of(response)
    assert not study.tags.exists()


def test_bulk_publish_from_the_list(moderator, login, client):
    drafts = [StudyFactory(draft=True, title=f"Bulk {n}") for n in range(2)]
    response = login(moderator).post(
        "/admin/studies/study/", {"action": "publish_selected", "_selected_action": [d.pk for d in drafts], "index": 0}
    )
    assert response.status_code == 302
    assert "Bulk 1" in text_of(client.get("/studies/"))


def test_markdown_preview_endpoint_is_sanitised_and_staff_only(editor, login):
    client = login(editor)
    response = client.post("/preview/markdown/", {"text": "## Heading\n\n<script>alert(1)</script>**bold**"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h2" in html and "<strong>bold</strong>" in html and "<script" not in html
    assert login(None).post("/preview/markdown/", {"text": "x"}).status_code == 404
    assert client.get("/preview/markdown/").status_code == 405
    form = client.get("/admin/articles/article/add/")
    assert b'data-markdown-preview="/preview/markdown/"' in form.content
    assert b"k2site/admin/markdown_preview" in form.content
