"""An editor's import never creates a tag and never changes a published
study: those changes wait for a moderator, as an editor's edit does."""

import pytest
from django.core.cache import cache

from catalog.models import Status, Tag
from editorial import revisions
from editorial.models import PendingRevision
from studies.importing import study_import
from studies.models import Study
from tests.factories import StudyFactory, TagFactory

pytestmark = pytest.mark.django_db

SURFACES = ["/", "/studies/", "/tags/", "/tags/bone/", "/feed/", "/studies/k2-bone/", "/studies/k2-bone/cite.ris"]
RIS = (
    "TY  - JOUR\nTI  - Menaquinone-7 and bone: a randomised trial\nAU  - Knapen, Marjo H J\nPY  - 2013\n"
    "DO  - 10.1007/s00198-013-2325-6\nAB  - A new abstract from the file.\n"
    "KW  - Bone\nKW  - Brand new keyword\nER  - \n"
    "TY  - JOUR\nTI  - A paper new to the site\nPY  - 2020\nKW  - Another new keyword\nKW  - Bone\nER  - \n"
)


def public(client):
    pages = {}
    for path in SURFACES:
        cache.clear()
        pages[path] = client.get(path).content
    return pages


@pytest.fixture
def published():
    bone = TagFactory(name="Bone", slug="bone")
    TagFactory(name="Calcium", slug="calcium")
    return StudyFactory(
        title="K2 and bone",
        slug="k2-bone",
        paper_title="Menaquinone-7 and bone",
        doi="10.1007/s00198-013-2325-6",
        abstract="",
        tags=[bone],
        year=2013,
    )


def test_an_editors_import_changes_nothing_public_and_creates_no_tag(client, published, editor, moderator, tmp_path):
    path = tmp_path / "papers.ris"
    path.write_text(RIS)
    before = public(client)
    report = study_import(source=path, user=editor)
    assert (report.counts["created"], report.counts["updated"], report.proposed) == (1, 1, 1)
    assert sorted(report.tags_left_out) == ["Another new keyword", "Brand new keyword"]
    assert "waits for a moderator" in next(o.message for o in report.outcomes if o.outcome == "updated")
    assert not Tag.objects.filter(name__in=report.tags_left_out).exists()
    assert public(client) == before
    new = Study.objects.get(title="A paper new to the site")
    assert new.status == Status.DRAFT and [tag.name for tag in new.tags.all()] == ["Bone"]

    revision = PendingRevision.objects.pending().of(published).get()
    assert revision.source == "import" and revision.author == editor
    assert revision.changes["abstract"] == "A new abstract from the file."
    revisions.approve(revision, user=moderator)
    published.refresh_from_db()
    assert published.abstract == "A new abstract from the file."
    # The import record travels with the approval: importing the file again changes nothing.
    again = study_import(source=path, user=editor)
    assert again.counts["unchanged"] == 2 and again.proposed == 0


def test_a_moderators_import_writes_directly(client, published, moderator, tmp_path):
    path = tmp_path / "papers.ris"
    path.write_text(RIS)
    report = study_import(source=path, user=moderator)
    assert report.proposed == 0 and sorted(report.new_tags) == ["Another new keyword", "Brand new keyword"]
    published.refresh_from_db()
    assert published.abstract == "A new abstract from the file."
    assert not PendingRevision.objects.exists()
