"""What the faster import must keep: PostgreSQL's COPY path writes the rows
the ORM path writes, a long file is still all or nothing (also when the
reading process, running ahead, hits the problem), and the reading process
stops with the import."""

import io
import os
import signal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import Entry, EntryTag, Tag, TagPair, TagYearCount
from studies.importing import copying, planning, reading, study_import
from studies.models import Study, TaggedStudy
from tests.conftest import only_postgres

pytestmark = pytest.mark.django_db

# Times and ids (from sequences) differ between any two runs; rows are compared by slug and tag name.
CLOCKS = {"created_at", "updated_at", "imported_at", "publish_at"}


def run(path):
    call_command("import_studies", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def ris(count, start=0):
    return "".join(
        f"TY  - JOUR\nTI  - Study number {n}\nAU  - Müller, Jörg\nPY  - 2020\nDO  - 10.1000/{n}\n"
        f"AB  - Menaquinone and arterial calcification, part {n}.\nKW  - K2\nKW  - Topic {n % 7}\nER  - \n"
        for n in range(start, start + count)
    )


def nothing_written():
    assert (Study.objects.count(), Entry.objects.count(), Tag.objects.count(), TaggedStudy.objects.count()) == (
        0,
        0,
        0,
        0,
    )


def compared(name):
    return name not in CLOCKS and name != "id" and not name.endswith("_id")


def rows(queryset):
    return sorted(
        tuple(sorted((name, str(value)) for name, value in row.items() if compared(name))) for row in queryset
    )


def snapshot():
    """Everything an import writes, without ids and clocks (and on PostgreSQL its search columns)."""
    vectors = words = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT slug, search_vector::text FROM studies_study ORDER BY slug")
            vectors = cursor.fetchall()
            cursor.execute("SELECT word FROM search_title_word ORDER BY word")
            words = cursor.fetchall()
    return {
        "studies": rows(Study.objects.values()),
        "vectors": vectors,
        "words": words,
        "links": sorted(TaggedStudy.objects.values_list("content_object__slug", "tag__name")),
        "entries": rows(Entry.objects.values("study__slug", *[f.attname for f in Entry._meta.concrete_fields])),
        "postings": rows(
            EntryTag.objects.values("entry__slug", "tag__name", *[f.attname for f in EntryTag._meta.concrete_fields])
        ),
        "tags": rows(Tag.objects.values("name", "slug", "entry_count", "direct_count")),
        "pairs": rows(TagPair.objects.values("tag__name", "other__name", "entry_count")),
        "years": rows(TagYearCount.objects.values("tag__name", "year", "study_type", "entry_count")),
        "search": list(Study.objects.search("menaquinone arterial").values_list("slug", flat=True)),
    }


class _Undo(Exception):
    pass


@only_postgres()
@pytest.mark.parametrize("publish", [False, True])
def test_copy_writes_the_rows_the_orm_writes(sample, write_file, monkeypatch, moderator, publish):
    # A parent tag, so that postings are inherited and counted up the tree.
    vitamins = Tag.objects.create(name="Vitamins", slug="vitamins")
    Tag.objects.create(name="Vitamin K2", slug="vitamin-k2", parent=vitamins)
    files = [sample("pubmed.nbib"), sample("zotero.ris"), sample("zotero.json"), write_file("many.ris", ris(2500))]

    def import_all(copy):
        monkeypatch.setattr(copying, "ENABLED", copy)
        try:
            with transaction.atomic():
                for path in files:
                    study_import(source=path, publish=publish, user=moderator, tags=["Imported"])
                taken = snapshot()
                raise _Undo
        except _Undo:
            return taken

    by_orm, by_copy = import_all(False), import_all(True)
    assert len(by_copy["studies"]) > 2500 and by_copy["postings"] and by_copy["search"]
    if publish:
        assert by_copy["pairs"] and by_copy["years"]
    for part in by_orm:
        assert by_copy[part] == by_orm[part], part


@pytest.fixture(params=["in line", "in a child process"])
def read(request, monkeypatch):
    """Each test once with the file read in line, once in a reading process."""
    if request.param == "in a child process":
        monkeypatch.setattr(reading, "CHILD_PROCESS_BYTES", 0)
    return request.param


def test_a_broken_record_after_5000_good_ones_leaves_nothing_written(write_file, read):
    # Two batches are written before the third finds the broken record: all are rolled back.
    path = write_file("long.ris", ris(5000) + "TY  - JOUR\nPY  - 2020\nER  - \n")
    with pytest.raises(CommandError, match=r"Record 5001 \(line 45001\): it has no title"):
        run(path)
    nothing_written()


def test_a_file_that_breaks_after_5000_good_records_leaves_nothing_written(write_file, read):
    # Read ahead, the problem is raised in the import, which rolls back.
    path = write_file("late.ris", ris(5000).encode() + "TY  - JOUR\nTI  - Caf\xe9\nER  - \n".encode("latin-1"))
    with pytest.raises(CommandError, match=r"Line 45002 is not UTF-8 text \(byte 0xe9\)"):
        run(path)
    nothing_written()


def test_a_file_read_in_a_child_process_imports_as_one_read_in_line(write_file, monkeypatch):
    path = write_file("many.ris", ris(2500) + "TY  - JOUR\nTI  - Study number 7\nPY  - 2020\nDO  - 10.1000/7\nER  - \n")

    def imported():
        try:
            with transaction.atomic():
                report = study_import(source=path, tags=["Imported"])
                taken = snapshot(), [(o.number, o.line, o.outcome, o.title, o.message) for o in report.outcomes]
                raise _Undo
        except _Undo:
            return taken

    in_line = imported()
    monkeypatch.setattr(reading, "CHILD_PROCESS_BYTES", 0)
    assert imported() == in_line
    assert len(in_line[1]) == 2501 and in_line[1][-1][2] == "unchanged"


def test_the_reading_process_stops_with_the_import(write_file, monkeypatch):
    monkeypatch.setattr(reading, "CHILD_PROCESS_BYTES", 0)
    # A server's worker (gunicorn's) handles SIGTERM itself; the child must end all the same.
    previous = signal.signal(signal.SIGTERM, lambda *args: None)
    path = write_file("many.ris", ris(6000))  # three batches: the child waits to hand over the second
    source_file, fmt, records = reading.open_records(path, "ris")
    try:
        with pytest.raises(RuntimeError), reading.Batches(path, source_file, fmt, records, []) as batches:
            for _ in batches:
                child = batches.child.process
                assert child.is_alive()
                raise RuntimeError("the import failed")
    finally:
        signal.signal(signal.SIGTERM, previous)
        source_file.close()
    assert child.exitcode == -signal.SIGTERM


def test_a_reading_process_that_dies_fails_the_import_and_writes_nothing(write_file, monkeypatch):
    monkeypatch.setattr(reading, "CHILD_PROCESS_BYTES", 0)
    monkeypatch.setattr(reading, "checked", lambda records, extra_tags: os._exit(3))
    path = write_file("many.ris", ris(10))
    with pytest.raises(RuntimeError, match=r"reading process ended unexpectedly \(3\)"):
        study_import(source=path)
    nothing_written()


def test_an_unchanged_reimport_reads_no_study_in_full(write_file):
    path = write_file("many.ris", ris(300))
    run(path)
    with CaptureQueriesContext(connection) as queries:
        report = study_import(source=path)
    assert report.counts["unchanged"] == 300 and report.counts["updated"] == 0
    # Matching reads identifiers, title, status and the import's digest; never the abstract.
    assert not any('"studies_study"."abstract"' in query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize("publish", [False, True])
def test_the_unchanged_shortcut_plans_what_reading_every_study_plans(write_file, monkeypatch, moderator, publish):
    """``planning.brings_nothing_new`` skips reading studies whose record is
    the one their last import brought: the outcome of a re-import must be
    the same as when every study is read and planned."""
    first = ris(40)
    run(write_file("first.ris", first))
    # The site since: a headline edited, a tag removed, a notice set by hand, a study published.
    Study.objects.filter(doi="10.1000/1").update(title="An editor's headline")
    Study.objects.get(doi="10.1000/2").tags.remove(Tag.objects.get(name="K2"))
    Study.objects.filter(doi="10.1000/3").update(notice="retracted")
    Study.objects.filter(doi="10.1000/4").update(status="published")
    # Studies imported before the digest was kept: the full path, which then keeps it.
    for study in Study.objects.filter(doi__in=["10.1000/5", "10.1000/6"]):
        study.import_record.pop("digest")
        study.save(update_fields=["import_record"])
    # The file since: a volume, a keyword, an abstract changed; one record new.
    second = first.replace("part 7.", "part seven.").replace(
        "DO  - 10.1000/8\nAB", "DO  - 10.1000/8\nVL  - 12\nAB"
    ).replace(
        "DO  - 10.1000/9\nAB  - Menaquinone and arterial calcification, part 9.\nKW  - K2",
        "DO  - 10.1000/9\nAB  - Menaquinone and arterial calcification, part 9.\nKW  - K2\nKW  - Bone",
    ) + ris(1, start=100)
    assert second.count("part seven") == 1 and "VL  - 12" in second and "KW  - Bone" in second
    path = write_file("second.ris", second)

    def reimport(shortcut):
        if not shortcut:
            monkeypatch.setattr(planning, "brings_nothing_new", lambda *args, **kwargs: False)
        try:
            with transaction.atomic():
                report = study_import(source=path, publish=publish, user=moderator)
                outcomes = [(o.number, o.outcome, o.title, o.changes, o.message) for o in report.outcomes]
                taken = snapshot(), outcomes, sorted(Study.objects.values_list("doi", "import_record"))
                raise _Undo
        except _Undo:
            return taken
        finally:
            monkeypatch.undo()

    shortcut, full = reimport(True), reimport(False)
    _, outcomes, records = shortcut
    assert [o[1] for o in outcomes].count("unchanged") == (1 if publish else 37)
    assert all(record.get("digest") for _, record in records)
    assert shortcut == full
