"""Issue 12: each import defect found on real files, with a minimal sample
(the real files are in samples/real and test_real_roundtrip.py)."""

import io
import json
import re

import pytest
import rispy
from django.core.management import CommandError, call_command

from studies import cite
from studies.importing import ImportRefused, study_import
from studies.importing.formats import clean_record, detect_format, open_records
from studies.importing.formats.base import BrokenRecord, plain_abstract
from studies.models import Study, StudyType


def read(write_file, name, text, fmt="auto"):
    """The clean records of a small file (no database)."""
    source, fmt, records = open_records(write_file(name, text), fmt)
    try:
        items = list(records)
    finally:
        source.close()
    assert not [item for item in items if isinstance(item, BrokenRecord)], items
    return [clean_record(item) for item in items]


def one(write_file, name, text, fmt="auto"):
    (record,) = read(write_file, name, text, fmt)
    return record.fields


# BibTeX -------------------------------------------------------------------------------------------


def test_bibtex_field_names_in_capitals(write_file):
    # As MathSciNet and many hand-kept files write them.
    fields = one(
        write_file,
        "mathscinet.bib",
        "@article {MR3493959,\n    AUTHOR = {Azimzadeh, P. and Forsyth, P. A.},\n     TITLE = {Weakly chained "
        "matrices},\n   JOURNAL = {SIAM J. Numer. Anal.},\n    VOLUME = {54},\n      YEAR = {2016},\n"
        "    NUMBER = {3},\n     PAGES = {1341--1364},\n       DOI = {10.1137/15M1043431}\n}\n",
    )
    assert fields["authors"] == [{"family": "Azimzadeh", "given": "P."}, {"family": "Forsyth", "given": "P. A."}]
    assert (fields["journal"], fields["volume"], fields["issue"], fields["pages"]) == (
        "SIAM J. Numer. Anal.", "54", "3", "1341-1364",
    )  # fmt: skip
    assert fields["doi"] == "10.1137/15m1043431"


def test_bibtex_month_and_names_in_mixed_case(write_file):
    records = read(
        write_file, "mixed.bib", "@misc{b, Author = {Doe, Jane}, Title = {Mixed case}, Year = 2020, Month = Apr}"
    )
    assert records[0].fields["authors"] == [{"family": "Doe", "given": "Jane"}]
    assert (records[0].fields["year"], records[0].fields["month"]) == (2020, 4)


def test_bibtex_unescaped_percent_does_not_cut_the_field(write_file):
    fields = one(
        write_file,
        "percent.bib",
        "@article{a, title = {Vitamin K$_2$ and bone}, abstract = {Undercarboxylated osteocalcin fell by 50% "
        "after vitamin K$_2$, and by 20% more after \\textit{a year}.}}",
    )
    assert (
        fields["abstract"]
        == "Undercarboxylated osteocalcin fell by 50% after vitamin K₂, and by 20% more after a year."
    )
    assert fields["title"] == "Vitamin K₂ and bone"


def test_bibtex_tilde_in_a_url_is_kept(write_file):
    fields = one(
        write_file,
        "tilde.bib",
        "@article{a, title = {T}, url = {https://www.example.edu/~smith/paper_1.pdf}, doi = {10.1000/a\\_b}}",
    )
    assert fields["url"] == "https://www.example.edu/~smith/paper_1.pdf"
    assert fields["doi"] == "10.1000/a_b"


def test_bibtex_string_macros_joined_with_hash(write_file):
    records = read(
        write_file,
        "strings.bib",
        '@string{jnl = "Journal of "}\n@string{bone = {Bone Research}}\n'
        '@article{a, title = "Part " # "one", journal = jnl # bone, month = apr # "~15", year = 2020}\n'
        "@article{b, title = {T}, journal = undefinedmacro}\n",
    )
    assert records[0].fields["paper_title"] == "Part one"
    assert records[0].fields["journal"] == "Journal of Bone Research"
    assert records[0].fields["month"] == 4
    assert records[1].fields["journal"] == ""  # an undefined macro is empty, as BibTeX reads it


