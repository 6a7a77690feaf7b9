"""A study's PDF reaches a visitor only while the study is published, under
a name nobody can guess, and leaves storage when replaced or deleted."""

import datetime
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Status
from studies.models import Study
from studies.pdf import is_unguessable
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
NOW = timezone.now()
HIDDEN = {
    "draft": dict(status=Status.DRAFT, publish_at=None),
    "in review": dict(status=Status.IN_REVIEW, publish_at=None),
    "scheduled": dict(status=Status.PUBLISHED, publish_at=NOW + datetime.timedelta(days=2)),
    "expired": dict(publish_at=NOW - datetime.timedelta(days=9), expire_at=NOW - datetime.timedelta(days=1)),
    "archived": dict(status=Status.ARCHIVED, publish_at=NOW - datetime.timedelta(days=9)),
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def with_pdf(**fields):
    study = StudyFactory(**fields)
    study.pdf.save("mandatori-2021-nutrients.pdf", ContentFile(PDF), save=True)
    return study


def test_a_published_study_pdf_downloads_as_an_attachment(client):
    study = with_pdf(slug="k2-bone")
    response = client.get("/studies/k2-bone/pdf/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "k2-bone.pdf" in disposition
    assert response["Content-Security-Policy"].startswith("sandbox")
    page = client.get(study.get_absolute_url()).content.decode()
    assert 'href="/studies/k2-bone/pdf/"' in page


def test_the_stored_name_cannot_be_guessed_from_the_upload():
    study = with_pdf()
    assert "mandatori" not in study.pdf.name and is_unguessable(study.pdf.name)
    assert study.pdf.name != with_pdf().pdf.name


@pytest.mark.parametrize("state", list(HIDDEN))
def test_a_hidden_study_pdf_is_404_for_visitors_and_there_for_staff(client, state, editor, login):
    study = with_pdf(slug="hidden", **HIDDEN[state])
    assert client.get("/studies/hidden/pdf/").status_code == 404
    staff = login(editor)
    response = staff.get("/studies/hidden/pdf/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert "no-store" in response["Cache-Control"]
    # Staff without the permission to view studies are visitors here.
    editor.groups.clear()
    editor.user_permissions.set(Permission.objects.none())
    assert login(editor).get("/studies/hidden/pdf/").status_code == 404
    assert study.pdf


def test_media_files_are_not_served_by_path(client):
    study = with_pdf()
    assert client.get(f"/media/{study.pdf.name}").status_code == 404
    assert client.get("/media/" + "x" * 300 + ".pdf").status_code == 404


def test_a_study_without_a_pdf_has_no_pdf_address(client):
    StudyFactory(slug="bare")
    assert client.get("/studies/bare/pdf/").status_code == 404
    assert client.get("/studies/no-such-study/pdf/").status_code == 404


def test_a_replaced_pdf_and_a_deleted_study_leave_storage(django_capture_on_commit_callbacks):
    study = with_pdf()
    first = study.pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        study = Study.objects.get(pk=study.pk)
        study.pdf.save("second.pdf", ContentFile(PDF + b"%second"), save=True)
    assert not default_storage.exists(first) and default_storage.exists(study.pdf.name)
    second = study.pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        study.delete()
    assert not default_storage.exists(second)


def test_prune_media_renames_guessable_names_and_deletes_orphans(media_root):
    study = StudyFactory()
    # An upload from before names were random, and a file nothing points to.
    default_storage.save("studies/pdf/2026/mandatori.pdf", ContentFile(PDF))
    Study.objects.filter(pk=study.pk).update(pdf="studies/pdf/2026/mandatori.pdf")
    default_storage.save("studies/pdf/2025/replaced-long-ago.pdf", ContentFile(PDF))
    call_command("prune_media", stdout=StringIO())
    study.refresh_from_db()
    assert is_unguessable(study.pdf.name) and study.pdf.read() == PDF
    remaining = sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*.pdf"))
    assert remaining == [study.pdf.name]
    call_command("prune_media", stdout=StringIO())
    assert sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*.pdf")) == remaining


@pytest.mark.parametrize(
    ("server", "header", "expected"),
    [("nginx", "X-Accel-Redirect", "/protected-media/{name}"), ("apache", "X-Sendfile", "{root}/{name}")],
)
def test_production_hands_the_bytes_to_the_web_server(client, settings, media_root, server, header, expected):
    settings.PRIVATE_MEDIA_SERVER = server
    study = with_pdf(slug="served")
    response = client.get("/studies/served/pdf/")
    assert response.status_code == 200 and response.content == b""
    assert response[header] == expected.format(name=study.pdf.name, root=media_root)
    assert response["Content-Disposition"] == "attachment; filename*=UTF-8''served.pdf"
    with_pdf(slug="secret", status=Status.DRAFT, publish_at=None)
    assert client.get("/studies/secret/pdf/").status_code == 404
