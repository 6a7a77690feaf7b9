"""Retraction flags from real PubMed and Crossref records (samples/real,
bibaudit-* in SOURCES.md): the retracted paper is marked with its notice's
citation, the notice itself is not (PubMed's "Retracted Publication" and the
notice's own type are one word apart; Crossref's "updated-by" and
"update-to" point opposite ways, and Elsevier deposits both on one record),
and a notice record marks its paper, in the same file or already on the site.
Then the re-import rules: a moderator's hand-set notice stays unless the
source changed, and an import never trades a notice for a milder one."""

from pathlib import Path

import pytest

from catalog.models import Entry, Notice, Status
from editorial.models import PendingRevision
from studies.importing import study_import
from studies.importing.formats import BrokenRecord, clean_record, open_records
from studies.models import Study
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db

REAL = Path(__file__).parent / "samples" / "real"
WAKEFIELD_DOI = "10.1016/s0140-6736(97)11096-0"
WAKEFIELD_NOTICE_DOI = "10.1016/s0140-6736(10)60175-4"
SURGISPHERE_DOI = "10.1016/s0140-6736(20)31180-6"
SURGISPHERE_NOTICE_DOI = "10.1016/s0140-6736(20)31324-6"


def real(name):
    return REAL / name


def imported(name, **options):
    report = study_import(source=real(name), **options)
    assert not report.counts["failed"], report.failures
    return report


def notice_of(study):
    study.refresh_from_db()
    return study.notice, study.notice_citation, study.notice_url


# -- PubMed MEDLINE ----------------------------------------------------------------------------


def test_pubmed_retracted_publication_is_marked_with_its_retraction_in():
    imported("medline/bibaudit-compare_pubmed_wakefield_retracted.nbib")
    study = Study.objects.get(pmid="9500320")
    notice, citation, url = notice_of(study)
    assert notice == Notice.RETRACTED
    # Both RIN lines (2004, the partial one; 2010, the retraction), as PubMed cites them.
    assert citation == (
        "Retraction in: Lancet. 2004 Mar 6;363(9411):750. doi: 10.1016/S0140-6736(04)15715-2. PMID: 15016483; "
        "Retraction in: Lancet. 2010 Feb 6;375(9713):445. doi: 10.1016/S0140-6736(10)60175-4. PMID: 20137807"
    )
    assert url == f"https://doi.org/{WAKEFIELD_NOTICE_DOI}"
    # Comments (CIN) and the expression of concern (ECI) don't outrank the retraction.
    assert Entry.objects.get(study=study).notice == Notice.RETRACTED


def test_pubmed_retraction_notice_is_not_itself_retracted_and_marks_its_paper():
    report = imported("medline/bibaudit-compare_pubmed_wakefield_notice.nbib")
    notice = Study.objects.get(pmid="20137807")
    # Imported as what it is: a notice (no study type of ours), not a retracted paper.
    assert notice.notice == "" and notice.study_type == "other"
    # Its paper is not on the site: said so, nothing else changes.
    (outcome,) = report.outcomes
    assert "a notice for DOI 10.1016/s0140-6736(97)11096-0, not on the site" in outcome.message


def test_a_pubmed_notice_marks_a_paper_already_on_the_site():
    paper = StudyFactory(pmid="9500320", doi="", title="Ileal-lymphoid-nodular hyperplasia")
    report = imported("medline/bibaudit-compare_pubmed_wakefield_notice.nbib")
    assert notice_of(paper) == (
        Notice.RETRACTED,
        "Retraction in: Lancet. 2010 Feb 6;375(9713):445. doi: 10.1016/S0140-6736(10)60175-4. PMID: 20137807.",
        f"https://doi.org/{WAKEFIELD_NOTICE_DOI}",
    )
    assert f"marks study {paper.pk}" in report.outcomes[0].message
    # A revision says which import did it; the listing row follows.
    assert paper.history.first().history_change_reason.startswith("Imported from")
    assert Entry.objects.get(study=paper).notice == Notice.RETRACTED


def test_a_notice_before_its_paper_in_one_file_marks_it(write_file):
    text = "\n".join(
        real(f"medline/bibaudit-compare_pubmed_wakefield_{name}.nbib").read_text(encoding="utf-8")
        for name in ("notice", "retracted")
    )
    study_import(source=write_file("both.nbib", text))
    paper, notice = Study.objects.get(pmid="9500320"), Study.objects.get(pmid="20137807")
    assert paper.notice == Notice.RETRACTED and notice.notice == ""


