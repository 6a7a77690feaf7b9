"""Writes to studies that span several models or the outside world.

``study_import`` brings a reference file (RIS, BibTeX, CSL-JSON, PubMed
MEDLINE) in as studies. The rules, also in the README:

- Matching: a record is the same paper as a study with the same DOI, else the
  same PMID, else the same normalised title (letters and digits, case and
  accents ignored) and year — unless their DOIs or PMIDs differ.
- Re-importing: ``Study.import_record`` keeps the values the last import
  brought. A field is updated from the file only while the study still holds
  what the last import brought, so an edit made on the site wins over the file.
  For a study that was never imported, only its empty fields are filled. An
  import never empties a field, and only ever adds tags: a tag is added when
  the file brings it for the first time, so a tag an editor removed stays
  removed. Every update keeps a revision of the old state (django-simple-history).
- A file is imported whole or not at all: every record is checked, and one
  broken record refuses the file with the record number, line and reason.
  All writes happen in one transaction.
"""

import hashlib
import time
import unicodedata
from collections import Counter
from copy import copy
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_update_with_history

from k2site.models import Status, Tag, WorkflowAction
from k2site.services import sync_entries
from k2site.workflow import may_moderate, record_many

from .importers import (
    FORMAT_NAMES,
    BrokenRecord,
    ImportRefused,
    RecordError,
    clean_record,
    open_records,
    title_key,
)
from .importers.base import EMPTY, IMPORTED_FIELDS, TAG_MAX_LENGTH
from .models import Study, StudyType, TaggedStudy

BATCH_SIZE = 2000
SLUG_BASE_LENGTH = 80
# Outcomes kept per record in the report beyond this many are only counted
# (a 100,000-record import needs the counts, not 100,000 lines).
MAX_LISTED_OUTCOMES = 5000
MAX_LISTED_FAILURES = 200


def can_publish(user):
    """Whether ``user`` may publish: the workflow's rule (moderators, superusers)."""
    return may_moderate(user)


@dataclass(slots=True)
class RecordOutcome:
    number: int
    line: int
    outcome: str  # created, updated, unchanged, failed
    title: str = ""
    message: str = ""
    changes: tuple = ()
    study_id: int | None = None

    def __str__(self):
        return f"Record {self.number} (line {self.line}): {self.message}"


@dataclass
class ImportReport:
    source_name: str
    format: str
    dry_run: bool
    counts: Counter = field(default_factory=Counter)
    outcomes: list = field(default_factory=list)
    failures: list = field(default_factory=list)
    new_tags: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def format_name(self):
        return FORMAT_NAMES.get(self.format, self.format)

    @property
    def records(self):
        return sum(self.counts[name] for name in ("created", "updated", "unchanged", "failed"))

    @property
    def rate(self):
        return self.records / self.seconds if self.seconds else 0.0

    def add(self, outcome):
        self.counts[outcome.outcome] += 1
        if outcome.outcome == "failed":
            if len(self.failures) < MAX_LISTED_FAILURES:
                self.failures.append(outcome)
        elif len(self.outcomes) < MAX_LISTED_OUTCOMES:
            self.outcomes.append(outcome)

    def refusal(self):
        shown = "; ".join(str(failure) for failure in self.failures[:3])
        more = self.counts["failed"] - min(3, len(self.failures))
        return (
            f"Nothing was imported: {self.counts['failed']} of {self.records} records can't be read. {shown}"
            + (f"; and {more} more." if more > 0 else "")
        )


class _Rollback(Exception):
    pass


