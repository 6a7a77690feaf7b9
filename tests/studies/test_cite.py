"""Citation exports read back by independent parsers; citation meta tags,
JSON-LD and OpenGraph in the page head, escaped."""

import json

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors
from bs4 import BeautifulSoup
from django.core.files.base import ContentFile

from tests.conftest import assert_no_secrets
from tests.factories import ArticleFactory, StudyFactory

pytestmark = pytest.mark.django_db

AUTHORS = [
    {"family": "Mandatori", "given": "Domitilla"},
    {"family": "Di Pietro", "given": "Natalia"},
    {"family": "Müller", "given": "Jörg-Peter"},
    {"family": "K2 Study Group"},
]


@pytest.fixture
def study(tags):
    return StudyFactory(
        title="The dual role of vitamin K2",
        paper_title='The Dual Role of Vitamin K2 in "Bone-Vascular Crosstalk": 50% & {more}',
        slug="dual-role",
        authors=AUTHORS,
        journal="Nutrients",
        year=2021,
        month=4,
        volume="13",
        issue="4",
        pages="1222-1230",
        doi="10.3390/nu13041222",
        pmid="33918097",
        url="https://www.mdpi.com/2072-6643/13/4/1222",
        abstract="Osteoporosis and vascular calcification\nare linked.",
        tags=[tags[0], tags[1]],
    )


def download(client, url, content_type, filename):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type}; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    return response.content.decode()


def test_bibtex_round_trip(client, study):
    text = download(client, "/studies/dual-role/cite.bib", "application/x-bibtex", "dual-role.bib")
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors()])
    assert not library.failed_blocks
    (entry,) = library.entries
    fields = {name: field.value for name, field in entry.fields_dict.items()}
    assert entry.entry_type == "article" and entry.key == "mandatori2021dual"
    assert fields["author"] == ["Mandatori, Domitilla", "Di Pietro, Natalia", "Müller, Jörg-Peter", "K2 Study Group"]
    assert fields["title"] == 'The Dual Role of Vitamin K2 in "Bone-Vascular Crosstalk": 50% & {more}'
    assert fields["journal"] == "Nutrients"
    assert (fields["year"], fields["month"], fields["volume"], fields["number"]) == ("2021", "apr", "13", "4")
    assert fields["pages"] == "1222–1230"  # "--" decoded to an en dash
    assert fields["doi"] == "10.3390/nu13041222"
    assert fields["abstract"] == "Osteoporosis and vascular calcification are linked."


def test_ris_round_trip(client, study):
    text = download(client, "/studies/dual-role/cite.ris", "application/x-research-info-systems", "dual-role.ris")
    (record,) = rispy.loads(text)
    assert record["type_of_reference"] == "JOUR"
    assert record["authors"] == ["Mandatori, Domitilla", "Di Pietro, Natalia", "Müller, Jörg-Peter", "K2 Study Group"]
    assert record["title"] == 'The Dual Role of Vitamin K2 in "Bone-Vascular Crosstalk": 50% & {more}'
    assert record["journal_name"] == "Nutrients"
    assert (record["year"], record["volume"], record["number"]) == ("2021", "13", "4")
    assert (record["start_page"], record["end_page"]) == ("1222", "1230")
    assert record["doi"] == "10.3390/nu13041222"
    assert record["date"] == "2021/04//"
    assert record["keywords"] == ["Bone", "Vitamin K2"]


def test_csl_json_round_trip(client, study):
    text = download(client, "/studies/dual-role/cite.json", "application/vnd.citationstyles.csl+json", "dual-role.json")
    (item,) = json.loads(text)
    assert item["type"] == "article-journal"
    assert item["title"] == 'The Dual Role of Vitamin K2 in "Bone-Vascular Crosstalk": 50% & {more}'
    assert item["author"] == [
        {"family": "Mandatori", "given": "Domitilla"},
        {"family": "Di Pietro", "given": "Natalia"},
        {"family": "Müller", "given": "Jörg-Peter"},
        {"family": "K2 Study Group"},
    ]
    assert item["container-title"] == "Nutrients"
    assert item["issued"] == {"date-parts": [[2021, 4]]}
    assert (item["volume"], item["issue"], item["page"]) == ("13", "4", "1222-1230")
    assert (item["DOI"], item["PMID"]) == ("10.3390/nu13041222", "33918097")