def test_pubmed_expression_of_concern_in_and_for():
    imported("medline/bibaudit-pubmed_eci_concern.nbib")
    paper = Study.objects.get(pmid="23741377")
    assert notice_of(paper) == (
        Notice.CONCERN,
        "Expression of concern in: PLoS One. 2021 Oct 28;16(10):e0256488. doi: 10.1371/journal.pone.0256488. "
        "PMID: 34710116",
        "https://doi.org/10.1371/journal.pone.0256488",
    )
    imported("medline/bibaudit-pubmed_eci_concern_notice.nbib")
    assert Study.objects.get(pmid="34710116").notice == ""  # ECF: the notice itself
    assert notice_of(paper)[0] == Notice.CONCERN


# -- Crossref (CSL-JSON, and the REST API's envelope) -------------------------------------------


def test_crossref_updated_by_marks_the_retracted_paper():
    imported("csljson/bibaudit-compare_crossref_wakefield_retracted.json")
    paper = Study.objects.get(doi=WAKEFIELD_DOI)
    assert notice_of(paper) == (
        Notice.RETRACTED,
        f"Retraction in: doi: {WAKEFIELD_NOTICE_DOI} (2010-02-06)",
        f"https://doi.org/{WAKEFIELD_NOTICE_DOI}",
    )


def test_crossref_update_to_is_a_notice_that_marks_its_paper():
    paper = StudyFactory(doi=WAKEFIELD_DOI, title="Ileal-lymphoid-nodular hyperplasia")
    imported("csljson/bibaudit-compare_crossref_wakefield_notice.json")
    assert Study.objects.get(doi=WAKEFIELD_NOTICE_DOI).notice == ""
    assert notice_of(paper) == (
        Notice.RETRACTED,
        f"Retraction in: The Lancet. 2010;375(9713):445. doi: {WAKEFIELD_NOTICE_DOI}.",
        f"https://doi.org/{WAKEFIELD_NOTICE_DOI}",
    )


def test_crossref_expression_of_concern_and_partial_retraction():
    imported("csljson/bibaudit-compare_crossref_expression_of_concern.json")
    concern = Study.objects.get(doi="10.1371/journal.pone.0064723")
    # Deposited twice (Retraction Watch and the publisher): cited once.
    assert notice_of(concern)[:2] == (
        Notice.CONCERN,
        "Expression of concern in: doi: 10.1371/journal.pone.0256488 (2021-10-28)",
    )
    imported("csljson/bibaudit-compare_crossref_partial_retraction.json")
    partial = Study.objects.get(doi="10.29328/journal.jcmhs.1001023")
    # A partial retraction is a correction (NLM's rule too); its relation to itself names no other paper.
    assert notice_of(partial)[:2] == (
        Notice.CORRECTED,
        "Partial retraction in: doi: 10.29328/journal.jcmhs.1001023 (2022-12-01)",
    )


def test_elsevier_deposits_both_ways_and_the_right_record_is_retracted():
    """The Lancet's Surgisphere pair: the notice carries "updated-by" naming
    the paper and the paper "update-to" naming its notices. Retraction
    Watch's entries say which is which."""
    imported("csljson/bibaudit-crossref_reciprocal_retraction_notice.json")
    assert Study.objects.get(doi=SURGISPHERE_NOTICE_DOI).notice == ""
    imported("csljson/bibaudit-crossref_reciprocal_retracted_paper.json")
    paper = Study.objects.get(doi=SURGISPHERE_DOI)
    assert paper.notice == Notice.RETRACTED
    assert f"doi: {SURGISPHERE_NOTICE_DOI}" in paper.notice_citation
    # Importing the paper did not turn its notice into a retracted study.
    assert Study.objects.get(doi=SURGISPHERE_NOTICE_DOI).notice == ""


def test_the_surgisphere_notice_marks_the_paper_already_on_the_site():
    paper = StudyFactory(doi=SURGISPHERE_DOI, title="Hydroxychloroquine or chloroquine")
    imported("csljson/bibaudit-crossref_reciprocal_retraction_notice.json")
    assert notice_of(paper)[:2] == (
        Notice.RETRACTED,
        f"Retraction in: The Lancet. 2020;395(10240):1820. doi: {SURGISPHERE_NOTICE_DOI}.",
    )


