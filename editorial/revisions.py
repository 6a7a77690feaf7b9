"""Changes to a published entry wait for a moderator.

An editor's save of a published article or study (its fields, tags, PDF,
listing blocks: everything the form holds) does not touch the live entry: it
becomes a ``PendingRevision`` (``propose``). Visitors keep seeing the live
version on every surface — page, listings, counts, feeds, exports, search —
because nothing they read has changed. A moderator approves it (``approve``:
applied as one save, with a revision in the entry's history and a line in
the workflow log) or rejects it with a reason (``reject``); its author can
withdraw it (``withdraw``). A newer proposal replaces a pending one.
Moderators' own edits go live directly (``needs_review``). Imports follow the
same rule (studies.importing).
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone

from catalog.indexing import deferred_sync
from catalog.models import Status, Tag, Transition, WorkflowAction

from .models import PendingRevision, RevisionStatus
from .notifications import notify_revision
from .workflow import TransitionError, log_rows, may_moderate

# Form fields that are not the entry's content: the workflow's own.
NOT_CONTENT = {"status", "workflow_comment", "edited_version", "publish_at", "expire_at", "first_published_at"}


def needs_review(user, stored_status):
    """Whether ``user``'s save of an entry now in ``stored_status`` must wait
    for a moderator: a published entry, edited by someone who may not moderate."""
    return stored_status == Status.PUBLISHED and not may_moderate(user)


def to_json(field, value):
    """A field's value as a revision keeps it."""
    if isinstance(field, models.FileField):
        return value.name if value else ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def from_json(field, value):
    return field.to_python(value)


def changes_from_form(entry, form):
    """({field: value}, {relation: [ids]}) of where ``form`` (already applied
    to ``entry``) differs from the stored entry — not from the form's initial
    values, which a restore takes from an old revision. A new upload is
    stored now, under its final, unguessable name."""
    changes, relations = {}, {}
    model = type(entry)
    stored = model._default_manager.get(pk=entry.pk)
    for name in form.cleaned_data:
        if name in NOT_CONTENT or name not in {field.name for field in model._meta.get_fields()}:
            continue
        field = model._meta.get_field(name)
        if field.many_to_many or name == "tags":
            proposed = sorted(item.pk for item in form.cleaned_data.get(name) or [])
            if proposed != sorted(getattr(stored, name).values_list("pk", flat=True)):
                relations[name] = proposed
        elif isinstance(field, models.FileField):
            upload = form.cleaned_data.get(name)
            if isinstance(upload, UploadedFile):
                changes[name] = field.storage.save(field.generate_filename(entry, upload.name), upload)
            elif upload is False and getattr(stored, name):  # "clear" ticked
                changes[name] = ""
        elif field.concrete and not field.primary_key:
            value = to_json(field, field.value_from_object(entry))
            if value != to_json(field, field.value_from_object(stored)):
                changes[name] = value
    return changes, relations


@transaction.atomic
def propose(entry, *, user, changes, relations=None, source="admin", base_version=None, notify=True):
    """Keep a change to a published ``entry`` for a moderator; returns the
    PendingRevision, or None when it changes nothing. A pending revision of
    the same entry is replaced (its author is told on the review page)."""
    relations = relations or {}
    if not changes and not relations:
        return None
    earlier = PendingRevision.objects.pending().of(entry).select_for_update()
    for revision in earlier:
        _discard_files(revision)
    earlier.update(status=RevisionStatus.SUPERSEDED, decided_at=timezone.now())
    revision = PendingRevision.objects.create(
        content_type=ContentType.objects.get_for_model(entry),
        object_id=entry.pk,
        title=entry.title[:500],
        changes=changes,
        relations=relations,
        base_version=base_version if base_version is not None else entry.version,
        source=source,
        author=user if user and user.is_authenticated else None,
    )
    if notify:  # an import proposes many at once: the queue lists them, no email each
        notify_revision(revision, "proposed")
    return revision


def _require_moderator(user):
    if not may_moderate(user):
        raise PermissionDenied("Only moderators approve or reject changes to published entries.")


def _lock_pending(revision):
    locked = PendingRevision.objects.select_for_update().filter(pk=revision.pk).first()
    if locked is None or locked.status != RevisionStatus.PENDING:
        raise TransitionError("This change is no longer waiting: someone decided on it, or it was replaced.")
    return locked


@transaction.atomic
def approve(revision, *, user, comment=""):
    """Apply ``revision`` to its entry: one save with a revision in the
    history, the tags and relations, the listing index once, a log line."""
    _require_moderator(user)
    revision = _lock_pending(revision)
    model = revision.content_type.model_class()
    entry = model._default_manager.select_for_update().get(pk=revision.object_id)
    author = revision.author or "an import"
    with deferred_sync():
        for name, value in revision.changes.items():
            field = model._meta.get_field(name)
            setattr(entry, field.attname, from_json(field, value))
        entry.version += 1
        entry._history_user = user
        entry._change_reason = f"Approved revision {revision.pk} by {author}"[:100]
        entry.save()
        for name, ids in revision.relations.items():
            if name == "tags":
                entry.tags.set(Tag.objects.filter(pk__in=ids))
            else:
                getattr(entry, name).set(ids)
    _decide(revision, RevisionStatus.APPROVED, user=user, reason=comment)
    _log(entry, WorkflowAction.APPROVE, user=user, comment=f"Approved changes by {author}. {comment}".strip())
    notify_revision(revision, "approved")
    return entry


@transaction.atomic
def reject(revision, *, user, reason):
    _require_moderator(user)
    if not reason.strip():
        raise TransitionError("Give a reason for the rejection: the author receives it.")
    revision = _lock_pending(revision)
    _discard_files(revision)
    _decide(revision, RevisionStatus.REJECTED, user=user, reason=reason.strip())
    entry = revision.content_type.model_class()._default_manager.get(pk=revision.object_id)
    _log(entry, WorkflowAction.REJECT, user=user, comment=f"Changes by {revision.author or 'an import'}: {reason}")
    notify_revision(revision, "rejected")


@transaction.atomic
def withdraw(revision, *, user):
    """Its author (or a moderator) takes a pending change back."""
    revision = _lock_pending(revision)
    if not (may_moderate(user) or (user and user.pk == revision.author_id)):
        raise PermissionDenied("Only its author or a moderator may withdraw this change.")
    _discard_files(revision)
    _decide(revision, RevisionStatus.WITHDRAWN, user=user)


def _decide(revision, status, *, user, reason=""):
    revision.status = status
    revision.decided_by = user
    revision.decided_at = timezone.now()
    revision.reason = reason
    revision.save(update_fields=["status", "decided_by", "decided_at", "reason"])


def _log(entry, action, *, user, comment):
    # The entry's status is unchanged (published → published): the log says what happened to its content.
    Transition.objects.bulk_create(log_rows([entry], action, from_status=entry.status, user=user, comment=comment))


def _discard_files(revision):
    """Files uploaded for a revision that will never apply leave storage."""
    model = revision.content_type.model_class()
    for name, value in revision.changes.items():
        field = model._meta.get_field(name)
        if isinstance(field, models.FileField) and value:
            transaction.on_commit(lambda storage=field.storage, stored=value: storage.delete(stored))
