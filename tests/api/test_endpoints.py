"""Every endpoint: what it serves, that drafts never show, its errors."""

import pytest
from openapi_spec_validator import validate

from tests.conftest import assert_no_secrets
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi(openapi):
    validate(openapi)
    assert {"/api/v1/", "/api/v1/studies/", "/api/v1/tags/{slugs}/entries/"} <= set(openapi["paths"])


def test_the_served_schema_and_docs_page(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    assert b"/api/v1/tags/{slugs}/entries/" in page.content
    # Nothing but the site's own stylesheet: the strict CSP holds.
    assert b"<script" not in page.content and b"<style" not in page.content
    assert "'unsafe-inline'" not in page["Content-Security-Policy"]


def test_the_footer_links_the_docs(client, site):
    assert b'href="/api/v1/docs/"' in client.get("/").content


def test_root_links_every_endpoint(api):
    data = api("/api/v1/").json()
    assert data["studies"].endswith("/api/v1/studies/")
    assert data["schema"].endswith("/api/v1/schema/")


def test_study_list_is_the_pages_list(api, site):
    response = api("/api/v1/studies/")
    assert response.status_code == 200
    assert_no_secrets(response.content)
    slugs = [study["slug"] for study in response.json()["results"]]
    assert slugs == ["k-calcium-review", "mk7-bone", "natto-fractures", "undated"]
    assert response.json()["next"] is None


def test_study_filters_are_the_pages(api, site):
    def slugs(query):
        response = api("/api/v1/studies/?" + query)
        assert response.status_code == 200, response.content
        assert_no_secrets(response.content)
        return [study["slug"] for study in response.json()["results"]]

    assert slugs("tag=bone&tag=calcium") == ["k-calcium-review"]
    assert slugs("type=review&type=cohort") == ["k-calcium-review", "natto-fractures"]
    assert slugs("year_min=2010&year_max=2015") == ["mk7-bone"]
    assert slugs("journal=nutrients") == ["k-calcium-review"]
    assert slugs("sort=oldest") == ["natto-fractures", "mk7-bone", "k-calcium-review", "undated"]
    assert slugs("sort=title") == ["undated", "mk7-bone", "natto-fractures", "k-calcium-review"]
    assert slugs("q=warfarin") == ["k-calcium-review"]


@pytest.mark.parametrize(
    "query, name",
    [("year_min=abc", "year_min"), ("type=nonsense", "type"), ("sort=best", "sort"), ("tag=no-such", "tag")],
)
def test_a_malformed_parameter_is_400_naming_it(api, site, query, name):
    response = api("/api/v1/studies/?" + query)
    assert response.status_code == 400
    body = response.json()
    assert name in body["detail"] and name in body["errors"]


def test_a_draft_only_tag_is_unknown(api, site):
    TagFactory(name="Hidden", slug="hidden")
    StudyFactory(title="Secret hidden", slug="secret-hidden", tags=[], draft=True)
    assert api("/api/v1/studies/?tag=hidden").status_code == 400
    assert api("/api/v1/tags/hidden/entries/").status_code == 404


def test_too_many_tags_is_400_with_the_pages_cap(api, settings, site):
    settings.MAX_TAGS_PER_LISTING = 2
    response = api("/api/v1/studies/?tag=bone&tag=calcium&tag=vitamin-k2")
    assert response.status_code == 400
    assert response.json()["errors"]["tag"] == ["Choose at most 2 categories at once."]
    response = api("/api/v1/tags/bone+calcium+vitamin-k2/entries/")
    assert response.status_code == 400
    assert response.json()["errors"]["slugs"] == ["Choose at most 2 categories at once."]


def test_cursor_pagination_walks_every_study_once(api, settings, tags):
    k2 = tags[0]
    for number in range(7):
        StudyFactory(title=f"Study {number}", slug=f"study-{number}", year=2000 + number % 3, tags=[k2])
    StudyFactory(title="Undated", slug="undated-one", year=None, month=None, tags=[k2])
    StudyFactory(title="Secret", slug="secret-draft", draft=True, tags=[k2])
    for sort in ("newest", "oldest", "title"):
        settings_size = 3
        from api.pagination import KeysetPagination

        KeysetPagination.page_size = settings_size
        try:
            expected = [s["slug"] for s in api(f"/api/v1/studies/?sort={sort}&x=1").json()["results"]]
            seen, url = [], f"/api/v1/studies/?sort={sort}"
            while url:
                data = api(url.removeprefix("http://testserver")).json()
                seen += [study["slug"] for study in data["results"]]
                url = data["next"]
            assert len(seen) == 8 and len(set(seen)) == 8
            assert seen[:3] == expected
        finally:
            KeysetPagination.page_size = settings.LISTING_PAGE_SIZE


def test_a_bad_cursor_is_400(api, site):
    for cursor in ["nonsense", "WyJuZXdlc3QiLFsieCIsMSwxXV0=", "WzFd", "e30="]:
        response = api(f"/api/v1/studies/?cursor={cursor}")
        assert response.status_code == 400
        assert "cursor" in response.json()["errors"]


def test_study_detail_has_every_citation_field(api, site):
    response = api("/api/v1/studies/mk7-bone/")
    assert response.status_code == 200
    data = response.json()
    assert [author["family"] for author in data["authors"]] == ["Knapen", "Drummen"]
    assert data["journal"] == "Osteoporosis International"
    assert data["csl"]["container-title"] == "Osteoporosis International"
    assert data["csl"]["issued"] == {"date-parts": [[2013, 3]]}
    assert [tag["slug"] for tag in data["tags"]] == ["bone", "vitamin-k2"]
    assert data["pdf_url"] is None
    assert set(data["highlights"]) == {"html", "markdown"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/studies/secret-draft/",
        "/api/v1/studies/secret-scheduled/",
        "/api/v1/articles/secret-draft-article/",
        "/api/v1/articles/secret-expired/",
        "/api/v1/studies/no-such/",
        "/api/v1/tags/no-such/entries/",
        "/api/v1/tags/bone+no-such/entries/",
    ],
)
def test_hidden_and_unknown_are_404_json(api, site, url):
    response = api(url)
    assert response.status_code == 404
    assert response.json()["detail"]
    assert_no_secrets(response.content)


