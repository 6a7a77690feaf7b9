"""The pages this feature adds or changes are valid HTML (W3C Nu checker)."""

import pytest

from tests.checkers import vnu_messages

pytestmark = pytest.mark.django_db

PAGES = [
    "/search/?q=",
    "/search/?q=menaquinone",
    "/search/?q=nothingsuch",
    TOO_LONG_QUERY := "/search/?q=" + "x" * 201,
    "/studies/?type=rct&tag=bone&year_min=2000&journal=Nutrients&q=bone",
    "/studies/?year_min=abc&tag=nope&sort=zz",
    "/studies/mk7-bone/",
    "/articles/k2-circulation/",
    "/tags/vitamin-k2+bone/",
]


def test_pages_are_valid_html(client, site, tmp_path):
    files = []
    for index, path in enumerate(PAGES):
        response = client.get(path)
        # The over-long query is refused with a message; every other page exists.
        assert response.status_code == (400 if path == TOO_LONG_QUERY else 200), path
        file = tmp_path / f"page{index}.html"
        file.write_bytes(response.content)
        files.append(str(file))
    messages = vnu_messages(files)
    by_file = {f"file:{file}": path for file, path in zip(files, PAGES, strict=True)}
    assert [f"{by_file.get(m.get('url'), m.get('url'))}: {m['message']}" for m in messages] == []
