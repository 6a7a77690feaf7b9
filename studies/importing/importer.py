"""``study_import``: a reference file (RIS, BibTeX, CSL-JSON, PubMed MEDLINE)
in as studies, batch by batch: read and check (``reading``, in a child
process for big files, with the parsers of ``formats``), find the studies
the records are (``matching``), decide what changes (``planning``), write
(``writing``). The rules are in the README ("Importing studies").

A file is imported whole or not at all: every record is checked, and one
broken record refuses the file with the record number, line and reason. All
writes happen in one transaction. With ``skip_invalid`` the records that
can't be read are skipped instead (each listed with its line and reason) and
the rest is imported.
"""

import time

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Notice, Status
from editorial.workflow import may_moderate
from studies.models import Study, TaggedStudy

from . import planning
from .formats import BrokenRecord, ImportRefused, open_records
from .formats.base import NOTICE_SEVERITY, TAG_MAX_LENGTH
from .matching import Candidate, Matcher
from .reading import Batches
from .report import ImportReport, RecordOutcome
from .writing import Slugs, TagBook, write_batch

# In an import's matches: a record that brings nothing new (no study read).
UNCHANGED = object()


def can_publish(user):
    """Whether ``user`` may publish: the workflow's rule (moderators, superusers)."""
    return may_moderate(user)


class _Rollback(Exception):
    pass


def study_import(
    *,
    source,
    fmt="auto",
    tags=(),
    publish=False,
    dry_run=False,
    user=None,
    progress=None,
    source_name=None,
    skip_invalid=False,
):
    """Import studies from a reference file; return an ImportReport.

    ``source`` is a path or a seekable binary file. ``tags`` are added to
    every study; ``publish`` publishes new studies (and imported drafts) now,
    otherwise they arrive as drafts. ``dry_run`` checks and matches everything
    and writes nothing. ``progress(records_done, fraction_of_file_read)`` is
    called after every batch. ``source_name`` names the file in the report and
    in the revisions' change reason (default: the file's own name).
    ``skip_invalid`` imports the records that can be read and reports the
    others as skipped; by default one such record refuses the file. Raises
    ImportRefused (with ``.report``) when the file can't be imported; then
    nothing was written.
    """
    if publish and not can_publish(user):
        raise PermissionDenied("Only moderators may publish: name a user who may moderate (--user NAME).")
    started = time.monotonic()
    extra_tags = _clean_tag_names(tags)
    source_file, fmt, records = open_records(source, fmt)
    report = ImportReport(
        source_name=source_name or source_file.name, format=fmt, dry_run=dry_run, skip_invalid=skip_invalid
    )
    importer = Importer(report, publish=publish, dry_run=dry_run, user=user)
    try:
        with transaction.atomic():
            with Batches(source, source_file, fmt, records, extra_tags) as batches:
                for batch, fraction_read in batches:
                    importer.process(batch)
                    if progress:
                        progress(report.records, fraction_read)
            # Once every record is in: a notice may come before its paper.
            importer.apply_notices()
            if report.counts["failed"]:
                raise ImportRefused(report.refusal(), report=report)
            if not report.records:
                raise ImportRefused("The file has no records to import.", report=report)
            if report.counts["skipped"] and report.records == report.counts["skipped"]:
                raise ImportRefused(report.refusal(), report=report)
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


def _clean_tag_names(names):
    cleaned = []
    for name in names:
        name = " ".join(str(name).split())
        if not name:
            continue
        if len(name) > TAG_MAX_LENGTH:
            raise ImportRefused(
                f"The tag {name[:40]!r}… is too long: a tag may be at most {TAG_MAX_LENGTH} characters."
            )
        cleaned.append(name)
    return cleaned