def test_bibtex_crossref_parent_after_and_before_the_child(write_file):
    records = read(
        write_file,
        "crossref.bib",
        "@incollection{child, author = {Geleijnse, J. M.}, title = {Menaquinone and the heart}, crossref = {book},"
        " pages = {10--20}}\n"
        "@article{plain, title = {In between}}\n"
        "@book{book, editor = {Vermeer, Cees}, title = {Vitamin K}, subtitle = {A Handbook}, publisher = {Springer},"
        " year = 2019}\n"
        "@inbook{second, title = {Second chapter}, crossref = {book}}\n",
    )
    by_title = {record.fields["paper_title"]: record for record in records}
    child = by_title["Menaquinone and the heart"]
    assert child.number == 1 and child.fields["journal"] == "Vitamin K: A Handbook"
    assert (child.fields["publisher"], child.fields["year"], child.fields["study_type"]) == (
        "Springer", 2019, StudyType.CHAPTER,
    )  # fmt: skip
    assert child.fields["authors"] == [{"family": "Geleijnse", "given": "J. M."}]
    book = by_title["Vitamin K: A Handbook"]
    assert book.fields["study_type"] == StudyType.BOOK and book.fields["journal"] == ""
    second = by_title["Second chapter"]
    assert second.fields["journal"] == "Vitamin K: A Handbook"
    assert second.fields["authors"] == [{"family": "Vermeer", "given": "Cees"}]  # the book's editor


def test_bibtex_mbox_tex_logos_subtitle_and_math(write_file):
    fields = one(
        write_file,
        "latex.bib",
        "@article{a, title = {Typesetting \\mbox{Menaquinone-7} with \\TeX{} and \\LaTeX},"
        " subtitle = {Why K$_2$ and H$_{2}$O and $mc^2$ matter}, journaltitle = {J}, date = {2018-09}}",
    )
    assert fields["paper_title"] == "Typesetting Menaquinone-7 with TeX and LaTeX: Why K₂ and H₂O and mc² matter"
    assert (fields["year"], fields["month"]) == (2018, 9)


def test_bibtex_malformed_macro_is_not_a_crash(write_file):
    fields = one(write_file, "href.bib", "@misc{a, title = {See \\href{https://example.org}}}")
    assert fields["title"].startswith("See")


# MEDLINE ------------------------------------------------------------------------------------------

PUBMED = """PMID- 8692918
TI  - The structure of bovine F1-ATPase complexed with the antibiotic inhibitor
      aurovertin B.
PG  - 6913-7
DP  - 1996 Jul 9
FAU - van Raaij, M J
AU  - van Raaij MJ
JT  - Proceedings of the National Academy of Sciences of the United States of America

PMID- 24244421
TI  - Vitamin K2 in PLOS.
LID - 10.1371/journal.pone.0080092 [doi]
LID - e80092
AID - e80092 [pii]
DP  - 2013
JT  - PloS one

PMID- 36216673
TI  - Ahead of print.
LID - S1080-6032(22)00139-9 [pii]
DP  - 2022 Oct 7
JT  - Wilderness & environmental medicine

PMID- 21249755
TI  - Peutz-Jeghers Syndrome
BTI - Cancer Syndromes
PB  - National Center for Biotechnology Information (US)
DP  - 2009
FED - Riegert-Johnson, Douglas L
PT  - Review

PMID- 20301300
BTI - GeneReviews
PB  - University of Washington, Seattle
DP  - 1993
"""


def test_medline_short_page_ranges_are_expanded(write_file):
    records = read(write_file, "pubmed.nbib", PUBMED)
    assert records[0].fields["pages"] == "6913-6917"


def test_medline_article_number_when_there_are_no_pages(write_file):
    records = read(write_file, "pubmed.nbib", PUBMED)
    assert records[1].fields["pages"] == "e80092"
    assert records[1].fields["doi"] == "10.1371/journal.pone.0080092"
    assert records[2].fields["pages"] == ""  # a publisher's PII is no page number


def test_medline_book_chapter_keeps_the_book_title(write_file):
    records = read(write_file, "pubmed.nbib", PUBMED)
    chapter, book = records[3].fields, records[4].fields
    assert (chapter["paper_title"], chapter["journal"]) == ("Peutz-Jeghers Syndrome", "Cancer Syndromes")
    assert chapter["publisher"] == "National Center for Biotechnology Information (US)"
    assert chapter["study_type"] == StudyType.REVIEW  # the research design wins over the form
    assert (book["paper_title"], book["journal"], book["study_type"]) == ("GeneReviews", "", StudyType.BOOK)
    assert book["publisher"] == "University of Washington, Seattle"


