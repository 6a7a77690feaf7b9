"""What an import would change: a new study per unmatched record, and for a
matched one the fields and tags the file may change.

Re-importing: ``Study.import_record`` keeps the values the last import
brought. A field is updated from the file only while the study still holds
what the last import brought, so an edit made on the site wins over the file.
For a study that was never imported, only its empty fields are filled. An
import never empties a field, and only ever adds tags: a tag is added when the
file brings it for the first time, so a tag an editor removed stays removed.

A notice (retraction, correction, expression of concern) is one unit
(``plan_notice``): a kind the file brings replaces the study's when the study
still holds what the last import brought, or when the source's kind changed
since (news a moderator's hand-set notice could not have known), and never
for a milder one. Its citation and link follow the usual rule while the kind
stays.

The import record also keeps a digest of what the record brought (its fields
and tags: ``record_digest``). A record whose digest is the one its study keeps
brings nothing new, whatever the site did since (``brings_nothing_new``): an
unchanged re-import plans it without loading the study.
"""

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from django.utils.text import slugify

from catalog.models import Status
from studies.models import Study, StudyType

from .formats.base import EMPTY, IMPORTED_FIELDS, NOTICE_SEVERITY

NOTICE_FIELDS = ("notice", "notice_citation", "notice_url")

# Long text is remembered by a digest: enough to tell whether the study
# still holds what the import brought, without storing the abstract twice.
DIGESTED = {"abstract"}

SLUG_BASE_LENGTH = 80


@lru_cache(maxsize=4096)
def fold(name):
    """A tag name compared as the database compares it: case and width folded
    (cached: a file brings the same few hundred keywords again and again)."""
    return unicodedata.normalize("NFKC", name).casefold()


def recorded(name, value):
    """A field's value as Study.import_record keeps it."""
    if name in DIGESTED:
        return "sha256:" + hashlib.sha256(value.encode()).hexdigest() if value else ""
    return str(value) if name == "study_type" else value


def empty_value(name):
    return StudyType.OTHER if name == "study_type" else EMPTY.get(name, "")


def is_empty(name, value):
    if name == "study_type":
        return value in ("", StudyType.OTHER)
    return value in ("", None, [])


def brought_tags(record, extra_tags):
    """The record's keywords and the import's own tags, each name once."""
    names, seen = [], set()
    for name in [*record.keywords, *extra_tags]:
        if fold(name) not in seen:
            seen.add(fold(name))
            names.append(name)
    return names


def record_digest(fields, tags):
    """A digest of what a record brings: its fields and the tags it brings."""
    brought = [[fields[name] for name in IMPORTED_FIELDS], list(tags)]
    return hashlib.sha256(json.dumps(brought, ensure_ascii=False, default=str).encode()).hexdigest()


def brings_nothing_new(digest, study_digest, study_status, *, publish):
    """Whether a record (its ``record_digest``) changes nothing on a study
    whose import record keeps ``study_digest``: the study is not read.

    Why that holds: the record brings exactly what the last import brought,
    so each field either still holds it (equal: no change) or was changed on
    the site since (the site's edit wins); every tag it brings is recorded;
    its notice is the one brought (``plan_notice`` changes nothing); and
    ``import_record`` comes out the same. Only publishing a draft is left.
    """
    return bool(study_digest) and digest == study_digest and not (publish and study_status == Status.DRAFT)


def import_record(record, last=None):
    """What Study.import_record keeps after this import of ``record`` (a
    CleanRecord with its ``tags`` and ``digest``)."""
    fields, tags = record.fields, record.tags
    values = {"digest": record.digest}
    for name in IMPORTED_FIELDS:
        value = recorded(name, fields[name])
        if is_empty(name, fields[name]) and last:
            value = last.get(name, value)
        values[name] = value
    values["tags"] = sorted({*tags, *((last or {}).get("tags", []))}, key=fold)
    return values


@dataclass
class UpdatePlan:
    changes: dict  # field → new value (status and publish_at when publishing)
    new_tags: list
    import_record: dict

    @property
    def change_names(self):
        names = tuple(name for name in self.changes if name != "publish_at")
        return names + (("tags",) if self.new_tags else ())


def unrecorded_tags(tags, last):
    """The names of ``tags`` the last import (``last``, an import record) did not bring."""
    recorded_tags = {fold(name) for name in (last or {}).get("tags", [])}
    return [name for name in tags if fold(name) not in recorded_tags]


def plan_update(record, study, *, publish, now):
    """What the file changes on ``study``. When the file brings tags the last
    import didn't, ``study`` carries ``current_tags``, the folded names of
    its tags now (only then are they read: see ``unrecorded_tags``)."""
    last = study.import_record or {}
    changes = {}
    for name in IMPORTED_FIELDS:
        new = record.fields[name]
        if is_empty(name, new) or name in NOTICE_FIELDS:
            continue  # an import never empties a field; the notice is one unit (below)
        if _holds_what_was_brought(study, name, last) and new != getattr(study, name):
            changes[name] = new
    changes.update(plan_notice(record.fields, study, last))
    # Tags the file brings for the first time: one an editor removed stays removed.
    new_tags = unrecorded_tags(record.tags, last)
    if new_tags:
        new_tags = [name for name in new_tags if fold(name) not in study.current_tags]
    if publish and study.status == Status.DRAFT:
        changes["status"] = Status.PUBLISHED
        if study.publish_at is None:
            changes["publish_at"] = now
    return UpdatePlan(changes=changes, new_tags=new_tags, import_record=import_record(record, last))


def _holds_what_was_brought(study, name, last):
    """Whether ``study`` still holds what the last import brought for
    ``name`` (for a study never imported: the field is empty)."""
    brought = last.get(name, recorded(name, empty_value(name))) if last else recorded(name, empty_value(name))
    return recorded(name, getattr(study, name)) == brought


def plan_notice(fields, study, last):
    """The notice changes the file's ``fields`` bring to ``study`` (see the
    module's docstring)."""
    new, current = fields["notice"], study.notice
    if not new:
        return {}
    if new != current:
        brought = (last or {}).get("notice", "")
        site_kept_import = current == brought
        if NOTICE_SEVERITY[new] > NOTICE_SEVERITY[current] and (site_kept_import or new != brought):
            # The citation and link belong to the kind: both come with it, even empty.
            return {name: fields[name] for name in NOTICE_FIELDS}
        return {}
    return {
        name: fields[name]
        for name in ("notice_citation", "notice_url")
        if fields[name] and fields[name] != getattr(study, name) and _holds_what_was_brought(study, name, last)
    }


def slug_base(title):
    """The slug a new study's ``title`` gives before it is made unique (``writing.Slugs``)."""
    full = slugify(title)
    base = full[:SLUG_BASE_LENGTH].rstrip("-")
    if len(full) > SLUG_BASE_LENGTH and "-" in base:
        base = base.rsplit("-", 1)[0]  # end on a whole word
    return base or "study"


def new_study(record, *, publish, now, slug=""):
    """The unsaved study an unmatched record becomes."""
    fields = dict(record.fields)
    fields["study_type"] = str(fields["study_type"])
    return Study(
        **fields,
        slug=slug,
        status=Status.PUBLISHED if publish else Status.DRAFT,
        publish_at=now if publish else None,
        import_record=import_record(record),
        imported_at=now,
    )