class Importer:
    """One import, batch by batch: the state carried across batches is the
    matcher's, the slugs taken and the tags found."""

    def __init__(self, report, *, publish, dry_run, user):
        self.report = report
        self.publish = publish
        self.dry_run = dry_run
        self.user = user
        self.now = timezone.now()
        self.reason = f"Imported from {report.source_name}"[:100]
        self.matcher = Matcher()
        self.slugs = Slugs()
        # A moderator's import (or the command line's, run by whoever runs the
        # server, without --user) writes directly; anyone else's never creates
        # a tag and never changes a published study: those changes wait for a
        # moderator (editorial.revisions), as an editor's edit in the admin does.
        self.trusted = user is None or may_moderate(user)
        self.tags = TagBook(report, may_create=self.trusted)
        # (record number, SourceNotice): records that are notices (a
        # retraction…) for papers they name by DOI or PMID.
        self.notices_for = []

    def process(self, items):
        """One batch of checked records (``reading.checked``)."""
        records = []
        for item in items:
            if isinstance(item, BrokenRecord):
                self.report.fail(item.number, item.line, item.message, title=item.title)
            else:
                records.append(item)
        records = [record for record in records if not self._repeated(record)]
        if not records:
            return
        self.notices_for += [(record.number, notice) for record in records for notice in record.notice_for]
        matches = self.matcher.match(records)
        by_number = {record.number: record for record in records}
        self._settle_unchanged(matches, by_number)
        # A study's tags are read only when the file brings one its last import didn't
        # (an unchanged re-import reads none).
        _load_current_tags(
            [
                study
                for number, study in matches.items()
                if isinstance(study, Study) and planning.unrecorded_tags(by_number[number].tags, study.import_record)
            ]
        )
        creates, updates, quiet_updates, tag_plan, proposals = [], [], [], {}, []
        for record in records:
            study = matches.get(record.number)
            if study is UNCHANGED:
                continue
            if isinstance(study, str):  # a conflict, explained
                self.report.fail(record.number, record.line, study, title=record.fields["title"])
            elif study is None:
                creates.append(record)
            else:
                self._plan_update(record, study, updates, quiet_updates, tag_plan, proposals)
        # Writes stop at the first failure; checking goes on to report every
        # problem. Skipped records (skip_invalid) don't stop them.
        writing = not self.dry_run and not self.report.counts["failed"]
        created = self._create(creates, tag_plan, writing)
        self.tags.resolve(
            [name for _, names in tag_plan.values() for name in names]
            + [name for _, plan in proposals for name in plan.new_tags]
        )
        if writing:
            write_batch(
                created=created,
                updates=updates,
                quiet_updates=quiet_updates,
                tag_plan=tag_plan,
                tags=self.tags,
                publish=self.publish,
                user=self.user,
                now=self.now,
                reason=self.reason,
                source_name=self.report.source_name,
                proposals=proposals,
            )
            for study in created:
                study.outcome.study_id = study.pk

    def apply_notices(self):
        """Mark the papers that notice records of this file name (a PubMed
        retraction notice's ROF, Crossref's "update-to") with the notice,
        whether the paper came in this file or was already on the site; a
        notice never gives way to a milder one. Each change is a revision
        (or, for an editor's import of a published study, a proposal)."""
        if not self.notices_for:
            return
        dois = {notice.doi for _, notice in self.notices_for if notice.doi}
        pmids = {notice.pmid for _, notice in self.notices_for if notice.pmid}
        by_doi, by_pmid = {}, {}
        for study in Study.objects.filter(Q(doi__in=dois) | Q(pmid__in=pmids)):
            by_doi.setdefault(study.doi, study)
            by_pmid.setdefault(study.pmid, study)
        planned, messages = {}, {}
        for number, notice in self.notices_for:
            study = (by_doi.get(notice.doi) if notice.doi else None) or by_pmid.get(notice.pmid)
            paper = f"DOI {notice.doi}" if notice.doi else f"PMID {notice.pmid}"
            if study is None:
                earlier = self.matcher.seen_doi.get(notice.doi) or self.matcher.seen_pmid.get(notice.pmid)
                messages.setdefault(number, []).append(
                    f"a notice for record {earlier} ({paper})" if earlier else f"a notice for {paper}, not on the site"
                )
                continue
            current = planned[study.pk][1]["notice"] if study.pk in planned else study.notice
            if NOTICE_SEVERITY[notice.kind] > NOTICE_SEVERITY[current]:
                changes = {"notice": notice.kind, "notice_citation": notice.citation, "notice_url": notice.url}
                planned[study.pk] = (study, changes)
                label = dict(Notice.choices)[notice.kind].lower()
                messages.setdefault(number, []).append(f"marks study {study.pk} (“{study.title[:60]}”) {label}")
            else:
                messages.setdefault(number, []).append(f"a notice for study {study.pk}, already marked")
        by_number = {outcome.number: outcome for outcome in self.report.outcomes}
        for number, notes in messages.items():
            if number in by_number:
                outcome = by_number[number]
                outcome.message = "; ".join(filter(None, [outcome.message, *notes]))
        if self.dry_run or self.report.counts["failed"] or not planned:
            return
        updates, proposals = [], []
        for study, changes in planned.values():
            plan = planning.UpdatePlan(changes=changes, new_tags=[], import_record=study.import_record or {})
            if not self.trusted and study.status == Status.PUBLISHED:
                proposals.append((study, plan))
                self.report.proposed += 1
            else:
                updates.append((study, plan))
        write_batch(
            created=[],
            updates=updates,
            quiet_updates=[],
            tag_plan={},
            tags=self.tags,
            publish=False,
            user=self.user,
            now=self.now,
            reason=self.reason,
            source_name=self.report.source_name,
            proposals=proposals,
        )

    def _settle_unchanged(self, matches, records):
        """Report the matched records that bring nothing new (their digest is
        the one their study keeps: ``planning.brings_nothing_new``) as
        unchanged, marking them UNCHANGED in ``matches``, and load in full,
        in one query, the other studies the matcher found by identifier (it
        reads only what deciding this takes)."""
        to_load = {}
        for number, study in matches.items():
            if not isinstance(study, Candidate):
                continue  # a conflict, or a study found by title (read in full)
            record = records[number]
            if planning.brings_nothing_new(record.digest, study.import_digest, study.status, publish=self.publish):
                matches[number] = UNCHANGED
                self.report.add(
                    RecordOutcome(record.number, record.line, "unchanged", title=study.title, study_id=study.pk)
                )
            else:
                to_load[number] = study.pk
        if to_load:
            loaded = Study.objects.in_bulk(to_load.values())
            for number, pk in to_load.items():
                matches[number] = loaded[pk]

    def _repeated(self, record):
        earlier = self.matcher.earlier_in_file(record)
        if earlier is None:
            return False
        number, reason = earlier
        self.report.add(
            RecordOutcome(
                record.number,
                record.line,
                "unchanged",
                title=record.fields["title"],
                message=f"the same paper as record {number} (same {reason}); skipped.",
            )
        )
        return True

    def _plan_update(self, record, study, updates, quiet_updates, tag_plan, proposals):
        plan = planning.plan_update(record, study, publish=self.publish, now=self.now)
        waits = False
        if (plan.changes or plan.new_tags) and not self.trusted and study.status == Status.PUBLISHED:
            outcome, waits = "updated", True
            proposals.append((study, plan))
            self.report.proposed += 1
        elif plan.changes or plan.new_tags:
            outcome = "updated"
            updates.append((study, plan))
            tag_plan[id(study)] = (study, plan.new_tags)
        else:
            outcome = "unchanged"
            if plan.import_record != (study.import_record or {}):
                quiet_updates.append((study, plan.import_record))
        names = plan.change_names
        self.report.add(
            RecordOutcome(
                record.number,
                record.line,
                outcome,
                title=study.title,
                changes=names,
                study_id=study.pk,
                message=(("changes " + ", ".join(names)) if names else "")
                + (" — published: waits for a moderator's approval" if waits else ""),
            )
        )

    def _create(self, records, tag_plan, writing):
        studies = []
        slugs = self.slugs.for_records(records) if writing else {}
        for record in records:
            study = planning.new_study(record, publish=self.publish, now=self.now, slug=slugs.get(record.number, ""))
            studies.append(study)
            tag_plan[id(study)] = (study, record.tags)
            study.outcome = RecordOutcome(record.number, record.line, "created", title=record.fields["title"])
            self.report.add(study.outcome)
        return studies


def _load_current_tags(studies):
    """The tags each matched study carries now (folded names, and ids), in one query."""
    for study in studies:
        study.current_tags, study.current_tag_ids = set(), set()
    by_id = {study.pk: study for study in studies}
    if by_id:
        for study_id, tag_id, name in TaggedStudy.objects.filter(content_object_id__in=by_id).values_list(
            "content_object_id", "tag_id", "tag__name"
        ):
            by_id[study_id].current_tags.add(planning.fold(name))
            by_id[study_id].current_tag_ids.add(tag_id)
