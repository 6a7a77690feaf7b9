"""Each format read from realistic exports, and recognised by its content."""

import pytest

from studies.importing.formats import FORMATS, ImportRefused, clean_record, detect_format, open_records
from studies.importing.formats.base import BrokenRecord, SourceFile


def read(path, fmt="auto"):
    source, fmt, records = open_records(path, fmt)
    try:
        items = list(records)
    finally:
        source.close()
    assert not [item for item in items if isinstance(item, BrokenRecord)]
    return fmt, [clean_record(item) for item in items]


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("pubmed.nbib", "medline"),
        ("latin1.nbib", "medline"),
        ("zotero.ris", "ris"),
        ("bom-crlf.ris", "ris"),
        ("zotero.bib", "bibtex"),
        ("zotero.json", "csljson"),
    ],
)
def test_format_is_recognised_by_content(sample, name, fmt):
    source = SourceFile.open(sample(name))
    try:
        assert detect_format(source.head_text()) == fmt
    finally:
        source.close()


def test_detect_gives_up_on_other_text():
    assert detect_format("Dear editor,\nplease find attached") is None
    assert detect_format("") is None


def test_medline_fields(sample):
    fmt, (rct, meta, cohort) = read(sample("pubmed.nbib"))
    assert fmt == "medline"
    assert rct.fields["paper_title"] == (
        "Menaquinone-7 supplementation improves arterial stiffness in healthy postmenopausal women. "
        "A double-blind randomised clinical trial."
    )
    assert rct.fields["authors"][:2] == [
        {"family": "Knapen", "given": "Marjo H J"},
        {"family": "Braam", "given": "Lavienja A J L M"},
    ]
    assert len(rct.fields["authors"]) == 6
    assert rct.fields["journal"] == "Thrombosis and haemostasis"
    assert (rct.fields["year"], rct.fields["month"]) == (2015, 5)
    # PubMed's "1135-44", in full.
    assert (rct.fields["volume"], rct.fields["issue"], rct.fields["pages"]) == ("113", "5", "1135-1144")
    assert rct.fields["doi"] == "10.1160/th14-08-0675"
    assert rct.fields["pmid"] == "25694037"
    assert rct.fields["study_type"] == "rct"
    assert len(rct.fields["abstract"]) > 1500 and "µg" in rct.fields["abstract"]
    assert rct.keywords == ["Vitamin K2", "arterial stiffness", "matrix Gla-protein"]
    # Meta-analysis wins over review; missing fields stay empty.
    assert meta.fields["study_type"] == "meta_analysis"
    assert cohort.fields["study_type"] == "cohort"
    assert cohort.fields["doi"] == "" and cohort.fields["abstract"] == "" and cohort.fields["volume"] == ""
    assert cohort.fields["authors"] == [
        {"family": "Geleijnse", "given": "Johanna M"},
        {"family": "Østergaard", "given": "Søren"},
        {"family": "Rotterdam Study Group", "given": ""},
    ]


def test_medline_latin1(sample):
    _, (record,) = read(sample("latin1.nbib"))
    assert record.fields["paper_title"] == "Vitamin K et os chez la femme ménopausée : étude française."
    assert record.fields["authors"] == [{"family": "Lefèvre", "given": "Hélène"}]
    assert record.fields["study_type"] == "case_report"


def test_ris_fields(sample):
    fmt, (article, book, unicode_names) = read(sample("zotero.ris"))
    assert fmt == "ris"
    assert article.fields["doi"] == "10.3390/nu13041222"
    assert article.fields["journal"] == "Nutrients"
    assert (article.fields["year"], article.fields["month"]) == (2021, 4)
    assert article.fields["pages"] == "1222"
    assert article.fields["url"] == "https://www.mdpi.com/2072-6643/13/4/1222"
    assert [a["family"] for a in article.fields["authors"]] == [
        "Mandatori", "Pelusi", "Schiavone", "Pipino", "Di Pietro", "Pandolfi",
    ]  # fmt: skip
    assert (
        article.fields["abstract"].startswith("Osteoporosis (OP)")
        and "pathophysiological" in article.fields["abstract"]
    )
    assert article.keywords == ["vitamin K2", "Bone", "vascular calcification"]
    assert (
        book.fields["study_type"] == "book"
        and book.fields["year"] == 2012
        and book.fields["authors"] == [{"family": "Rheaume-Bleue", "given": "Kate"}]
    )
    assert unicode_names.fields["authors"][0] == {"family": "Gómez-Núñez", "given": "José Ángel"}
    assert unicode_names.fields["journal"] == "Nephrology Dialysis Transplantation"
    assert unicode_names.fields["year"] == 2019 and unicode_names.fields["month"] is None


def test_ris_with_bom_and_crlf_reads_the_same(sample):
    assert [r.fields for r in read(sample("bom-crlf.ris"))[1]] == [r.fields for r in read(sample("zotero.ris"))[1]]


def test_bibtex_fields(sample):
    fmt, (article, book, german) = read(sample("zotero.bib"))
    assert fmt == "bibtex"
    assert article.fields["journal"] == "Nutrients"  # from @string
    assert article.fields["paper_title"].startswith("The Dual Role of Vitamin K2 in “Bone-Vascular Crosstalk”")
    assert (article.fields["year"], article.fields["month"]) == (2021, 4)
    assert article.fields["issue"] == "4"
    assert article.keywords == ["vitamin K2", "bone", "vascular calcification"]
    assert book.fields["study_type"] == "book"
    assert german.fields["paper_title"] == "Menachinon-7 bei Dialysepatienten: eine Übersicht"
    assert german.fields["authors"] == [
        {"family": "Müller", "given": "Jörg"},
        {"family": "García", "given": "José"},
        {"family": "World Health Organization", "given": ""},
    ]
    assert (german.fields["year"], german.fields["month"]) == (2018, 9)
    assert german.fields["pmid"] == "30012345" and german.fields["pages"] == "100-110"


def test_csljson_fields(sample):
    fmt, (article, meta, report) = read(sample("zotero.json"))
    assert fmt == "csljson"
    assert article.fields["authors"][2] == {"family": "Di Pietro", "given": "Natalia"}
    assert (article.fields["year"], article.fields["month"]) == (2021, 4)
    assert article.fields["pmid"] == "33917175"
    assert article.keywords == ["vitamin K2", "Bone"]
    assert meta.fields["doi"] == "10.1007/s00198-014-2989-6"
    assert meta.fields["study_type"] == "meta_analysis"
    assert (meta.fields["year"], meta.fields["month"]) == (2015, 3)
    assert report.fields["authors"] == [{"family": "World Health Organization", "given": ""}]
    assert report.fields["year"] == 2004


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_refuses_an_empty_file(write_file, fmt):
    with pytest.raises(ImportRefused, match="empty"):
        open_records(write_file("empty.txt", "\n  \n"), fmt)


def test_a_file_that_is_not_what_it_claims(sample):
    with pytest.raises(ImportRefused, match="said to be RIS, but it looks like PubMed MEDLINE"):
        open_records(sample("pubmed.nbib"), "ris")
