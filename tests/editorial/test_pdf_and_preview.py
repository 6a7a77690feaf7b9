"""PDF uploads checked by content and size; staff-only previews that look
exactly like the public page."""

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Status
from studies import validators
from studies.validators import PDF_MAX_BYTES, validate_pdf
from tests.factories import ArticleFactory, StudyFactory, TagFactory

from .helpers import change_form, text_of

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_real_pdf_passes():
    validate_pdf(SimpleUploadedFile("paper.pdf", PDF, content_type="application/pdf"))


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("paper.pdf", b"<html><script>alert(1)</script></html>", "is not a PDF"),
        ("paper.pdf", b"", "is not a PDF"),
        ("paper.pdf", b"  %PDF-1.4 but not at the start", "is not a PDF"),
        ("paper.html", PDF, "is not a PDF"),
    ],
)
def test_not_a_pdf_is_refused_with_a_clear_message(name, content, message):
    with pytest.raises(ValidationError) as error:
        validate_pdf(SimpleUploadedFile(name, content, content_type="application/pdf"))
    assert message in error.value.messages[0] and name in error.value.messages[0]


def test_too_large_is_refused_with_the_limit(monkeypatch):
    monkeypatch.setattr(validators, "PDF_MAX_BYTES", 100)
    with pytest.raises(ValidationError) as error:
        validate_pdf(SimpleUploadedFile("big.pdf", PDF + b"0" * 100))
    assert "at most 100" in error.value.messages[0]
    assert PDF_MAX_BYTES == 20 * 1024 * 1024


def test_admin_upload_refuses_a_fake_pdf_and_keeps_the_rest_unsaved(editor, login):
    study = StudyFactory(draft=True, title="Before")
    client = login(editor)
    url, data = change_form(client, study)
    data["title"] = ["After"]
    data["pdf"] = SimpleUploadedFile("paper.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "“paper.pdf” is not a PDF" in text_of(response)
    study.refresh_from_db()
    assert study.title == "Before" and not study.pdf


def test_admin_upload_accepts_a_pdf(editor, login):
    study = StudyFactory(draft=True)
    client = login(editor)
    url, data = change_form(client, study)
    data["pdf"] = SimpleUploadedFile("paper.pdf", PDF, content_type="application/pdf")
    assert client.post(url, data).status_code == 302
    study.refresh_from_db()
    assert study.pdf.name.endswith(".pdf") and study.pdf.read().startswith(b"%PDF-")
    # Saving again without a new file keeps the stored one.
    url, data = change_form(client, study)
    assert client.post(url, data).status_code == 302
    study.refresh_from_db()
    assert study.pdf


# --- preview ----------------------------------------------------------------


@pytest.mark.parametrize("state", [Status.DRAFT, Status.IN_REVIEW, Status.ARCHIVED])
def test_staff_preview_a_hidden_entry_visitors_get_404(editor, login, state):
    study = StudyFactory(status=state, publish_at=None, title="Hidden study under preview")
    article = ArticleFactory(status=state, publish_at=None, title="Hidden article under preview")
    for entry, url in ((study, f"/preview/studies/{study.pk}/"), (article, f"/preview/articles/{article.pk}/")):
        response = login(editor).get(url)
        assert response.status_code == 200
        assert entry.title in text_of(response)
        assert "Visitors cannot see this page" in text_of(response)
        assert response["X-Robots-Tag"].startswith("noindex")
        assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
        assert login(None).get(url).status_code == 404
        assert login(None).get(entry.get_absolute_url()).status_code == 404


def test_preview_is_closed_to_logged_in_non_staff(login, db):
    from django.contrib.auth.models import User

    visitor = User.objects.create_user("visitor")
    study = StudyFactory(draft=True)
    assert login(visitor).get(f"/preview/studies/{study.pk}/").status_code == 404
    assert login(visitor).get("/preview/studies/999999/").status_code == 404


@pytest.mark.parametrize("kind", ["study", "article"])
def test_preview_renders_exactly_what_visitors_get(editor, login, client, kind):
    bone = TagFactory(name="Bone", slug="bone")
    if kind == "study":
        entry = StudyFactory(tags=[bone], summary="**Key** finding.", doi="10.1/abc")
        StudyFactory(tags=[bone], title="A neighbour")
        preview_url = f"/preview/studies/{entry.pk}/"
    else:
        entry = ArticleFactory(tags=[bone])
        entry.related_studies.add(StudyFactory(tags=[bone], title="A neighbour"))
        preview_url = f"/preview/articles/{entry.pk}/"
    public = BeautifulSoup(client.get(entry.get_absolute_url()).content, "html.parser")
    preview = BeautifulSoup(login(editor).get(preview_url).content, "html.parser")
    assert str(preview.find("main")) == str(public.find("main"))
    assert preview.select_one(".preview-banner") and not public.select_one(".preview-banner")


def test_save_and_preview_goes_to_the_preview(editor, login):
    article = ArticleFactory(draft=True)
    client = login(editor)
    url, data = change_form(client, article)
    data["_preview"] = ["Save and preview"]
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == f"/preview/articles/{article.pk}/"


def test_robots_txt_disallows_previews(client):
    assert "Disallow: /preview/" in client.get("/robots.txt").content.decode()


def test_preview_pages_are_valid_html(editor, login, tmp_path):
    from tests.checkers import vnu_messages

    bone = TagFactory(name="Bone", slug="bone")
    study = StudyFactory(draft=True, tags=[bone], title='Quotes " and <angle> & more', summary="**x**")
    article = ArticleFactory(status=Status.IN_REVIEW, publish_at=None, tags=[bone])
    client = login(editor)
    files = []
    for index, url in enumerate([f"/preview/studies/{study.pk}/", f"/preview/articles/{article.pk}/"]):
        page = tmp_path / f"preview{index}.html"
        page.write_text(client.get(url).content.decode())
        files.append(str(page))
    assert vnu_messages(files) == []