@pytest.mark.django_db
def test_medline_last_page_in_the_page_head_is_not_below_the_first(client, write_file, moderator):
    study_import(source=write_file("pubmed.nbib", PUBMED), publish=True, skip_invalid=True, user=moderator)
    study = Study.objects.get(pmid="8692918")
    page = client.get(study.get_absolute_url()).content.decode()
    assert '<meta name="citation_firstpage" content="6913">' in page
    assert '<meta name="citation_lastpage" content="6917">' in page


# RIS ----------------------------------------------------------------------------------------------


def test_ris_with_one_space_before_the_dash(write_file):
    text = "TY - JOUR\nAU - Knapen, Marjo H J\nTI - One space before the dash\nPY - 2015\nSP - 1135\nEP - 1144\nER -\n"
    assert detect_format(text) == "ris"
    fields = one(write_file, "one-space.ris", text)
    assert fields["paper_title"] == "One space before the dash"
    assert fields["authors"] == [{"family": "Knapen", "given": "Marjo H J"}]
    assert (fields["year"], fields["pages"]) == (2015, "1135-1144")


def test_ris_mixed_a1_and_au_keep_their_order(write_file):
    fields = one(
        write_file,
        "mixed.ris",
        "TY  - JOUR\nTI  - Mixed author tags\nA1  - Georgiev, Danko\nAU  - Bello, Leon\nA1  - Carmi, Avishy\n"
        "AU  - Cohen, Eliahu\nER  - \n",
    )
    assert [author["family"] for author in fields["authors"]] == ["Georgiev", "Bello", "Carmi", "Cohen"]


def test_ris_chapter_book_and_publisher(write_file):
    chapter, book = read(
        write_file,
        "books.ris",
        "TY  - CHAP\nTI  - Toward a Robust Analysis\nT2  - Dermoscopy Image Analysis\nT3  - Digital Imaging\n"
        "PB  - CRC Press\nSP  - 1-22\nPY  - 2015\nER  - \n"
        "TY  - BOOK\nTI  - Testing Book Title\nT2  - A Series\nPB  - Test Publisher\nY1  - 2015/october\nER  - \n",
    )
    assert (chapter.fields["journal"], chapter.fields["publisher"]) == ("Dermoscopy Image Analysis", "CRC Press")
    assert chapter.fields["study_type"] == StudyType.CHAPTER
    assert (book.fields["journal"], book.fields["publisher"], book.fields["month"]) == ("", "Test Publisher", 10)


def test_ris_protocol_relative_url_and_article_number(write_file):
    fields = one(
        write_file,
        "sciencedirect.ris",
        "TY  - JOUR\nTI  - T\nUR  - //www.sciencedirect.com/science/article/pii/S1359645416307273\nC7  - 093903\n"
        "ER  - \n",
    )
    assert fields["url"] == "https://www.sciencedirect.com/science/article/pii/S1359645416307273"
    assert fields["pages"] == "093903"


# All formats --------------------------------------------------------------------------------------

JATS = (
    "<jats:title>Abstract</jats:title><jats:p>Vitamin K<jats:sub>2</jats:sub> fell by 50% "
    '(<jats:italic>p</jats:italic> &lt; 0.05; see <ext-link ext-link-type="uri" xlink:href="https://x.org">'
    "the trial</ext-link>).</jats:p>\n<jats:p><b>Conclusion</b>: bones.</jats:p>"
)


def test_abstract_markup_becomes_text_with_paragraphs():
    assert plain_abstract(JATS) == "Vitamin K₂ fell by 50% (p < 0.05; see the trial).\n\nConclusion: bones."
    assert plain_abstract("First line\nwrapped.\n\nSecond paragraph.") == "First line wrapped.\n\nSecond paragraph."
    assert plain_abstract("p<0.05 and n>3") == "p<0.05 and n>3"  # not markup