def test_no_other_real_sample_carries_a_notice():
    """No false flags: comments, updates and reprints are not notices."""
    flagged = []
    for path in sorted(REAL.glob("*/*")):
        if path.name.startswith("bibaudit-"):
            continue
        source, _fmt, records = open_records(path, path.parent.name)
        try:
            for record in records:
                if isinstance(record, BrokenRecord) or not record.data.get("title"):
                    continue
                try:
                    clean = clean_record(record)
                except ValueError:
                    continue
                if clean.fields["notice"] or clean.notice_for:
                    flagged.append((path.name, record.number))
        finally:
            source.close()
    assert flagged == []


def test_a_dry_run_says_what_the_notice_would_mark_and_writes_nothing():
    paper = StudyFactory(doi=WAKEFIELD_DOI)
    report = study_import(source=real("csljson/bibaudit-compare_crossref_wakefield_notice.json"), dry_run=True)
    assert f"marks study {paper.pk}" in report.outcomes[0].message
    assert notice_of(paper)[0] == "" and not Study.objects.filter(doi=WAKEFIELD_NOTICE_DOI).exists()


def test_an_editors_import_proposes_the_notice_on_a_published_study(editor):
    paper = StudyFactory(doi=WAKEFIELD_DOI, status=Status.PUBLISHED)
    report = study_import(source=real("csljson/bibaudit-compare_crossref_wakefield_notice.json"), user=editor)
    assert report.proposed == 1
    assert notice_of(paper)[0] == ""
    proposal = PendingRevision.objects.pending().of(paper).get()
    assert proposal.changes["notice"] == Notice.RETRACTED


# -- re-importing --------------------------------------------------------------------------------


def set_by_hand(study, notice, citation=""):
    Study.objects.filter(pk=study.pk).update(notice=notice, notice_citation=citation, notice_url="")


def test_reimport_keeps_a_hand_set_notice_while_the_source_says_the_same(write_file):
    path = write_file("paper.nbib", real("medline/bibaudit-pubmed_eci_concern.nbib").read_text(encoding="utf-8"))
    study_import(source=path)
    paper = Study.objects.get(pmid="23741377")
    # A moderator retracts it by hand (the source still says concern)…
    set_by_hand(paper, Notice.RETRACTED, "Retraction in: by hand")
    study_import(source=path)
    assert notice_of(paper)[:2] == (Notice.RETRACTED, "Retraction in: by hand")
    # …or lowers it to a correction: the source did not change, the moderator's word stands.
    set_by_hand(paper, Notice.CORRECTED, "Erratum in: by hand")
    study_import(source=path)
    assert notice_of(paper)[:2] == (Notice.CORRECTED, "Erratum in: by hand")


def test_reimport_brings_a_notice_the_source_gained_since(write_file):
    source = real("medline/bibaudit-pubmed_eci_concern.nbib").read_text(encoding="utf-8")
    without = "\n".join(line for line in source.splitlines() if not line.startswith(("ECI", "      3471")))
    study_import(source=write_file("before.nbib", without))
    paper = Study.objects.get(pmid="23741377")
    assert paper.notice == ""
    set_by_hand(paper, Notice.CORRECTED, "Erratum in: by hand")
    # The source now has the expression of concern: news the moderator could not know.
    study_import(source=write_file("after.nbib", source))
    assert notice_of(paper)[0] == Notice.CONCERN
    assert notice_of(paper)[1].startswith("Expression of concern in: PLoS One. 2021 Oct 28")


def test_an_import_never_trades_a_notice_for_a_milder_one():
    paper = StudyFactory(pmid="23741377", doi="10.1371/journal.pone.0064723", notice=Notice.RETRACTED)
    imported("medline/bibaudit-pubmed_eci_concern.nbib")
    assert notice_of(paper)[0] == Notice.RETRACTED


def test_reimport_keeps_a_moderators_edit_of_the_citation(write_file):
    imported("medline/bibaudit-pubmed_eci_concern.nbib")
    paper = Study.objects.get(pmid="23741377")
    Study.objects.filter(pk=paper.pk).update(notice_citation="Expression of concern: PLoS One 2021 (tidied)")
    imported("medline/bibaudit-pubmed_eci_concern.nbib")
    assert notice_of(paper)[:2] == (Notice.CONCERN, "Expression of concern: PLoS One 2021 (tidied)")
