"""study_import and the import_studies command against a real database."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Entry, Status, Tag
from studies.importing import study_import
from studies.importing.formats import base
from studies.models import Study, StudyType
from tests.factories import StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_studies", *map(str, args), stdout=out, stderr=err)
    return out.getvalue()


def counts(output):
    """{outcome: number} from the command's summary table."""
    return {
        name: int(number) for name, number in re.findall(r"^  (created|updated|unchanged|failed) +(\d+)$", output, re.M)
    }


def nothing_written():
    assert Study.objects.count() == 0
    assert Study.history.count() == 0
    assert Tag.objects.count() == 0
    assert Entry.objects.count() == 0


@pytest.mark.parametrize("name", ["pubmed.nbib", "zotero.ris", "zotero.bib", "zotero.json", "latin1.nbib"])
def test_import_then_reimport_changes_nothing(sample, name):
    output = run(sample(name))
    created = Study.objects.count()
    assert created >= 1
    assert counts(output) == {"created": created, "updated": 0, "unchanged": 0, "failed": 0}
    assert all(study.status == Status.DRAFT and study.import_record for study in Study.objects.all())
    history, tags = Study.history.count(), Tag.objects.count()

    again = run(sample(name))
    assert Study.objects.count() == created
    assert counts(again) == {"created": 0, "updated": 0, "unchanged": created, "failed": 0}
    assert Study.history.count() == history and Tag.objects.count() == tags


def test_fields_tags_and_listing_index(sample):
    TagFactory(name="Vitamin K2", slug="vitamin-k2")
    report = study_import(source=sample("pubmed.nbib"), tags=["Imported 2024"])
    assert (report.counts["created"], report.counts["failed"]) == (3, 0)
    study = Study.objects.get(pmid="25694037")
    assert study.title == study.paper_title
    assert study.slug == "menaquinone-7-supplementation-improves-arterial-stiffness-in-healthy"
    assert study.doi == "10.1160/th14-08-0675"
    assert study.study_type == StudyType.RCT
    assert study.authors[0] == {"family": "Knapen", "given": "Marjo H J"}
    # Keywords matched to the existing tag whatever their case, else created.
    assert sorted(study.tags.names(), key=str.lower) == [
        "arterial stiffness", "Imported 2024", "matrix Gla-protein", "Vitamin K2",
    ]  # fmt: skip
    assert Tag.objects.filter(name__iexact="vitamin k2").count() == 1
    # The listing index follows the bulk writes; drafts are not counted.
    entry = Entry.objects.get(study=study)
    assert entry.status == Status.DRAFT and not entry.counted
    assert entry.postings.count() == 4
    assert study.imported_at is not None and len(study.import_record["abstract"]) == len("sha256:") + 64


def test_publish(sample, moderator, editor):
    with pytest.raises(CommandError, match="--publish needs --user"):
        run(sample("zotero.ris"), "--publish")
    with pytest.raises(CommandError, match="--publish needs --user"):
        run(sample("zotero.ris"), "--publish", "--user", editor.username)
    assert not Study.objects.exists()
    run(sample("zotero.ris"), "--publish", "--user", moderator.username)
    assert Study.objects.published().count() == 3
    assert Tag.objects.get(name="Bone").entry_count == 1


def test_dry_run_writes_nothing(sample):
    output = run(sample("zotero.ris"), "--dry-run")
    assert counts(output)["created"] == 3 and "Dry run" in output
    nothing_written()


def test_matching_by_doi_pmid_and_title(sample):
    by_doi = StudyFactory(title="Hand-made headline", doi="10.3390/nu13041222", paper_title="", abstract="")
    by_pmid = StudyFactory(title="Another", pmid="25516361", doi="")
    by_title = StudyFactory(
        title="Dietary intake of menaquinone is associated with a reduced risk of coronary heart disease - "
        "the Rotterdam study",
        year=2004, doi="", pmid="",
    )  # fmt: skip
    other_doi = StudyFactory(title="Vitamin K2 and the Calcium Paradox", year=2012, doi="10.1000/other")
    report = study_import(source=sample("pubmed.nbib"))
    assert report.counts["created"] == 1  # only the RCT is new
    assert report.counts["updated"] == 2
    by_pmid.refresh_from_db()
    by_title.refresh_from_db()
    # Never imported before: only empty fields are filled, hand-made values stay.
    assert by_pmid.title == "Another" and by_pmid.doi == "10.1007/s00198-014-2989-6"
    assert by_title.pmid == "15514282" and by_title.title.startswith("Dietary intake")
    # A title match never joins papers whose DOIs differ.
    report = study_import(source=sample("zotero.ris"))
    by_doi.refresh_from_db()
    assert by_doi.title == "Hand-made headline" and by_doi.paper_title.startswith("The Dual Role")
    assert (
        Study.objects.filter(paper_title__startswith="Vitamin K2 and the Calcium Paradox")
        .exclude(pk=other_doi.pk)
        .exists()
    )