@pytest.mark.parametrize(
    "name, text",
    [
        ("crossref.json", json.dumps([{"type": "article-journal", "title": "T", "abstract": JATS}])),
        ("jats.ris", f"TY  - JOUR\nTI  - T\nAB  - {JATS.replace(chr(10), ' ')}\nER  - \n"),
        ("jats.bib", "@article{a, title = {T}, abstract = {" + JATS.replace("%", "\\%") + "}}"),
        ("jats.nbib", f"PMID- 1\nTI  - T\nAB  - {JATS.replace(chr(10), ' ')}\n"),
    ],
)
def test_abstract_markup_in_every_format(write_file, name, text):
    abstract = one(write_file, name, text)["abstract"]
    assert not re.search(r"</?[A-Za-z]", abstract), abstract
    assert "Vitamin K₂ fell by 50%" in abstract and "Conclusion: bones." in abstract


@pytest.mark.parametrize(
    "name, text",
    [
        ("book.ris", "TY  - BOOK\nTI  - B\nPB  - HarperCollins\nER  - \n"),
        ("book.bib", "@book{b, title = {B}, publisher = {HarperCollins}}"),
        ("book.json", json.dumps([{"type": "book", "title": "B", "publisher": "HarperCollins"}])),
        ("book.nbib", "PMID- 2\nBTI - B\nPB  - HarperCollins\n"),
    ],
)
def test_a_books_publisher_is_read(write_file, name, text):
    fields = one(write_file, name, text)
    assert (fields["publisher"], fields["study_type"], fields["journal"]) == ("HarperCollins", StudyType.BOOK, "")


# One unreadable record ----------------------------------------------------------------------------

STUBS = (
    "TY  - JOUR\nTI  - First good\nER  - \n"
    "TY  - JOUR\nAU  - Stub, A\nER  - \n"
    "TY  - JOUR\nTI  - Second good\nPY  - 1066\nER  - \n"
    "TY  - JOUR\nTI  - Third good\nER  - \n"
)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_studies", *map(str, args), stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), str(error)
    return out.getvalue(), err.getvalue(), None


@pytest.mark.django_db
def test_default_stays_whole_file_or_nothing_and_says_nothing_was_created(write_file):
    out, err, error = run(write_file("stubs.ris", STUBS))
    assert error.startswith("Nothing was imported: 2 of 4 records can't be read.")
    assert Study.objects.count() == 0
    # No "created 2" before "Nothing was imported".
    assert not re.search(r"created\s+\d", out + err)
    assert "Record 2 (line 4): it has no title." in err
    assert "Record 3 (line 7): the year '1066'" in err
    assert "use --skip-invalid" in err


@pytest.mark.django_db
def test_skip_invalid_imports_the_good_records_and_lists_the_others(write_file):
    out, _, error = run(write_file("stubs.ris", STUBS), "--skip-invalid")
    assert error is None
    assert sorted(Study.objects.values_list("paper_title", flat=True)) == ["First good", "Third good"]
    assert re.search(r"^  created +2$", out, re.M) and re.search(r"^  skipped +2$", out, re.M)
    assert "Skipped 2 records that can't be read:" in out
    assert "  Record 2 (line 4): it has no title." in out
    assert "  Record 3 (line 7): the year '1066' is not a year between 1800 and next year." in out


@pytest.mark.django_db
def test_skip_invalid_with_nothing_readable_is_refused(write_file):
    with pytest.raises(ImportRefused, match="none of the 1 records can be read"):
        study_import(source=write_file("stub.ris", "TY  - JOUR\nAU  - Stub, A\nER  - \n"), skip_invalid=True)
    assert Study.objects.count() == 0


@pytest.mark.django_db
def test_skip_invalid_dry_run_and_report(write_file):
    report = study_import(source=write_file("stubs.ris", STUBS), skip_invalid=True, dry_run=True)
    assert (report.counts["created"], report.counts["skipped"], report.counts["failed"]) == (2, 2, 0)
    assert [(failure.number, failure.line) for failure in report.failures] == [(2, 4), (3, 7)]
    assert Study.objects.count() == 0


# Exports ------------------------------------------------------------------------------------------


@pytest.fixture
def pubmed_study(db):
    return Study.objects.create(
        title="The GTPase dynamin binds to SH3 domains in China",
        slug="gtpase",
        paper_title="The GTPase dynamin binds to SH3 domains in China",
        authors=[{"family": "Gout", "given": "I"}],
        journal="Cell",
        year=1993,
        volume="75",
        pages="25-36",
        pmid="8402898",
        study_type=StudyType.RCT,
    )


