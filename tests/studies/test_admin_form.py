"""Entering a study as an editor would: authors as lines of text, DOI and
PMID in whatever form they were copied, one canonical form stored."""

import pytest

from studies.importing import study_import
from studies.models import Study
from tests.editorial.helpers import form_values, text_of

pytestmark = pytest.mark.django_db


def add_study(client, **fields):
    page = client.get("/admin/studies/study/add/")
    data = form_values(page, "study_form")
    data.update({"title": ["K2 and bone"], "slug": ["k2-and-bone"], "study_type": ["rct"], **fields})
    return client.post("/admin/studies/study/add/", data)


def test_authors_doi_and_pmid_as_people_type_them(editor, login, client):
    response = add_study(
        login(editor),
        authors=["Knapen MH\nDrummen, Nadja E\n  Vermeer C \n{EPIC Study Group}\n"],
        doi=["https://doi.org/10.3390/NU13041222 "],
        pmid=["PMID: 33919123"],
    )
    assert response.status_code == 302, text_of(response)
    study = Study.objects.get(slug="k2-and-bone")
    assert study.authors == [
        {"family": "Knapen", "given": "MH"},
        {"family": "Drummen", "given": "Nadja E"},
        {"family": "Vermeer", "given": "C"},
        {"family": "EPIC Study Group", "given": ""},
    ]
    assert (study.doi, study.pmid) == ("10.3390/nu13041222", "33919123")
    assert study.author_names == ["Knapen MH", "Drummen NE", "Vermeer C", "EPIC Study Group"]
    # The form shows them back the way they were typed.
    shown = form_values(login(editor).get(f"/admin/studies/study/{study.pk}/change/"), "study_form")["authors"][0]
    assert shown == "Knapen MH\nDrummen, Nadja E\nVermeer C\n{EPIC Study Group}"


def test_a_later_import_of_the_same_paper_matches_instead_of_duplicating(editor, login, tmp_path):
    add_study(login(editor), doi=["doi: 10.3390/NU13041222"])
    path = tmp_path / "same.ris"
    path.write_text("TY  - JOUR\nTI  - The Dual Role of Vitamin K2\nDO  - 10.3390/nu13041222\nPY  - 2021\nER  - \n")
    report = study_import(source=path)
    assert report.counts["created"] == 0 and Study.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("authors", ["Knapen MH\nMarjo Knapen"], "Line 2: “Marjo Knapen”"),
        ("authors", ["Knapen, Marjo, H"], "Line 1"),
        ("doi", ["https://example.org/paper"], "is not a DOI"),
        ("pmid", ["PMC12345"], "is not a PubMed ID"),
    ],
)
def test_bad_entries_are_explained_and_nothing_is_saved(editor, login, field, value, message):
    response = add_study(login(editor), **{field: value})
    assert response.status_code == 200 and message in text_of(response)
    assert not Study.objects.exists()