def test_changed_record_updates_and_keeps_a_revision(sample, write_file):
    run(sample("zotero.ris"))
    study = Study.objects.get(doi="10.3390/nu13041222")
    version = study.version
    changed = (
        sample("zotero.ris")
        .read_text(encoding="utf-8")
        .replace("VL  - 13", "VL  - 14")
        .replace("KW  - Bone", "KW  - Bone\nKW  - Calcium")
    )
    output = run(write_file("changed.ris", changed), "-v", "2")
    assert counts(output)["updated"] == 1 and "changes volume, tags" in output
    study.refresh_from_db()
    assert study.volume == "14" and study.version == version + 1
    assert "Calcium" in study.tags.names()
    old, new = study.history.order_by("history_date", "history_id")[:2]
    assert (old.volume, new.volume) == ("13", "14")
    assert new.history_change_reason == "Imported from changed.ris"


def test_revision_of_old_state_for_studies_without_history(sample):
    study = StudyFactory(doi="10.3390/nu13041222", journal="", volume="")
    Study.history.all().delete()
    study_import(source=sample("zotero.ris"))
    states = list(
        Study.history.filter(id=study.pk).order_by("history_date", "history_id").values_list("journal", flat=True)
    )
    assert states == ["", "Nutrients"]


def test_hand_edits_survive_reimport(sample, write_file):
    run(sample("zotero.ris"))
    study = Study.objects.get(doi="10.3390/nu13041222")
    study.title = "Vitamin K2: bones and arteries"  # the editor's headline
    study.journal = "Nutrients (Basel)"
    study.save()
    study.tags.remove(Tag.objects.get(name="Bone"))
    changed = (
        sample("zotero.ris").read_text(encoding="utf-8")
        .replace("T2  - Nutrients", "T2  - Nutrients Journal")
        .replace("Opposite Effects", "Opposing Effects")
        .replace("VL  - 13", "VL  - 14")
    )  # fmt: skip
    run(write_file("changed.ris", changed))
    study.refresh_from_db()
    assert study.title == "Vitamin K2: bones and arteries"
    assert study.journal == "Nutrients (Basel)"
    assert study.paper_title.startswith("The Dual Role of Vitamin K2 in “Bone-Vascular Crosstalk”: Opposing")
    assert study.volume == "14"
    assert "Bone" not in study.tags.names()  # removed by hand, not brought back
    # The same file again: nothing to do.
    assert counts(run(write_file("changed.ris", changed)))["unchanged"] == 3


def test_duplicate_records_in_one_file(write_file, sample):
    text = sample("zotero.ris").read_text(encoding="utf-8")
    report = study_import(source=write_file("twice.ris", text + "\n" + text))
    assert report.counts["created"] == 3 and report.counts["unchanged"] == 3
    assert "the same paper as record 1" in report.outcomes[3].message


# -- refused files ---------------------------------------------------------------------------------

GOOD_RIS = "TY  - JOUR\nTI  - A good record\nPY  - 2020\nER  - \n\n"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("no-end.ris", GOOD_RIS + "TY  - JOUR\nTI  - Cut short\nTY  - JOUR\nTI  - Next\nER  - \n",
         "Record 2 (line 6): the record starting on line 6 has no end (ER) before the next record starts on line 8"),
        ("no-title.ris", GOOD_RIS + "TY  - JOUR\nAU  - Smith, J\nER  - \n", "Record 2 (line 6): it has no title"),
        ("bad-year.ris", GOOD_RIS + "TY  - JOUR\nTI  - X\nPY  - 20x\nER  - \n", "Record 2 (line 6): the year '20x'"),
        ("bad-doi.ris", "TY  - JOUR\nTI  - X\nDO  - not-a-doi\nER  - \n", "Record 1 (line 1): the DOI 'not-a-doi'"),
        ("long-pages.ris", "TY  - JOUR\nTI  - X\nSP  - " + "1" * 40 + "\nER  - \n", "The pages is 40 characters"),
        ("stray.nbib", "PMID- 1\nTI  - One\n\nPMID- 2\nTI  - Two\nthis is not a tag line\n",
         "Record 2 (line 4): line 6 is neither"),
        ("unclosed.bib", "@article{a, title={Fine}, year=2020}\n\n@article{b,\n  title = {Broken,\n  year = 2020\n",
         "Record 2 (line 3): it is not valid BibTeX"),
        ("syntax.json", '[{"title": "Fine"},\n {"title": "Broken",, }]', "Record 2 (line 2): it is not valid JSON"),
        ("not-list.json", '"just a string"', "format isn't recognised"),
        ("words.txt", "Dear editor,\nplease find attached the papers.\n", "format isn't recognised"),
        ("empty.ris", "", "The file is empty"),
        ("only-strings.bib", "@string{a = {b}}\n", "no entries"),
    ],
)  # fmt: skip
def test_broken_file_is_refused_whole(write_file, name, content, message):
    with pytest.raises(CommandError) as refused:
        run(write_file(name, content))
    assert message in str(refused.value)
    assert "Nothing was imported" in str(refused.value) or "Record" not in message
    nothing_written()