def test_ris_pmid_reads_back_through_rispy_and_our_importer(pubmed_study, write_file):
    text = cite.to_ris([pubmed_study])
    assert "AN  - 8402898" in text and "DB  - PubMed" in text and "DP  - NLM" in text
    (record,) = rispy.loads(text)
    assert (record["accession_number"], record["name_of_database"], record["database_provider"]) == (
        "8402898", "PubMed", "NLM",
    )  # fmt: skip
    assert one(write_file, "back.ris", text)["pmid"] == "8402898"


def test_ris_pmid_as_the_site_wrote_it_before_is_still_read(write_file):
    assert one(write_file, "old.ris", "TY  - JOUR\nTI  - T\nAN  - PMID:33918097\nER  - \n")["pmid"] == "33918097"
    assert one(write_file, "note.ris", "TY  - JOUR\nTI  - T\nN1  - PMID: 33918097\nER  - \n")["pmid"] == "33918097"


def test_bibtex_titles_keep_their_capitals_in_a_standard_style(pubmed_study):
    """pybtex's "plain" style lowercases titles the way BibTeX's plain.bst does."""
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    text = cite.to_bibtex([pubmed_study])
    assert "title = {The {GTPase} dynamin binds to {SH3} domains in {China}}" in text
    style = find_plugin("pybtex.style.formatting", "plain")()
    entry = next(iter(style.format_entries(parse_string(text, "bibtex").entries.values())))
    rendered = entry.text.render_as("text")
    assert "The GTPase dynamin binds to SH3 domains in China" in rendered


@pytest.mark.parametrize("study_type", [t for t in StudyType if t not in (StudyType.OTHER,)])
def test_study_type_survives_csl_json(study_type, pubmed_study, write_file):
    pubmed_study.study_type = study_type
    pubmed_study.journal = "Cell" if study_type != StudyType.BOOK else ""
    text = cite.to_csl_json([pubmed_study])
    assert one(write_file, "back.json", text)["study_type"] == study_type


@pytest.mark.django_db
def test_json_ld_of_a_book_and_a_chapter(client):
    common = {"status": "published", "year": 2012, "authors": [{"family": "Rheaume-Bleue", "given": "Kate"}]}
    Study.objects.create(
        title="Book", slug="book", study_type=StudyType.BOOK, publisher="HarperCollins", **common
    ).refresh_from_db()
    Study.objects.create(
        title="Chapter",
        slug="chapter",
        study_type=StudyType.CHAPTER,
        journal="Cancer Syndromes",
        publisher="NCBI",
        pages="1-20",
        **common,
    )
    from django.utils import timezone

    Study.objects.update(publish_at=timezone.now())

    def json_ld(slug):
        page = client.get(f"/studies/{slug}/").content.decode()
        return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))

    book = json_ld("book")
    assert book["@type"] == "Book" and book["publisher"] == {"@type": "Organization", "name": "HarperCollins"}
    assert "isPartOf" not in book
    chapter = json_ld("chapter")
    assert chapter["@type"] == "Chapter"
    assert chapter["isPartOf"] == {
        "@type": "Book",
        "name": "Cancer Syndromes",
        "publisher": {"@type": "Organization", "name": "NCBI"},
    }
    page = client.get("/studies/chapter/").content.decode()
    assert '<meta name="citation_inbook_title" content="Cancer Syndromes">' in page
    assert 'name="citation_journal_title"' not in page


@pytest.mark.django_db
def test_book_and_chapter_exports_read_back(write_file):
    chapter = Study.objects.create(
        title="Peutz-Jeghers Syndrome",
        slug="pjs",
        study_type=StudyType.CHAPTER,
        journal="Cancer Syndromes",
        publisher="NCBI",
        year=2009,
    )
    for writer, name in ((cite.to_bibtex, "c.bib"), (cite.to_ris, "c.ris"), (cite.to_csl_json, "c.json")):
        fields = one(write_file, name, writer([chapter]))
        assert (fields["journal"], fields["publisher"], fields["study_type"]) == (
            "Cancer Syndromes", "NCBI", StudyType.CHAPTER,
        ), name  # fmt: skip
