"""The admin's upload → preview → confirm page, and who may use it."""

import pytest
from bs4 import BeautifulSoup
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Status
from studies import admin_import
from studies.models import Study

pytestmark = pytest.mark.django_db
URL = "/admin/studies/study/import/"


def upload(sample, name="zotero.ris", **data):
    return {"file": SimpleUploadedFile(name, sample(name).read_bytes()), "format": "auto", **data}


def test_url_is_the_named_one():
    assert reverse("admin_study_import") == URL


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_without_add_permission_is_forbidden(client, viewer, sample):
    client.force_login(viewer)
    assert client.get(URL).status_code == 403
    assert client.post(URL, upload(sample)).status_code == 403
    assert Study.objects.count() == 0


def test_changelist_links_to_import(client, editor):
    client.force_login(editor)
    page = BeautifulSoup(client.get("/admin/studies/study/").content, "html.parser")
    link = page.find("a", string="Import studies")
    assert link and link["href"] == URL


def test_preview_then_confirm(client, moderator, sample):
    client.force_login(moderator)
    form = BeautifulSoup(client.get(URL).content, "html.parser")
    assert form.find("input", {"name": "file"}) and form.find("input", {"name": "publish"})  # a moderator may

    response = client.post(URL, upload(sample, tags="Imported, Reading list"))
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    assert "nothing has been written yet" in page.get_text()
    counts = {
        row.th.get_text(strip=True): row.td.get_text(strip=True) for row in page.select(".import-counts tbody tr")
    }
    assert counts == {"Would be created": "3", "Would be updated": "0", "Unchanged": "0", "Failed": "0"}
    assert "Vitamin K status and vascular calcification" in page.get_text()
    assert Study.objects.count() == 0  # a preview writes nothing
    token = page.find("input", {"name": "token"})["value"]

    response = client.post(URL, {"token": token})
    assert response.status_code == 302 and response["Location"] == "/admin/studies/study/"
    assert Study.objects.count() == 3
    assert set(Study.objects.values_list("status", flat=True)) == {Status.DRAFT}
    study = Study.objects.get(doi="10.3390/nu13041222")
    assert {"Imported", "Reading list", "Bone"} <= set(study.tags.names())
    assert study.imported_at is not None
    # The stored upload is gone; the token can't be replayed.
    stored = signing.loads(token, salt=admin_import.TOKEN_SALT)["file"]
    assert not (admin_import.upload_dir() / stored).exists()
    replay = client.post(URL, {"token": token}, follow=True)
    assert "no longer there" in replay.content.decode()
    assert Study.objects.count() == 3

    # The same file again: everything unchanged.
    page = BeautifulSoup(client.post(URL, upload(sample)).content, "html.parser")
    counts = {
        row.th.get_text(strip=True): row.td.get_text(strip=True) for row in page.select(".import-counts tbody tr")
    }
    assert counts["Unchanged"] == "3" and counts["Would be created"] == "0"


def test_preview_of_a_broken_file_shows_why_and_offers_no_confirm(client, editor):
    client.force_login(editor)
    broken = SimpleUploadedFile("broken.ris", b"TY  - JOUR\nTI  - Fine\nER  - \nTY  - JOUR\nAU  - Smith, J\nER  - \n")
    response = client.post(URL, {"file": broken, "format": "auto"})
    assert response.status_code == 400
    page = BeautifulSoup(response.content, "html.parser")
    text = page.get_text(" ", strip=True)
    assert "Record 2 (line 4) : it has no title." in text or "Record 2 (line 4): it has no title." in text
    assert page.find("input", {"name": "token"}) is None
    assert Study.objects.count() == 0


def test_not_a_reference_file(client, editor):
    client.force_login(editor)
    response = client.post(URL, {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4\x00\x01"), "format": "auto"})
    assert response.status_code == 400
    assert "format isn't recognised" in BeautifulSoup(response.content, "html.parser").get_text()


def test_tampered_or_foreign_token(client, editor, moderator, sample):
    client.force_login(moderator)
    page = BeautifulSoup(client.post(URL, upload(sample)).content, "html.parser")
    token = page.find("input", {"name": "token"})["value"]
    client.force_login(editor)
    assert client.post(URL, {"token": token}).status_code == 403
    response = client.post(URL, {"token": token + "x"}, follow=True)
    assert "expired or is not valid" in response.content.decode()
    assert Study.objects.count() == 0


def test_editor_cannot_publish(client, editor, sample):
    client.force_login(editor)
    assert client.post(URL, upload(sample, publish="on")).status_code == 403
    assert Study.objects.count() == 0


def test_moderator_publishes(client, moderator, sample):
    client.force_login(moderator)
    form = BeautifulSoup(client.get(URL).content, "html.parser")
    assert form.find("input", {"name": "publish"})
    page = BeautifulSoup(client.post(URL, upload(sample, publish="on")).content, "html.parser")
    assert "published now" in page.get_text()
    client.post(URL, {"token": page.find("input", {"name": "token"})["value"]})
    assert Study.objects.published().count() == 3


STUBS = (
    b"TY  - JOUR\nTI  - First good\nER  - \nTY  - JOUR\nAU  - Stub, A\nER  - \nTY  - JOUR\nTI  - Second good\nER  - \n"
)


def test_skip_invalid_checkbox_previews_and_imports_the_good_records(client, editor):
    client.force_login(editor)
    form = BeautifulSoup(client.get(URL).content, "html.parser")
    assert form.find("input", {"name": "skip_invalid", "type": "checkbox"})

    # Without it, the file is refused, and the page says what the box would do.
    response = client.post(URL, {"file": SimpleUploadedFile("stubs.ris", STUBS), "format": "auto"})
    assert response.status_code == 400
    text = BeautifulSoup(response.content, "html.parser").get_text(" ", strip=True)
    assert "Skip records that can't be read" in text and "import the other 2 records" in text

    response = client.post(
        URL, {"file": SimpleUploadedFile("stubs.ris", STUBS), "format": "auto", "skip_invalid": "on"}
    )
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    counts = {
        row.th.get_text(strip=True): row.td.get_text(strip=True) for row in page.select(".import-counts tbody tr")
    }
    assert counts == {"Would be created": "2", "Would be updated": "0", "Unchanged": "0", "Skipped": "1"}
    skipped = page.select(".import-failures li")
    assert [item.get_text(" ", strip=True) for item in skipped] == ["Record 2 (line 4) : it has no title."] or [
        item.get_text(strip=True) for item in skipped
    ] == ["Record 2 (line 4): it has no title."]
    assert "Records that will be skipped" in page.get_text()
    assert page.find("input", {"type": "submit", "value": "Import 2 records"})
    assert Study.objects.count() == 0

    response = client.post(URL, {"token": page.find("input", {"name": "token"})["value"]}, follow=True)
    assert sorted(Study.objects.values_list("paper_title", flat=True)) == ["First good", "Second good"]
    assert "2 created, 0 updated, 0 unchanged, 1 skipped" in response.content.decode()