def study_import(
    *, source, fmt="auto", tags=(), publish=False, dry_run=False, user=None, progress=None, source_name=None
):
    """Import studies from a reference file; return an ImportReport.

    ``source`` is a path or a seekable binary file. ``tags`` are added to
    every study; ``publish`` publishes new studies (and imported drafts) now,
    otherwise they arrive as drafts. ``dry_run`` checks and matches everything
    and writes nothing. ``progress(records_done, fraction_of_file_read)`` is
    called after every batch. ``source_name`` names the file in the report and
    in the revisions' change reason (default: the file's own name). Raises ImportRefused (with ``.report``) when the
    file can't be imported; then nothing was written.
    """
    if publish and user is not None and not can_publish(user):
        raise PermissionDenied("Only moderators may publish.")
    started = time.monotonic()
    extra_tags = _clean_tag_names(tags)
    source_file, fmt, records = open_records(source, fmt)
    report = ImportReport(source_name=source_name or source_file.name, format=fmt, dry_run=dry_run)
    importer = _Importer(report, extra_tags=extra_tags, publish=publish, dry_run=dry_run, user=user)
    try:
        with transaction.atomic():
            for batch in _batched(records, BATCH_SIZE):
                importer.process(batch)
                if progress:
                    progress(report.records, source_file.fraction_read)
            if report.counts["failed"]:
                raise ImportRefused(report.refusal(), report=report)
            if not report.records:
                raise ImportRefused("The file has no records to import.", report=report)
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except ImportRefused as refused:
        refused.report = refused.report or report
        raise
    except IntegrityError as exc:
        raise ImportRefused(
            "Someone changed the same studies while the file was being imported; nothing was written. "
            "Import the file again.",
            report=report,
        ) from exc
    finally:
        source_file.close()
        report.seconds = time.monotonic() - started
        # Batches list updates before creations; the report reads in file order.
        report.outcomes.sort(key=lambda outcome: outcome.number)
        report.failures.sort(key=lambda outcome: outcome.number)
    return report


