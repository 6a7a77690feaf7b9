"""Tag operations for moderators: add or remove a tag on many entries,
merge tags, delete unused ones. Each changes what visitors see, so each
resyncs the listing index itself (bulk writes skip the signals that usually
do) and is refused to anyone who may not moderate."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from catalog import registry
from catalog.content_version import announce_change
from catalog.indexing import sync_entries
from catalog.models import Tag

from .workflow import may_moderate


def _require_moderator(user):
    if not may_moderate(user):
        raise PermissionDenied("Only moderators change tags this way.")


def _log(user, objects, message):
    if user is not None and objects:
        LogEntry.objects.log_actions(user_id=user.pk, queryset=objects, action_flag=CHANGE, change_message=message)


@transaction.atomic
def bulk_add_tag(queryset, tag, *, user):
    """Add ``tag`` to every entry of ``queryset``; returns how many gained it."""
    _require_moderator(user)
    model = queryset.model
    through = model.tags.through
    ids = list(queryset.values_list("pk", flat=True))
    having = set(through.objects.filter(tag=tag, content_object_id__in=ids).values_list("content_object_id", flat=True))
    gaining = [pk for pk in ids if pk not in having]
    through.objects.bulk_create([through(tag=tag, content_object_id=pk) for pk in gaining], ignore_conflicts=True)
    return _after_tag_change(model, gaining, user, f"Added tag “{tag.name}”.")


@transaction.atomic
def bulk_remove_tag(queryset, tag, *, user):
    """Take ``tag`` off every entry of ``queryset``; returns how many lost it."""
    _require_moderator(user)
    model = queryset.model
    through = model.tags.through
    links = through.objects.filter(tag=tag, content_object_id__in=queryset.values("pk"))
    losing = list(links.values_list("content_object_id", flat=True))
    links.delete()
    return _after_tag_change(model, losing, user, f"Removed tag “{tag.name}”.")


def _after_tag_change(model, ids, user, message):
    if not ids:
        return 0
    # Bump the version so an editor's open form (with the old tags) cannot
    # silently put them back.
    model._default_manager.filter(pk__in=ids).update(version=F("version") + 1)
    entries = list(model._default_manager.filter(pk__in=ids))
    sync_entries(entries)
    _log(user, model._default_manager.filter(pk__in=ids), message)
    return len(ids)


@transaction.atomic
def merge_tags(sources, into, *, user):
    """Move every article and study from each tag in ``sources`` to ``into``,
    then delete the sources. Nothing is lost: an entry carrying both keeps
    one link. The listing index and counts follow (sync_entries). Returns the
    number of entries that changed."""
    _require_moderator(user)
    sources = [tag for tag in sources if tag.pk != into.pk]
    if not sources:
        return 0
    source_ids = [tag.pk for tag in sources]
    changed = 0
    for model in registry.models():
        through = model.tags.through
        affected = list(
            through.objects.filter(tag_id__in=source_ids).values_list("content_object_id", flat=True).distinct()
        )
        if not affected:
            continue
        having = set(
            through.objects.filter(tag=into, content_object_id__in=affected).values_list("content_object_id", flat=True)
        )
        through.objects.bulk_create(
            [through(tag=into, content_object_id=pk) for pk in affected if pk not in having], ignore_conflicts=True
        )
        through.objects.filter(tag_id__in=source_ids).delete()
        model._default_manager.filter(pk__in=affected).update(version=F("version") + 1)
        for start in range(0, len(affected), 2000):
            sync_entries(list(model._default_manager.filter(pk__in=affected[start : start + 2000])))
        changed += len(affected)
    if not into.description:
        into.description = next((tag.description for tag in sources if tag.description), "")
        into.save(update_fields=["description"])
    names = ", ".join(f"“{tag.name}”" for tag in sources)
    Tag.objects.filter(pk__in=source_ids).delete()
    _log(user, Tag.objects.filter(pk=into.pk), f"Merged {names} into this tag ({changed} entries).")
    announce_change()
    return changed


@transaction.atomic
def delete_unused_tags(queryset, *, user):
    """Delete the tags of ``queryset`` that no entry carries; returns (deleted, kept) names."""
    _require_moderator(user)
    tags = list(queryset.with_usage())
    unused = [tag for tag in tags if not tag.in_use]
    Tag.objects.filter(pk__in=[tag.pk for tag in unused]).delete()
    if unused:
        announce_change()
    return [tag.name for tag in unused], [tag.name for tag in tags if tag.in_use]
