"""HTTP behaviour: ETags and 304s, the page cache, CORS, the rate limit, and
the proof that responses are checked against the schema at all."""

import pytest
from django.http import JsonResponse
from schemathesis.core.failures import FailureGroup

from tests.api.conftest import check_against_schema

pytestmark = pytest.mark.django_db


def test_etag_and_304(api, site):
    response = api("/api/v1/studies/")
    etag = response["ETag"]
    assert etag
    again = api("/api/v1/studies/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


def test_cors_open_for_get_on_the_api_only(api, client, site):
    response = api("/api/v1/tags/", HTTP_ORIGIN="https://elsewhere.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    preflight = client.options(
        "/api/v1/tags/", HTTP_ORIGIN="https://elsewhere.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "POST" not in preflight["Access-Control-Allow-Methods"]
    page = client.get("/tags/", HTTP_ORIGIN="https://elsewhere.example")
    assert "Access-Control-Allow-Origin" not in page


def test_rate_limit_per_address_is_a_json_429(api, settings, site):
    settings.API_THROTTLE_RATE = "3/minute"
    # Different addresses of the API each time: a cached page is not counted twice.
    statuses = [api(f"/api/v1/studies/?sort={sort}").status_code for sort in ("newest", "oldest", "title")]
    assert statuses == [200, 200, 200]
    response = api("/api/v1/tags/")
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()
    assert int(response["Retry-After"]) > 0
    other = api("/api/v1/tags/", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_a_response_that_breaks_the_schema_fails(api_schema):
    with pytest.raises(FailureGroup):
        check_against_schema(api_schema, "/api/v1/tags/", JsonResponse({"results": [{"slug": 1}]}))
