"""The API tests' helpers: the schema, and a GET that checks every response against it."""

import json

import pytest
import requests
import schemathesis
from django.test import Client
from django.test.utils import override_settings
from drf_spectacular.generators import SchemaGenerator
from schemathesis.core.transport import Response as SchemathesisResponse


@pytest.fixture(scope="session")
def openapi(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(ALLOWED_HOSTS=["*"]):
        document = SchemaGenerator().get_schema(request=None, public=True)
    # The schema as served: plain JSON types.
    return json.loads(json.dumps(document, default=str))


@pytest.fixture(scope="session")
def api_schema(openapi):
    return schemathesis.openapi.from_dict(openapi)


def check_against_schema(api_schema, url, response):
    """Fail unless ``response`` is one the schema documents for GET ``url``."""
    path = url.split("?")[0]
    operation = api_schema.find_operation_by_path("GET", path)
    assert operation is not None, f"{path} is not in the schema"
    headers = {key: [value] for key, value in response.headers.items()}
    request = requests.Request("GET", "http://testserver" + url).prepare()
    converted = SchemathesisResponse(
        status_code=response.status_code,
        headers=headers,
        content=response.content,
        request=request,
        elapsed=0.0,
        verify=True,
    )
    operation.validate_response(converted)


@pytest.fixture
def api(db, api_schema):
    """GET an API address as an anonymous client; the response must match the schema."""
    client = Client()

    def get(url, **extra):
        response = client.get(url, **extra)
        if response.status_code != 304:
            check_against_schema(api_schema, url, response)
        return response

    get.client = client
    return get
