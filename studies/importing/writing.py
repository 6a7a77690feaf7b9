"""Writing an import: unique slugs, the tags it brings, new studies and
updates with revisions, in a few bulk statements per batch, then one
listing-index sync (bulk writes send no signals)."""

from copy import copy
from datetime import timedelta

from django.db.models import Q
from django.db.models.functions import Lower
from simple_history.utils import bulk_update_with_history

from catalog.indexing import sync_entries
from catalog.models import Status, Tag, WorkflowAction
from editorial.revisions import propose, to_json
from editorial.workflow import record_many
from studies.models import Study, TaggedStudy

from .copying import copies, copy_new, copy_rows, index_created
from .planning import fold, slug_base


class Slugs:
    """Slugs for new studies (``planning.slug_base`` of their titles), unique
    against the table and this import."""

    def __init__(self):
        self.taken_here = set()

    def for_records(self, records):
        """{record number: slug} for a batch of records."""
        bases = {}
        for record in records:
            bases[record.number] = slug_base(record.fields["title"])
        wanted = set(bases.values())
        taken = set(Study.objects.filter(slug__in=wanted).values_list("slug", flat=True)) | (self.taken_here & wanted)
        colliding = {base for base in wanted if base in taken}
        if colliding:
            query = Q()
            for base in colliding:
                query |= Q(slug__startswith=f"{base}-")
            taken |= set(Study.objects.filter(query).values_list("slug", flat=True))
            prefixes = tuple(f"{base}-" for base in colliding)
            taken |= {slug for slug in self.taken_here if slug.startswith(prefixes)}
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
            self.taken_here.add(slug)
            slugs[record.number] = slug
        return slugs


class TagBook:
    """The tags an import brings: found case-insensitively, created when new
    (``may_create``: a moderator's import; anyone else's leaves them out)."""

    def __init__(self, report, *, may_create=True):
        self.report = report
        self.may_create = may_create
        self.tags = {}  # folded name → Tag (None: to be created, or left out)

    def resolve(self, names):
        """Find the batch's tags in one query; note those to create (in the report)."""
        missing = list({fold(name): name for name in names if fold(name) not in self.tags}.values())
        if not missing:
            return
        for tag in Tag.objects.annotate(lower_name=Lower("name")).filter(
            Q(lower_name__in=[name.lower() for name in missing]) | Q(name__in=missing)
        ):
            self.tags.setdefault(fold(tag.name), tag)
        for name in missing:
            if fold(name) not in self.tags:
                self.tags[fold(name)] = None
                (self.report.new_tags if self.may_create else self.report.tags_left_out).append(name)

    def create_missing(self):
        names = [name for name in self.report.new_tags if self.tags.get(fold(name)) is None]
        if not names:
            return
        slugs = {name: Tag().slugify(name)[:90].strip("-_") or "tag" for name in names}
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
            self.tags[fold(tag.name)] = tag

    def __getitem__(self, name):
        return self.tags[fold(name)]

    def ids(self, names):
        """The ids of the tags ``names`` stand for (left-out ones skipped)."""
        return [tag.pk for tag in (self.tags.get(fold(name)) for name in names) if tag is not None]


def write_batch(
    *, created, updates, quiet_updates, tag_plan, tags, publish, user, now, reason, source_name, proposals=()
):
    """Write one batch: ``created`` studies, ``updates`` [(study, UpdatePlan)],
    ``quiet_updates`` [(study, import_record)], ``tag_plan`` {key: (study, names)},
    ``proposals`` [(study, UpdatePlan)]: changes to published studies that
    wait for a moderator instead (an editor's import)."""
    if tags.may_create:
        tags.create_missing()
    if created:
        # No revision for the created state: Study.imported_at says when,
        # and the first update records the state before it (see update_studies).
        # Skipping it halves the rows an import writes.
        if copies():
            copy_new(Study, created)
        else:
            Study.objects.bulk_create(created, batch_size=500)
    if updates:
        update_studies(updates, user=user, now=now, reason=reason)
    if quiet_updates:
        for study, import_record in quiet_updates:
            study.import_record = import_record
        Study.objects.bulk_update([study for study, _ in quiet_updates], ["import_record"], batch_size=500)
    tag_ids = {key: tags.ids(names) for key, (_, names) in tag_plan.items()}
    links = [(study.pk, tag_id) for key, (study, _) in tag_plan.items() for tag_id in tag_ids[key]]
    if copies():
        copy_rows(TaggedStudy, ("content_object", "tag"), links)
    else:
        TaggedStudy.objects.bulk_create(
            [TaggedStudy(content_object_id=study_id, tag_id=tag_id) for study_id, tag_id in links], batch_size=2000
        )
    if publish:
        published = created + [s for s, plan in updates if plan.changes.get("status") == Status.PUBLISHED]
        record_many(
            published,
            WorkflowAction.PUBLISH,
            from_status=Status.DRAFT,
            user=user,
            comment=f"Published on import from {source_name}",
        )
    touched = created + [study for study, _ in updates]
    if copies():
        # New studies' listing rows by COPY too; updated ones through sync_entries.
        index_created(created, {study.pk: tag_ids[id(study)] for study in created})
        touched = [study for study, _ in updates]
    if touched:
        sync_entries(touched)
    for study, plan in proposals:
        propose_update(study, plan, tags=tags, user=user, now=now)


def propose_update(study, plan, *, tags, user, now):
    """A change an import brings to a published study, kept for a moderator:
    the fields, what the import record becomes (so a later import knows what
    this one brought, once approved), and the tag set with the new tags."""
    changes = {name: to_json(Study._meta.get_field(name), value) for name, value in plan.changes.items()}
    changes["import_record"] = plan.import_record
    changes["imported_at"] = now.isoformat()
    relations = {}
    new_ids = tags.ids(plan.new_tags)
    if new_ids:
        relations["tags"] = sorted({*study.current_tag_ids, *new_ids})
    propose(study, user=user, changes=changes, relations=relations, source="import", notify=False)


def update_studies(updates, *, user, now, reason):
    """Apply [(study, UpdatePlan)], each with a revision (simple_history)."""
    studies = [study for study, _ in updates]
    ids = [study.pk for study in studies]
    # A revision of the old state for studies that have none yet (made by
    # a bulk path): simple-history records the state after each change.
    with_history = set(Study.history.filter(id__in=ids).values_list("id", flat=True).distinct())
    untracked = [copy(study) for study in studies if study.pk not in with_history]
    if untracked:
        Study.history.bulk_history_create(untracked, update=True, default_date=now - timedelta(milliseconds=1))
    fields = {"import_record", "imported_at", "version", "updated_at"}
    for study, plan in updates:
        for name, value in plan.changes.items():
            setattr(study, name, value)
        fields.update(plan.changes)
        study.import_record = plan.import_record
        study.imported_at = now
        study.version += 1
        study.updated_at = now
    bulk_update_with_history(
        studies, Study, sorted(fields), batch_size=500, default_user=user, default_change_reason=reason
    )
