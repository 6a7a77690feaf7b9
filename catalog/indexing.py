"""Writes that keep the public listing index (Entry, EntryTag, Tag and
TagPair counts) in step with articles and studies.

Every path that changes an entry ends here: the admin and the shell through
the receivers in ``catalog.signals`` (``entry_changed``), bulk paths (import,
demo, benchmark seed, tag operations) by calling ``sync_entries`` once for
many rows. Inside ``deferred_sync()`` the receivers only collect what
changed, and each changed entry is synced once when the block ends, before
its transaction commits: one admin save that changes fields and tags would
otherwise sync the same entry three times.
"""

import threading
from collections import Counter, defaultdict
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Count, F, Min, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from . import registry
from .content_version import announce_change
from .models import Entry, EntryTag, Status, Tag, TagPair, is_published


def entry_fields(source):
    """What the listing row of an article or study copies from it."""
    return {
        "title": source.title,
        "slug": source.slug,
        "type_label": source.type_label,
        "year": source.year,
        "month": source.month,
        "sort_date": source.sort_date,
        "status": source.status,
        "publish_at": source.publish_at,
        "expire_at": source.expire_at,
        "updated_at": source.updated_at,
    }


def _is_visible(fields, now):
    return is_published(fields["status"], fields["publish_at"], fields["expire_at"], now)


class _Deferred(threading.local):
    depth = 0
    pending = None  # {(model, pk): the newest instance seen}


_deferred = _Deferred()


@contextmanager
def deferred_sync():
    """Collect the entries that change inside the block, and sync each once
    when the outermost block ends without an error. Use it inside the
    transaction that makes the changes, so the index commits with them."""
    _deferred.depth += 1
    if _deferred.depth == 1:
        _deferred.pending = {}
    try:
        yield
    except BaseException:
        if _deferred.depth == 1:
            _deferred.pending = None
        raise
    else:
        if _deferred.depth == 1:
            pending, _deferred.pending = _deferred.pending, None
            _deferred.depth = 0
            by_model = defaultdict(list)
            for (model, _pk), source in pending.items():
                by_model[model].append(source)
            for sources in by_model.values():
                sync_entries(sources)
    finally:
        _deferred.depth = max(_deferred.depth - 1, 0)


def entry_changed(source):
    """An article or study was saved or retagged: sync it now, or once at the
    end of the enclosing ``deferred_sync()``."""
    if _deferred.pending is not None:
        _deferred.pending[type(source), source.pk] = source
    else:
        sync_entries([source])


class CountDeltas:
    """Changes to Tag.entry_count and TagPair.entry_count, applied in a few
    statements: an entry entering the counts adds one to each of its tags and
    each pair of them; leaving, it takes them away."""

    def __init__(self):
        self.tags = Counter()
        self.pairs = Counter()

    def add(self, tag_ids, sign):
        for tag_id in tag_ids:
            self.tags[tag_id] += sign
            for other_id in tag_ids:
                if other_id != tag_id:
                    self.pairs[tag_id, other_id] += sign

    def apply(self):
        by_delta = defaultdict(list)
        for tag_id, delta in self.tags.items():
            if delta:
                by_delta[delta].append(tag_id)
        for delta, tag_ids in by_delta.items():
            Tag.objects.filter(id__in=tag_ids).update(entry_count=Greatest(F("entry_count") + delta, 0))
        gains = [(a, b, d) for (a, b), d in self.pairs.items() if d > 0]
        losses = [(d, a, b) for (a, b), d in self.pairs.items() if d < 0]
        table = connection.ops.quote_name(TagPair._meta.db_table)
        with connection.cursor() as cursor:
            if gains:
                # An upsert that adds: the same SQL on PostgreSQL and SQLite (3.24+).
                cursor.executemany(
                    f"INSERT INTO {table} (tag_id, other_id, entry_count) VALUES (%s, %s, %s) "
                    f"ON CONFLICT (tag_id, other_id) DO UPDATE "
                    f"SET entry_count = {table}.entry_count + excluded.entry_count",
                    gains,
                )
            if losses:
                cursor.executemany(
                    f"UPDATE {table} SET entry_count = entry_count + %s WHERE tag_id = %s AND other_id = %s",
                    losses,
                )