def test_a_broken_record_after_many_good_ones_leaves_nothing_behind(write_file):
    good = "".join(
        f"TY  - JOUR\nTI  - Study number {n}\nPY  - 2020\nDO  - 10.1000/{n}\nKW  - K2\nER  - \n" for n in range(1500)
    )
    with pytest.raises(CommandError, match=r"Record 1501 \(line 9001\): it has no title"):
        run(write_file("long.ris", good + "TY  - JOUR\nPY  - 2020\nER  - \n"))
    nothing_written()


def test_report_lists_every_failure(write_file):
    from studies.importing.formats import ImportRefused

    with pytest.raises(ImportRefused) as refused:
        study_import(source=write_file("two.ris", "TY  - JOUR\nER  - \nTY  - JOUR\nTI  - X\nPY  - 1066\nER  - \n"))
    assert [(f.number, f.line) for f in refused.value.report.failures] == [(1, 1), (2, 3)]
    nothing_written()


def test_not_utf8_is_refused_with_the_line(write_file):
    content = "TY  - JOUR\nTI  - Caf\xe9\nER  - \n".encode("latin-1")
    with pytest.raises(CommandError, match=r"Line 2 is not UTF-8 text \(byte 0xe9\)"):
        run(write_file("latin1.ris", content))
    nothing_written()


def test_size_limits(write_file, monkeypatch):
    abstract = "word " * (base.MAX_RECORD_CHARS // 5 + 10)
    with pytest.raises(
        CommandError, match=r"Record 1 \(line 1\): the record is 1\d\d\d kB long; a record may be at most 1024 kB"
    ):
        run(write_file("big-record.ris", f"TY  - JOUR\nTI  - Big\nAB  - {abstract}\nER  - \n"))
    monkeypatch.setattr(base, "MAX_FILE_BYTES", 100)
    with pytest.raises(CommandError, match="the limit is 0 MB"):
        run(write_file("big.ris", GOOD_RIS * 10))
    nothing_written()


def test_csljson_that_is_not_a_list(write_file):
    with pytest.raises(CommandError, match="Line 1: this is not a CSL-JSON file"):
        run(write_file("x.json", '"just a string"'), "--format", "csljson")


def test_wrong_format_option_is_refused(sample):
    with pytest.raises(CommandError, match="said to be BibTeX, but it looks like CSL-JSON"):
        run(sample("zotero.json"), "--format", "bibtex")
    nothing_written()


def test_progress_goes_to_stderr_and_summary_to_stdout(sample):
    from studies.management.commands.import_studies import Progress

    stream = io.StringIO()
    progress = Progress(stream, interval=0)
    progress(500, 0.25)
    assert "500 records" in stream.getvalue() and "25% of the file" in stream.getvalue() and "left" in stream.getvalue()


def test_publishing_on_import_records_a_transition_per_study(db, tmp_path, moderator):
    from django.contrib.auth.models import User
    from django.contrib.contenttypes.models import ContentType

    from catalog.models import Transition
    from studies.importing import study_import

    path = tmp_path / "two.ris"
    path.write_text(
        "TY  - JOUR\nTI  - First imported paper\nPY  - 2020\nDO  - 10.1000/one\nER  - \n"
        "TY  - JOUR\nTI  - Second imported paper\nPY  - 2021\nDO  - 10.1000/two\nER  - \n"
    )
    study_import(source=str(path), publish=True, user=User.objects.get(username="mona"))
    log = Transition.objects.filter(content_type=ContentType.objects.get(app_label="studies", model="study"))
    assert sorted(log.values_list("title", "from_status", "to_status")) == [
        ("First imported paper", "draft", "published"),
        ("Second imported paper", "draft", "published"),
    ]