def test_sparse_study_exports_only_what_it_has(client, db):
    StudyFactory(
        slug="bare",
        title="Bare",
        authors=[],
        journal="",
        year=None,
        month=None,
        volume="",
        issue="",
        pages="",
        abstract="",
    )
    bib = bibtexparser.parse_string(client.get("/studies/bare/cite.bib").content.decode())
    assert set(bib.entries[0].fields_dict) == {"title"}
    (record,) = rispy.loads(client.get("/studies/bare/cite.ris").content.decode())
    assert set(record) == {"type_of_reference", "title"}
    (item,) = json.loads(client.get("/studies/bare/cite.json").content)
    assert set(item) == {"id", "type", "title", "genre"}
    assert item["genre"] == "Randomized Controlled Trial"  # the factory's study type


def test_listing_exports_all_studies_of_an_intersection(client, site, study):
    text = download(client, "/tags/vitamin-k2+bone/cite.bib", "application/x-bibtex", "k2site-vitamin-k2+bone.bib")
    library = bibtexparser.parse_string(text)
    titles = [entry.fields_dict["title"].value for entry in library.entries]
    assert titles == [
        'The Dual Role of Vitamin {K2} in "Bone-Vascular Crosstalk": 50\\% \\& \\{more\\}',
        "Vitamin {K} and calcium – a review",
        "Menaquinone-7 and bone density",
    ]
    assert len({entry.key for entry in library.entries}) == 3
    assert_no_secrets(text)
    records = rispy.loads(client.get("/tags/bone+vitamin-k2/cite.ris").content.decode())
    assert len(records) == 3
    items = json.loads(client.get("/tags/vitamin-k2/cite.json").content)
    assert [item["id"] for item in items] == ["dual-role", "k-calcium-review", "mk7-bone", "undated"]
    page = BeautifulSoup(client.get("/tags/vitamin-k2+bone/").content, "html.parser")
    assert [a["href"] for a in page.select(".cite-links a")] == ["cite.bib", "cite.ris", "cite.json"]


def test_export_addresses(client, site):
    assert client.get("/studies/mk7-bone/cite.txt").status_code == 404
    assert client.get("/studies/secret-draft/cite.bib").status_code == 404
    assert client.get("/studies/secret-scheduled/cite.ris").status_code == 404
    assert client.get("/tags/nope/cite.bib").status_code == 404
    assert client.get("/tags/bone/cite.doc").status_code == 404
    assert client.get("/tags/bone+bone/cite.bib")["Location"] == "/tags/bone/cite.bib"


def test_duplicate_keys_get_suffixes(client, tags):
    for _ in range(3):
        StudyFactory(tags=[tags[2]], authors=[{"family": "Smith", "given": "A"}], title="Same title", year=2020)
    library = bibtexparser.parse_string(client.get("/tags/calcium/cite.bib").content.decode())
    assert sorted(entry.key for entry in library.entries) == ["smith2020same", "smith2020samea", "smith2020sameb"]


# Page head -------------------------------------------------------------------


def head_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser").head


