"""Retractions and corrections (issue 14): a study's notice set by a
moderator (never by an editor), shown on its page, marked in every listing,
search result and feed entry, and carried by its exports where the format
has a place for it (read back by independent parsers)."""

import json
import xml.etree.ElementTree as ET

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware
from bs4 import BeautifulSoup
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from pybtex.database import parse_string as pybtex_parse

from catalog.models import Entry, Notice, Status
from studies.importing import study_import
from studies.models import Study
from tests.checkers import vnu_messages
from tests.editorial.helpers import change_form, form_values, text_of
from tests.factories import ArticleFactory, StudyFactory

pytestmark = pytest.mark.django_db

CITATION = "Retraction in: Lancet. 2010 Feb 6;375(9713):445. doi: 10.1016/S0140-6736(10)60175-4. PMID: 20137807."
NOTICE_URL = "https://doi.org/10.1016/s0140-6736(10)60175-4"


def retracted(**kwargs):
    return StudyFactory(
        notice=Notice.RETRACTED,
        notice_citation=CITATION,
        notice_url=NOTICE_URL,
        **{"title": "Ileal hyperplasia", **kwargs},
    )


def markers(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return [marker.get_text(strip=True) for marker in soup.select(".notice-marker")]


# -- the admin: moderators only ----------------------------------------------------------------


def test_a_moderator_sets_a_retraction_and_the_history_records_it(moderator, login):
    study = StudyFactory(title="Ileal hyperplasia")
    client = login(moderator)
    url, data = change_form(client, study)
    data.update(notice=["retracted"], notice_citation=[CITATION], notice_url=[NOTICE_URL])
    response = client.post(url, data)
    assert response.status_code == 302, text_of(response)[:2000]
    study.refresh_from_db()
    assert (study.notice, study.notice_citation, study.notice_url) == ("retracted", CITATION, NOTICE_URL)
    assert study.history.first().notice == "retracted"
    assert study.history.first().history_user == moderator
    # The listing row follows at once: every listing shows the marker.
    assert Entry.objects.get(study=study).notice == "retracted"


def test_the_notice_has_its_own_box_on_the_change_form(moderator, login):
    response = login(moderator).get(f"/admin/studies/study/{StudyFactory().pk}/change/")
    soup = BeautifulSoup(response.content, "html.parser")
    box = soup.select_one("fieldset.notice-fields")
    assert box is not None and "Retraction or correction" in box.get_text()
    assert box.select_one("select[name=notice]") is not None


def test_an_editor_sees_the_notice_but_cannot_change_or_clear_it(editor, login):
    study = retracted(status=Status.DRAFT, publish_at=None)
    client = login(editor)
    url, data = change_form(client, study)
    # Read-only: shown, not a field of the form.
    assert "notice" not in data and "notice_citation" not in data
    assert "Retraction in: Lancet. 2010" in text_of(client.get(url))
    # A forged post that clears it changes the rest, not the notice.
    data.update(title=["Ileal hyperplasia (draft)"], notice=[""], notice_citation=[""], notice_url=[""])
    response = client.post(url, data)
    assert response.status_code == 302, text_of(response)[:2000]
    study.refresh_from_db()
    assert study.title == "Ileal hyperplasia (draft)"
    assert (study.notice, study.notice_citation) == ("retracted", CITATION)


def test_an_editor_restoring_an_old_revision_keeps_the_notice(editor, moderator, login):
    study = StudyFactory(title="Ileal hyperplasia", status=Status.DRAFT, publish_at=None)
    old = study.history.first()
    url, data = change_form(login(moderator), study)
    data.update(notice=["retracted"], notice_citation=[CITATION])
    assert login(moderator).post(url, data).status_code == 302
    client = login(editor)
    history_url = f"/admin/studies/study/{study.pk}/history/{old.history_id}/"
    response = client.get(history_url)
    assert response.status_code == 200
    response = client.post(history_url, form_values(response, "historicalstudy_form"))
    assert response.status_code == 302, text_of(response)[:2000]
    study.refresh_from_db()
    assert study.notice == "retracted"


def test_the_studies_change_list_filters_by_notice(moderator, login):
    retracted()
    StudyFactory(title="Sound trial")
    response = login(moderator).get("/admin/studies/study/?notice=retracted")
    assert response.status_code == 200
    assert "Ileal hyperplasia" in text_of(response) and "Sound trial" not in text_of(response)


# -- what visitors see --------------------------------------------------------------------------


def test_the_study_page_leads_with_the_notice(client):
    study = retracted()
    response = client.get(study.get_absolute_url())
    soup = BeautifulSoup(response.content, "html.parser")
    notice = soup.select_one("article.study [role=note].study-notice")
    assert notice is not None
    # Before the citation and the summary, with its heading and the words.
    assert soup.select_one("article.study").find(["section"]) is notice
    assert notice.find("h2").get_text(strip=True) == "Retracted"
    assert "has been retracted" in " ".join(notice.get_text(" ").split())
    link = notice.find("a")
    assert link["href"] == NOTICE_URL and link.get_text(strip=True) == CITATION


@pytest.mark.parametrize(
    ("notice", "heading", "words"),
    [("corrected", "Corrected", "correction"), ("concern", "Expression of concern", "expression of concern")],
)
def test_milder_notices_say_what_they_are(client, notice, heading, words):
    study = StudyFactory(notice=notice, notice_citation="Erratum in: J Nutr. 2021;151(3):700.")
    soup = BeautifulSoup(client.get(study.get_absolute_url()).content, "html.parser")
    box = soup.select_one(".study-notice")
    assert box.find("h2").get_text(strip=True) == heading
    assert words in box.get_text(" ")
    # No link recorded: the citation alone.
    assert box.find("a") is None and "J Nutr. 2021" in box.get_text()


def test_a_study_without_a_notice_shows_none(client):
    study = StudyFactory()
    response = client.get(study.get_absolute_url())
    assert b"study-notice" not in response.content and not markers(response)


def test_every_listing_marks_a_retracted_study(client, tags):
    k2 = tags[0]
    study = retracted(tags=[k2], abstract="Menaquinone retraction example.")
    StudyFactory(title="Sound trial", tags=[k2])
    article = ArticleFactory(body=f"## Sources\n\n[[list {k2.slug}]]", tags=[k2])
    article.related_studies.add(study)
    for url in ["/", "/studies/", f"/tags/{k2.slug}/", article.get_absolute_url(), "/search/?q=menaquinone"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Retracted" in markers(response), url
    # The marker follows the title it is about.
    soup = BeautifulSoup(client.get("/studies/").content, "html.parser")
    title = soup.find("a", class_="entry-title", string="Ileal hyperplasia")
    assert title.find_next_sibling(class_="notice-marker").get_text(strip=True) == "Retracted"


def test_the_listing_row_carries_the_notice_and_a_listing_costs_the_same(count_queries, tags):
    k2 = tags[0]
    StudyFactory(tags=[k2])
    _, few = count_queries(f"/tags/{k2.slug}/", cold=True)
    for number in range(6):
        retracted(title=f"Retracted study {number}", tags=[k2])
    StudyFactory(tags=[k2], notice=Notice.CONCERN)
    response, many = count_queries(f"/tags/{k2.slug}/", cold=True)
    assert markers(response).count("Retracted") == 6 and "Expression of concern" in markers(response)
    assert many == few
    _, few = count_queries("/studies/", cold=True)
    retracted(title="One more")
    assert count_queries("/studies/", cold=True)[1] == few


def test_the_feed_marks_the_title_and_adds_a_category(client):
    retracted()
    StudyFactory(title="Sound trial")
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring(client.get("/feed/").content)
    entries = {entry.findtext(f"{atom}title"): entry for entry in feed.iter(f"{atom}entry")}
    assert "[Retracted] Ileal hyperplasia" in entries and "Sound trial" in entries

    def categories(entry):
        return [category.get("term") for category in entry.iter(f"{atom}category")]

    assert "Retracted" in categories(entries["[Retracted] Ileal hyperplasia"])
    assert "Retracted" not in categories(entries["Sound trial"])


def test_the_api_carries_the_notice(client):
    study = retracted()
    data = client.get(f"/api/v1/studies/{study.slug}/").json()
    assert (data["notice"], data["notice_citation"], data["notice_url"]) == ("retracted", CITATION, NOTICE_URL)
    assert data["csl"]["status"] == "retracted"


# -- exports ------------------------------------------------------------------------------------


def test_bibtex_says_retracted_in_a_note_both_parsers_read(client):
    study = retracted(slug="ileal")
    text = client.get("/studies/ileal/cite.bib").content.decode()
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert not library.failed_blocks
    note = library.entries[0].fields_dict["note"].value
    assert note == f"Retracted. {CITATION} {NOTICE_URL}"
    (entry,) = pybtex_parse(text, "bibtex").entries.values()
    assert entry.fields["note"].startswith("Retracted. Retraction in: Lancet. 2010")
    assert study.notice == "retracted"


def test_ris_says_retracted_in_a_note_rispy_reads(client):
    retracted(slug="ileal")
    (record,) = rispy.loads(client.get("/studies/ileal/cite.ris").content.decode())
    assert record["notes"] == [f"Retracted: {CITATION} {NOTICE_URL}"]


def test_csl_json_has_the_status_and_a_note_citeproc_renders(client):
    retracted(slug="ileal")
    items = json.loads(client.get("/studies/ileal/cite.json").content)
    assert items[0]["status"] == "retracted"
    assert items[0]["note"] == f"Retracted. {CITATION} {NOTICE_URL}"
    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(Citation([CitationItem("ileal")]))
    assert "Ileal hyperplasia" in str(bibliography.bibliography()[0])


def test_a_study_without_a_notice_exports_no_note(client):
    StudyFactory(slug="sound")
    assert "note" not in client.get("/studies/sound/cite.bib").content.decode()
    assert "N1  -" not in client.get("/studies/sound/cite.ris").content.decode()
    assert "status" not in json.loads(client.get("/studies/sound/cite.json").content)[0]


@pytest.mark.parametrize(("extension", "fmt"), [("bib", "bibtex"), ("ris", "ris"), ("json", "csljson")])
def test_our_own_exports_import_back_with_the_notice(client, write_file, extension, fmt):
    retracted(slug="ileal", doi="10.1016/s0140-6736(97)11096-0")
    StudyFactory(slug="concern", notice=Notice.CONCERN, notice_citation="", notice_url="", doi="10.1/concern")
    exported = {slug: client.get(f"/studies/{slug}/cite.{extension}").content for slug in ("ileal", "concern")}
    Study.objects.all().delete()
    for slug, content in exported.items():
        study_import(source=write_file(f"{slug}.{extension}", content), fmt=fmt)
    study = Study.objects.get(doi="10.1016/s0140-6736(97)11096-0")
    assert (study.notice, study.notice_citation, study.notice_url) == ("retracted", CITATION, NOTICE_URL)
    assert Study.objects.get(doi="10.1/concern").notice == "concern"


@pytest.fixture
def write_file(tmp_path):
    def write(name, content):
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write


def test_the_notice_and_markers_are_valid_html(client, tmp_path):
    study = retracted(slug="ileal")
    article = ArticleFactory(slug="citing")
    article.related_studies.add(study)
    pages = ["/studies/ileal/", "/studies/", "/articles/citing/", "/"]
    files = []
    for number, page in enumerate(pages):
        response = client.get(page)
        assert response.status_code == 200, page
        files.append(tmp_path / f"page{number}.html")
        files[-1].write_bytes(response.content)
    assert [message["message"] for message in vnu_messages(files)] == []