@transaction.atomic
def sync_entries(sources, *, now=None):
    """Upsert the listing rows and postings of ``sources`` (studies or articles
    of one model) and adjust the tag counts by what changed. A constant number
    of queries whatever the number of sources."""
    sources = [source for source in sources if source.pk is not None]
    if not sources:
        return
    now = now or timezone.now()
    model = type(sources[0])
    kind = registry.kind_of(model)
    source_ids = [source.pk for source in sources]

    tags_of = defaultdict(set)
    through = model.tags.through
    for source_id, tag_id in through.objects.filter(content_object_id__in=source_ids).values_list(
        "content_object_id", "tag_id"
    ):
        tags_of[source_id].add(tag_id)

    existing = {getattr(entry, f"{kind}_id"): entry for entry in Entry.objects.filter(**{f"{kind}_id__in": source_ids})}
    old_tags_of = defaultdict(set)
    for entry_id, tag_id in EntryTag.objects.filter(entry__in=list(existing.values())).values_list(
        "entry_id", "tag_id"
    ):
        old_tags_of[entry_id].add(tag_id)

    created, updated, reposted = [], [], []
    deltas = CountDeltas()
    for source in sources:
        fields = entry_fields(source)
        visible = _is_visible(fields, now)
        new_tags = tags_of[source.pk]
        entry = existing.get(source.pk)
        if entry is None:
            entry = Entry(kind=kind, counted=visible, **{kind: source}, **fields)
            created.append(entry)
            reposted.append(entry)
        else:
            old_tags = old_tags_of[entry.pk]
            if entry.counted:
                deltas.add(old_tags, -1)
            if old_tags != new_tags or entry.sort_date != fields["sort_date"]:
                reposted.append(entry)
            for name, value in fields.items():
                setattr(entry, name, value)
            entry.counted = visible
            updated.append(entry)
        if visible:
            deltas.add(new_tags, +1)

    Entry.objects.bulk_create(created, batch_size=1000)
    if updated:
        Entry.objects.bulk_update(updated, [*entry_fields(sources[0]), "counted"], batch_size=1000)
    if reposted:
        created_ids = {id(entry) for entry in created}
        EntryTag.objects.filter(entry__in=[entry.pk for entry in reposted if id(entry) not in created_ids]).delete()
        EntryTag.objects.bulk_create(
            [
                EntryTag(entry=entry, tag_id=tag_id, sort_date=entry.sort_date)
                for entry in reposted
                for tag_id in tags_of[getattr(entry, f"{kind}_id")]
            ],
            batch_size=5000,
        )
    deltas.apply()
    announce_change()


@transaction.atomic
def forget_entry(source):
    """Before an article or study is deleted: take it out of the tag counts.
    (Its Entry and postings go with it through the cascade.)"""
    if _deferred.pending is not None:
        _deferred.pending.pop((type(source), source.pk), None)
    kind = registry.kind_of(source)
    entry = Entry.objects.filter(**{kind: source}, counted=True).first()
    if entry is not None:
        deltas = CountDeltas()
        deltas.add(list(entry.postings.values_list("tag_id", flat=True)), -1)
        deltas.apply()
    announce_change()


@transaction.atomic
def refresh_scheduled(now=None):
    """Bring the tag counts up to date with entries whose publish or expiry
    time has passed since they were counted. Visibility itself is decided at
    read time (``published_q``); only the precomputed counts lag, and this
    catches them up. Returns how many entries changed."""
    now = now or timezone.now()
    due = list(
        Entry.objects.select_for_update()
        .filter(
            Q(counted=False, status=Status.PUBLISHED, publish_at__lte=now)
            & (Q(expire_at__isnull=True) | Q(expire_at__gt=now))
            | Q(counted=True, expire_at__lte=now)
        )
        .only("id", "counted")
    )
    if not due:
        return 0
    deltas = CountDeltas()
    tags_of = defaultdict(list)
    for entry_id, tag_id in EntryTag.objects.filter(entry__in=due).values_list("entry_id", "tag_id"):
        tags_of[entry_id].append(tag_id)
    for entry in due:
        deltas.add(tags_of[entry.pk], -1 if entry.counted else +1)
        entry.counted = not entry.counted
    Entry.objects.bulk_update(due, ["counted"])
    deltas.apply()
    announce_change()
    return len(due)


def next_visibility_change(now=None):
    """When the next scheduled entry appears or a visible one expires (None:
    nothing scheduled). Two MIN()s over the small partial indexes."""
    now = now or timezone.now()
    appearing = Entry.objects.filter(counted=False, status=Status.PUBLISHED, publish_at__gt=now).aggregate(
        at=Min("publish_at")
    )["at"]
    expiring = Entry.objects.filter(counted=True, expire_at__gt=now).aggregate(at=Min("expire_at"))["at"]
    return min((at for at in (appearing, expiring) if at is not None), default=None)


@transaction.atomic
def recount_tags():
    """Recompute every tag and pair count from the postings (after a bulk
    load, or to repair drift)."""
    counts = dict(EntryTag.objects.filter(entry__counted=True).values_list("tag_id").annotate(n=Count("id")))
    tags = list(Tag.objects.only("id", "entry_count"))
    for tag in tags:
        tag.entry_count = counts.get(tag.pk, 0)
    Tag.objects.bulk_update(tags, ["entry_count"], batch_size=1000)
    posting = connection.ops.quote_name(EntryTag._meta.db_table)
    entry = connection.ops.quote_name(Entry._meta.db_table)
    pair = connection.ops.quote_name(TagPair._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {pair}")
        cursor.execute(
            f"INSERT INTO {pair} (tag_id, other_id, entry_count) "
            f"SELECT a.tag_id, b.tag_id, COUNT(*) FROM {posting} a "
            f"JOIN {posting} b ON b.entry_id = a.entry_id AND b.tag_id <> a.tag_id "
            f"JOIN {entry} e ON e.id = a.entry_id AND e.counted "
            f"GROUP BY a.tag_id, b.tag_id"
        )
    announce_change()