def test_study_citation_meta_tags(client, study):
    head = head_of(client, "/studies/dual-role/")
    meta = lambda name: [tag["content"] for tag in head.find_all("meta", attrs={"name": name})]  # noqa: E731
    assert meta("citation_title") == ['The Dual Role of Vitamin K2 in "Bone-Vascular Crosstalk": 50% & {more}']
    assert meta("citation_author") == [
        "Mandatori, Domitilla",
        "Di Pietro, Natalia",
        "Müller, Jörg-Peter",
        "K2 Study Group",
    ]
    assert meta("citation_journal_title") == ["Nutrients"]
    assert meta("citation_publication_date") == ["2021/04"]
    assert meta("citation_volume") == ["13"] and meta("citation_issue") == ["4"]
    assert meta("citation_firstpage") == ["1222"] and meta("citation_lastpage") == ["1230"]
    assert meta("citation_doi") == ["10.3390/nu13041222"]
    assert meta("citation_pdf_url") == []  # no PDF uploaded
    assert head.find("link", rel="canonical")["href"] == "http://testserver/studies/dual-role/"
    og = {tag["property"]: tag["content"] for tag in head.find_all("meta", property=True)}
    assert og["og:title"] == "The dual role of vitamin K2" and og["og:url"] == "http://testserver/studies/dual-role/"
    data = json.loads(head.find("script", type="application/ld+json").string)
    assert data["@type"] == "ScholarlyArticle"
    assert data["name"] == 'The Dual Role of Vitamin K2 in "Bone-Vascular Crosstalk": 50% & {more}'
    assert [a.get("familyName") for a in data["author"]] == ["Mandatori", "Di Pietro", "Müller", None]
    assert data["author"][3] == {"@type": "Organization", "name": "K2 Study Group"}
    assert {a["@type"] for a in data["author"][:3]} == {"Person"}
    # Volume and issue belong to PublicationVolume/PublicationIssue, not to the article.
    assert "volumeNumber" not in data and "issueNumber" not in data
    assert data["isPartOf"] == {
        "@type": "PublicationIssue",
        "issueNumber": "4",
        "isPartOf": {
            "@type": "PublicationVolume",
            "volumeNumber": "13",
            "isPartOf": {"@type": "Periodical", "name": "Nutrients"},
        },
    }
    assert data["sameAs"] == "https://doi.org/10.3390/nu13041222"
    assert data["datePublished"] == "2021-04"


def test_citation_pdf_url(client, db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    study = StudyFactory(slug="with-pdf")
    study.pdf.save("paper.pdf", ContentFile(b"%PDF-1.4"), save=True)
    head = head_of(client, "/studies/with-pdf/")
    (pdf,) = head.find_all("meta", attrs={"name": "citation_pdf_url"})
    # The PDF's own address, which checks the study is published (studies.pdf).
    assert pdf["content"] == "http://testserver/studies/with-pdf/pdf/"


def test_meta_tags_and_json_ld_are_escaped(client, db):
    title = 'Quotes " and </script><script>alert(1)</script> & <b>'
    StudyFactory(slug="tricky", title=title, paper_title=title, authors=[{"family": 'O"Brien <x>', "given": "A"}])
    ArticleFactory(slug="tricky-article", title=title, lead=title)
    for url, kind in (("/studies/tricky/", "ScholarlyArticle"), ("/articles/tricky-article/", "Article")):
        html = client.get(url).content.decode()
        assert "<script>alert(1)" not in html
        head = BeautifulSoup(html, "html.parser").head
        scripts = head.find_all("script")
        assert len(scripts) == 1
        data = json.loads(scripts[0].string)
        assert data["@type"] == kind and data["headline"] == title
        og = {tag["property"]: tag["content"] for tag in head.find_all("meta", property=True)}
        assert og["og:title"] == title
    head = head_of(client, "/studies/tricky/")
    assert head.find("meta", attrs={"name": "citation_title"})["content"] == title
    assert head.find("meta", attrs={"name": "citation_author"})["content"] == 'O"Brien <x>, A'


def test_article_head(client, tags):
    article = ArticleFactory(slug="explainer", title="Explainer", tags=[tags[0]])
    head = head_of(client, "/articles/explainer/")
    data = json.loads(head.find("script", type="application/ld+json").string)
    assert data["@type"] == "Article" and data["keywords"] == ["Vitamin K2"]
    assert head.find("link", rel="canonical")["href"] == "http://testserver/articles/explainer/"
    assert head.find("meta", property="article:published_time")["content"] == article.first_published_at.isoformat()
    assert not head.find_all("meta", attrs={"name": "citation_title"})