def _batched(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def _clean_tag_names(names):
    cleaned = []
    for name in names:
        name = " ".join(str(name).split())
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            raise ImportRefused(f"The tag {name[:40]!r}… is too long: a tag may be at most {TAG_MAX_LENGTH} characters.")
        cleaned.append(name)
    return cleaned


# Long text is remembered by a digest: enough to tell whether the study
# still holds what the import brought, without storing the abstract twice.
DIGESTED = {"abstract"}


def _recorded(name, value):
    """A field's value as Study.import_record keeps it."""
    if name in DIGESTED:
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest() if value else ""
    return str(value) if name == "study_type" else value


def _empty(name):
    return StudyType.OTHER if name == "study_type" else EMPTY.get(name, "")


def _is_empty(name, value):
    if name == "study_type":
        return value in ("", StudyType.OTHER)
    return value in ("", None, [])


def _fold(name):
    return unicodedata.normalize("NFKC", name).casefold()


class _Importer:
    """State carried across the batches of one import."""

    def __init__(self, report, *, extra_tags, publish, dry_run, user):
        self.report = report
        self.extra_tags = extra_tags
        self.publish = publish
        self.dry_run = dry_run
        self.user = user
        self.now = timezone.now()
        self.reason = f"Imported from {report.source_name}"[:100]
        # Identifiers seen earlier in this file: doi/pmid → record number,
        # (title key, year) → [(record number, doi, pmid)].
        self.seen_doi, self.seen_pmid, self.seen_title = {}, {}, {}
        self.matched_studies = {}  # study id → record number
        self.tags = {}  # folded name → Tag (or None: would be created in a dry run)
        self.slugs = set()
        self._title_index = None

    # -- one batch -------------------------------------------------------------------------------

    def process(self, items):
        records = []
        for item in items:
            if isinstance(item, BrokenRecord):
                self.fail(item.number, item.line, item.message)
                continue
            try:
                records.append(clean_record(item))
            except RecordError as error:
                self.fail(item.number, item.line, str(error), title=str(item.data.get("title") or "")[:200])
        records = [record for record in records if not self._duplicate_in_file(record)]
        if not records:
            return
        matches = self._match(records)
        self._load_current_tags([study for study in matches.values() if isinstance(study, Study)])
        creates, updates, quiet_updates, tag_plan = [], [], [], {}
        for record in records:
            study = matches.get(record.number)
            if isinstance(study, str):  # a conflict, explained
                self.fail(record.number, record.line, study, title=record.fields["title"])
            elif study is None:
                creates.append(record)
            else:
                self._plan_update(record, study, updates, quiet_updates, tag_plan)
        # Writes stop at the first failure; checking goes on to report every problem.
        writing = not self.dry_run and not self.report.counts["failed"]
        created = self._create(creates, tag_plan, writing)
        self._resolve_tags([name for _, names in tag_plan.values() for name in names])
        if writing:
            self._write(created, updates, quiet_updates, tag_plan)

    def fail(self, number, line, message, title=""):
        self.report.add(RecordOutcome(number, line, "failed", title=title, message=message))

    def _duplicate_in_file(self, record):
        fields = record.fields
        earlier, reason = None, ""
        if fields["doi"] and fields["doi"] in self.seen_doi:
            earlier, reason = self.seen_doi[fields["doi"]], "DOI"
        elif fields["pmid"] and fields["pmid"] in self.seen_pmid:
            earlier, reason = self.seen_pmid[fields["pmid"]], "PMID"
        else:
            for number, doi, pmid in self.seen_title.get((record.title_key, fields["year"]), ()):
                if not _conflicts(doi, fields["doi"]) and not _conflicts(pmid, fields["pmid"]):
                    earlier, reason = number, "title and year"
                    break
        if earlier is not None:
            self.report.add(
                RecordOutcome(
                    record.number, record.line, "unchanged", title=fields["title"],
                    message=f"the same paper as record {earlier} (same {reason}); skipped.",
                )  # fmt: skip
            )
            return True
        if fields["doi"]:
            self.seen_doi[fields["doi"]] = record.number
        if fields["pmid"]:
            self.seen_pmid[fields["pmid"]] = record.number
        self.seen_title.setdefault((record.title_key, fields["year"]), []).append(
            (record.number, fields["doi"], fields["pmid"])
        )
        return False

    # -- matching --------------------------------------------------------------------------------

    def _match(self, records):
        """{record number: Study, or a message when the record conflicts}; unmatched records are absent."""
        dois = [r.fields["doi"] for r in records if r.fields["doi"]]
        pmids = [r.fields["pmid"] for r in records if r.fields["pmid"]]
        by_doi, by_pmid = {}, {}
        if dois or pmids:
            for study in Study.objects.filter(Q(doi__in=dois) | Q(pmid__in=pmids)):
                if study.doi:
                    by_doi[study.doi] = study
                if study.pmid:
                    by_pmid[study.pmid] = study
        matches, by_title = {}, {}
        for record in records:
            doi, pmid = record.fields["doi"], record.fields["pmid"]
            study = by_doi.get(doi) if doi else None
            if study is None and pmid:
                study = by_pmid.get(pmid)
            if study is not None:
                owner = by_pmid.get(pmid) if pmid else None
                if owner is not None and owner.pk != study.pk:
                    matches[record.number] = (
                        f"its DOI is study {study.pk} (“{study.title[:60]}”) but its PMID {pmid} is "
                        f"study {owner.pk} (“{owner.title[:60]}”)."
                    )
                else:
                    matches[record.number] = study
            else:
                by_title[record.number] = record
        if by_title:
            self._match_titles(by_title, matches)
        for number, study in list(matches.items()):
            if isinstance(study, Study):
                if study.pk in self.matched_studies:
                    matches[number] = (
                        f"it matches study {study.pk} (“{study.title[:60]}”), which record "
                        f"{self.matched_studies[study.pk]} already matched."
                    )
                else:
                    self.matched_studies[study.pk] = number
        return matches

    def _match_titles(self, records, matches):
        index = self._titles()
        wanted = {}
        for number, record in records.items():
            key = hash((record.title_key, record.fields["year"]))
            if key in index:
                wanted[number] = index[key]
        if not wanted:
            return
        ids = {pk for pks in wanted.values() for pk in pks}
        candidates = Study.objects.in_bulk(ids)
        for number, pks in wanted.items():
            record = records[number]
            for pk in pks:
                study = candidates.get(pk)
                if (
                    study is not None
                    and title_key(study.citation_title) == record.title_key
                    and study.year == record.fields["year"]
                    and not _conflicts(study.doi, record.fields["doi"])
                    and not _conflicts(study.pmid, record.fields["pmid"])
                ):
                    matches[number] = study
                    break

    def _load_current_tags(self, studies):
        """The tag names each matched study carries now, in one query."""
        for study in studies:
            study.current_tags = set()
        by_id = {study.pk: study for study in studies}
        if by_id:
            for study_id, name in TaggedStudy.objects.filter(content_object_id__in=by_id).values_list(
                "content_object_id", "tag__name"
            ):
                by_id[study_id].current_tags.add(_fold(name))

    def _titles(self):
        """hash((title key, year)) → [study ids], built once per import on first
        need: title matching can't use an index (the key is computed), and one
        pass over the studies costs less than a scan per batch. About 100 bytes
        per existing study."""
        if self._title_index is None:
            index = {}
            rows = Study.objects.values_list("pk", "paper_title", "title", "year")
            for pk, paper_title, title, year in rows.iterator(chunk_size=5000):
                index.setdefault(hash((title_key(paper_title or title), year)), []).append(pk)
            self._title_index = index
        return self._title_index

    # -- planning --------------------------------------------------------------------------------

    def _brought_tags(self, record):
        names, seen = [], set()
        for name in [*record.keywords, *self.extra_tags]:
            if _fold(name) not in seen:
                seen.add(_fold(name))
                names.append(name)
        return names

    def _import_record(self, fields, tags, last=None):
        values = {}
        for name in IMPORTED_FIELDS:
            value = _recorded(name, fields[name])
            if _is_empty(name, fields[name]) and last:
                value = last.get(name, value)
            values[name] = value
        values["tags"] = sorted({*tags, *((last or {}).get("tags", []))}, key=_fold)
        return values

    def _plan_update(self, record, study, updates, quiet_updates, tag_plan):
        last = study.import_record or {}
        changes = {}
        for name in IMPORTED_FIELDS:
            new = record.fields[name]
            if _is_empty(name, new):
                continue  # an import never empties a field
            current = getattr(study, name)
            # Never imported: only empty fields are filled.
            brought = last.get(name, _recorded(name, _empty(name))) if last else _recorded(name, _empty(name))
            if _recorded(name, current) == brought and new != current:
                changes[name] = new
        brought_tags = self._brought_tags(record)
        # Tags the file brings for the first time: one an editor removed stays removed.
        known = {_fold(name) for name in last.get("tags", [])} | study.current_tags
        new_tags = [name for name in brought_tags if _fold(name) not in known]
        if self.publish and study.status == Status.DRAFT:
            changes["status"] = Status.PUBLISHED
            if study.publish_at is None:
                changes["publish_at"] = self.now
        import_record = self._import_record(record.fields, brought_tags, last)
        change_names = tuple(name for name in changes if name != "publish_at") + (("tags",) if new_tags else ())
        if changes or new_tags:
            outcome = "updated"
            updates.append((study, changes, import_record))
            tag_plan[id(study)] = (study, new_tags)
        else:
            outcome = "unchanged"
            if import_record != last:
                quiet_updates.append((study, import_record))
        self.report.add(
            RecordOutcome(
                record.number, record.line, outcome, title=study.title, changes=change_names, study_id=study.pk,
                message=("changes " + ", ".join(change_names)) if change_names else "",
            )  # fmt: skip
        )

    def _create(self, records, tag_plan, writing):
        studies = []
        slugs = self._slugs(records) if writing else {}
        for record in records:
            brought_tags = self._brought_tags(record)
            fields = dict(record.fields)
            fields["study_type"] = str(fields["study_type"])
            study = Study(
                **fields,
                slug=slugs.get(record.number, ""),
                status=Status.PUBLISHED if self.publish else Status.DRAFT,
                publish_at=self.now if self.publish else None,
                import_record=self._import_record(record.fields, brought_tags),
                imported_at=self.now,
            )
            studies.append(study)
            tag_plan[id(study)] = (study, brought_tags)
            study.outcome = RecordOutcome(record.number, record.line, "created", title=fields["title"])
            self.report.add(study.outcome)
        return studies

    def _slugs(self, records):
        bases = {}
        for record in records:
            base = slugify(record.fields["title"])[:SLUG_BASE_LENGTH].rstrip("-")
            if len(slugify(record.fields["title"])) > SLUG_BASE_LENGTH and "-" in base:
                base = base.rsplit("-", 1)[0]  # end on a whole word
            bases[record.number] = base or "study"
        wanted = set(bases.values())
        taken = set(Study.objects.filter(slug__in=wanted).values_list("slug", flat=True)) | (self.slugs & wanted)
        colliding = {base for base in wanted if base in taken}
        if colliding:
            query = Q()
            for base in colliding:
                query |= Q(slug__startswith=f"{base}-")
            taken |= set(Study.objects.filter(query).values_list("slug", flat=True))
            taken |= {slug for slug in self.slugs if slug.startswith(tuple(f"{base}-" for base in colliding))}
        slugs = {}
        for record in records:
            base = bases[record.number]
            slug, counter = base, 1
            if slug in taken and record.fields["year"]:
                slug = f"{base}-{record.fields['year']}"
            while slug in taken:
                counter += 1
                slug = f"{base}-{counter}"
            taken.add(slug)
            self.slugs.add(slug)
            slugs[record.number] = slug
        return slugs

    def _resolve_tags(self, names):
        """Find the batch's tags (case-insensitively) in one query; note those to create."""
        missing = list({_fold(name): name for name in names if _fold(name) not in self.tags}.values())
        if not missing:
            return
        for tag in Tag.objects.annotate(lower_name=Lower("name")).filter(
            Q(lower_name__in=[name.lower() for name in missing]) | Q(name__in=missing)
        ):
            self.tags.setdefault(_fold(tag.name), tag)
        for name in missing:
            if _fold(name) not in self.tags:
                self.tags[_fold(name)] = None
                self.report.new_tags.append(name)

    # -- writing ---------------------------------------------------------------------------------

    def _write(self, created, updates, quiet_updates, tag_plan):
        self._create_tags()
        if created:
            # No revision for the created state: Study.imported_at says when,
            # and the first update records the state before it (see _update).
            # Skipping it halves the rows an import writes.
            Study.objects.bulk_create(created, batch_size=500)
        if updates:
            self._update(updates)
        if quiet_updates:
            for study, import_record in quiet_updates:
                study.import_record = import_record
            Study.objects.bulk_update([study for study, _ in quiet_updates], ["import_record"], batch_size=500)
        links = [
            TaggedStudy(content_object_id=study.pk, tag_id=self.tags[_fold(name)].pk)
            for study, names in tag_plan.values()
            for name in names
        ]
        TaggedStudy.objects.bulk_create(links, batch_size=2000)
        for study in created:
            study.outcome.study_id = study.pk
        if self.publish:
            published = created + [s for s, changes, _ in updates if changes.get("status") == Status.PUBLISHED]
            if published:
                record_many(
                    published,
                    WorkflowAction.PUBLISH,
                    from_status=Status.DRAFT,
                    user=self.user,
                    comment=f"Published on import from {self.report.source_name}",
                )
        touched = created + [study for study, _, _ in updates]
        if touched:
            # Bulk writes send no signals: bring the listing index along here.
            sync_entries(touched)

    def _create_tags(self):
        names = [name for name in self.report.new_tags if self.tags.get(_fold(name)) is None]
        if not names:
            return
        slugs = {}
        for name in names:
            slugs[name] = Tag().slugify(name)[:90].strip("-_") or "tag"
        taken = set(Tag.objects.filter(slug__in=set(slugs.values())).values_list("slug", flat=True))
        new = []
        for name in names:
            slug, counter = slugs[name], 1
            while slug in taken:
                counter += 1
                slug = f"{slugs[name]}-{counter}"
            taken.add(slug)
            new.append(Tag(name=name, slug=slug))
        for tag in Tag.objects.bulk_create(new):
            self.tags[_fold(tag.name)] = tag

    def _update(self, updates):
        studies = [study for study, _, _ in updates]
        ids = [study.pk for study in studies]
        # A revision of the old state for studies that have none yet (made by
        # a bulk path): simple-history records the state after each change.
        with_history = set(Study.history.filter(id__in=ids).values_list("id", flat=True).distinct())
        untracked = [copy(study) for study in studies if study.pk not in with_history]
        if untracked:
            Study.history.bulk_history_create(
                untracked, update=True, default_date=self.now - timedelta(milliseconds=1)
            )
        fields = {"import_record", "imported_at", "version", "updated_at"}
        for study, changes, import_record in updates:
            for name, value in changes.items():
                setattr(study, name, value)
            fields.update(changes)
            study.import_record = import_record
            study.imported_at = self.now
            study.version += 1
            study.updated_at = self.now
        bulk_update_with_history(
            studies, Study, sorted(fields), batch_size=500, default_user=self.user,
            default_change_reason=self.reason,
        )  # fmt: skip


def _conflicts(a, b):
    return bool(a and b and a != b)
