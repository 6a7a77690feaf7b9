"""Tag operations for moderators: add or remove a tag on many entries,
rename, move in the category tree, merge tags, delete unused ones. Each
changes what visitors see, so each resyncs the listing index itself (bulk
writes skip the signals that usually do) and is refused to anyone who may
not moderate."""

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from catalog import registry
from catalog.aliases import keep_old_address
from catalog.content_version import announce_change
from catalog.indexing import repost_under, sync_entries
from catalog.models import Tag, TagAlias
from catalog.tree import check_parent, parent_map

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
def save_tag(tag, *, user, old=None):
    """Save a tag edited in the admin. A new slug keeps the old one as an
    alias (its addresses answer 301); a new parent moves the tag's whole
    subtree, and every entry under it is reposted in batches. ``old``: the
    tag as stored before the edit (None for a new tag)."""
    _require_moderator(user)
    check_parent(tag, tag.parent)
    tag.save()
    if old is None:
        announce_change()
        return 0
    if old.slug != tag.slug:
        keep_old_address(tag, old.name, old.slug)
    moved = 0
    if old.parent_id != tag.parent_id:
        moved = repost_under([tag.pk])
        parent = tag.parent.name if tag.parent else "the top level"
        _log(user, Tag.objects.filter(pk=tag.pk), f"Moved under {parent} ({moved} entries reposted).")
    announce_change()
    return moved


@transaction.atomic
def move_tags(tags, parent, *, user):
    """Move each of ``tags`` (with its subtree) under ``parent`` (None: the
    top level); refused as a whole if one move would make a loop. Returns
    how many entries were reposted."""
    _require_moderator(user)
    tags = [tag for tag in tags if tag.parent_id != (parent.pk if parent else None)]
    for tag in tags:
        check_parent(tag, parent)
    if not tags:
        return 0
    Tag.objects.filter(pk__in=[tag.pk for tag in tags]).update(parent=parent)
    moved = repost_under([tag.pk for tag in tags])
    where = parent.name if parent else "the top level"
    _log(user, Tag.objects.filter(pk__in=[tag.pk for tag in tags]), f"Moved under {where} ({moved} entries reposted).")
    announce_change()
    return moved


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
    # The tree: the merged tags' children join ``into``; if ``into`` sat
    # below one of them, it takes the highest such tag's place.
    parents = parent_map()
    if into.parent_id in source_ids:
        place = into.parent_id
        while parents.get(place) in source_ids:
            place = parents[place]
        into.parent_id = parents.get(place)
        into.save(update_fields=["parent"])
    adopted = list(Tag.objects.filter(parent_id__in=source_ids).exclude(pk=into.pk).values_list("pk", flat=True))
    Tag.objects.filter(pk__in=adopted).update(parent=into)
    # One hop from any old address: the sources' aliases now name ``into``.
    TagAlias.objects.filter(tag_id__in=source_ids).update(tag=into)
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
    for tag in sources:
        keep_old_address(into, tag.name, tag.slug)
    # Entries under the merged tags' old parents lost or gained ancestors.
    repost_under([into.pk, *adopted])
    _log(user, Tag.objects.filter(pk=into.pk), f"Merged {names} into this tag ({changed} entries).")
    announce_change()
    return changed


@transaction.atomic
def delete_unused_tags(queryset, *, user):
    """Delete the tags of ``queryset`` that no entry carries; returns (deleted, kept) names."""
    _require_moderator(user)
    tags = list(queryset.with_usage())
    # A tag with subcategories stays: its children would lose their place.
    parents = set(Tag.objects.filter(parent__in=tags).values_list("parent_id", flat=True))
    unused = [tag for tag in tags if not tag.in_use and tag.pk not in parents]
    Tag.objects.filter(pk__in=[tag.pk for tag in unused]).delete()
    if unused:
        announce_change()
    return [tag.name for tag in unused], [tag.name for tag in tags if tag.in_use or tag.pk in parents]