def test_articles(api, site):
    response = api("/api/v1/articles/")
    assert_no_secrets(response.content)
    assert [article["slug"] for article in response.json()["results"]] == ["k2-circulation"]
    study = site["rct"]
    article = site["article"]
    article.related_studies.add(study, site["draft"])
    response = api("/api/v1/articles/k2-circulation/")
    assert_no_secrets(response.content)
    data = response.json()
    assert data["lead"] == "How menaquinone keeps calcium out of arteries."
    assert '<h2 id="arteries">' in data["body"]["html"] or "<h2" in data["body"]["html"]
    assert data["body"]["markdown"].startswith("## Arteries")
    assert [cited["slug"] for cited in data["cited_studies"]] == ["mk7-bone"]
    assert [tag["slug"] for tag in data["tags"]] == ["calcium", "vitamin-k2"]


def test_tags_with_counts(api, site):
    response = api("/api/v1/tags/")
    assert_no_secrets(response.content)
    counts = {tag["slug"]: tag["entry_count"] for tag in response.json()["results"]}
    assert counts == {"bone": 3, "calcium": 2, "vitamin-k2": 4}


def test_intersection_totals(api, site):
    data = api("/api/v1/tags/vitamin-k2+bone/entries/").json()
    assert [entry["slug"] for entry in data["results"]] == ["k-calcium-review", "mk7-bone"]
    assert (data["total"], data["total_estimated"]) == (2, False)
    data = api("/api/v1/tags/vitamin-k2+bone+calcium/entries/").json()
    assert [entry["slug"] for entry in data["results"]] == ["k-calcium-review"]
    assert (data["total"], data["total_estimated"]) == (1, False)
    assert_no_secrets(api("/api/v1/tags/vitamin-k2/entries/").content)


def test_a_repeated_tag_redirects_to_the_canonical_address(api, site):
    response = api("/api/v1/tags/bone+bone/entries/?cursor=x")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/tags/bone/entries/?cursor=x"


def test_only_get(api, site):
    client = api.client
    for method in (client.post, client.put, client.delete, client.patch):
        response = method("/api/v1/studies/", data="{}", content_type="application/json")
        assert response.status_code == 405
        assert response.json()["detail"]


def test_articles_in_the_listing_are_new_articles_too(api, tags):
    ArticleFactory(title="Another", slug="another", tags=[tags[0]])
    assert [a["slug"] for a in api("/api/v1/articles/").json()["results"]] == ["another"]
