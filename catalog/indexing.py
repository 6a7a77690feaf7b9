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
from .models import Entry, EntryTag, Status, Tag, TagPair, TagYearCount, is_published
from .tree import parent_map, postings_for


def entry_fields(source):
    """What the listing row of an article or study copies from it."""
    return {
        "title": source.title,
        "slug": source.slug,
        "type_label": source.type_label,
        "study_type": getattr(source, "study_type", ""),
        "notice": getattr(source, "notice", ""),
        "byline": source.listing_byline[:255],
        "venue": source.listing_venue[:255],
        "lead": source.listing_lead[:300],
        "year": source.year,
        "month": source.month,
        "sort_date": source.sort_date,
        "status": source.status,
        "publish_at": source.publish_at,
        "expire_at": source.expire_at,
        "updated_at": source.updated_at,
    }


# A posting's columns, in the order ``posting_values`` gives them.
POSTING_COLUMNS = ("entry_id", "tag_id", "sort_date", "study_type", "inherited")


def posting_values(entry_id, fields, tag_id, inherited):
    """An entry's posting under a tag, with what listings filter and sort on,
    as a bulk load writes it: the values of POSTING_COLUMNS (``fields``: the
    entry's ``entry_fields``)."""
    return entry_id, tag_id, fields["sort_date"], fields["study_type"], inherited


def posting(entry, tag_id, inherited):
    """An entry's posting under a tag, unsaved."""
    return EntryTag(
        entry=entry, tag_id=tag_id, sort_date=entry.sort_date, study_type=entry.study_type, inherited=inherited
    )


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
    """Changes to the Tag and TagPair counts, applied in a few statements: an
    entry entering the counts adds one to each tag it is posted under (its
    own and their ancestors), to each pair of them, and to the direct count
    of its own tags; leaving, it takes them away."""

    def __init__(self):
        self.tags = Counter()
        self.direct = Counter()
        self.pairs = Counter()
        self.years = Counter()

    def add(self, postings, sign, entry):
        """``postings``: {tag id: inherited} of one entry; ``entry``: its
        listing row (or fields) as counted, for its year and study type."""
        # Undated entries count under year 0 (facets count them; timelines skip them).
        year, study_type = _get(entry, "year") or 0, _get(entry, "study_type") or ""
        for tag_id, inherited in postings.items():
            self.tags[tag_id] += sign
            if not inherited:
                self.direct[tag_id] += sign
            self.years[tag_id, year, study_type] += sign
            for other_id in postings:
                if other_id != tag_id:
                    self.pairs[tag_id, other_id] += sign

    def apply(self):
        # One UPDATE per distinct pair of changes (usually one or two).
        by_delta = defaultdict(list)
        for tag_id in self.tags.keys() | self.direct.keys():
            delta = (self.tags[tag_id], self.direct[tag_id])
            if delta != (0, 0):
                by_delta[delta].append(tag_id)
        for (delta, direct_delta), tag_ids in by_delta.items():
            Tag.objects.filter(id__in=tag_ids).update(
                entry_count=Greatest(F("entry_count") + delta, 0),
                direct_count=Greatest(F("direct_count") + direct_delta, 0),
            )
        _apply_counter(TagPair, ("tag_id", "other_id"), self.pairs)
        _apply_counter(TagYearCount, ("tag_id", "year", "study_type"), self.years)


def _get(entry, name):
    return entry[name] if isinstance(entry, dict) else getattr(entry, name)


def _apply_counter(model, key_columns, counter):
    """Add ``counter``'s deltas to ``model``'s entry_count, keyed by
    ``key_columns``: gains by an upsert that adds (the same SQL on PostgreSQL
    and SQLite 3.24+), losses by an update."""
    gains = [(*key, delta) for key, delta in counter.items() if delta > 0]
    losses = [(delta, *key) for key, delta in counter.items() if delta < 0]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(key_columns)
    with connection.cursor() as cursor:
        if gains:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}, entry_count) VALUES ({', '.join(['%s'] * (len(key_columns) + 1))}) "
                f"ON CONFLICT ({columns}) DO UPDATE SET entry_count = {table}.entry_count + excluded.entry_count",
                gains,
            )
        if losses:
            where = " AND ".join(f"{column} = %s" for column in key_columns)
            cursor.executemany(f"UPDATE {table} SET entry_count = entry_count + %s WHERE {where}", losses)


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
    parents = parent_map()
    postings_of = {source_id: postings_for(tags_of[source_id], parents) for source_id in source_ids}

    existing = {getattr(entry, f"{kind}_id"): entry for entry in Entry.objects.filter(**{f"{kind}_id__in": source_ids})}
    old_postings_of = defaultdict(dict)
    for entry_id, tag_id, inherited in EntryTag.objects.filter(entry__in=list(existing.values())).values_list(
        "entry_id", "tag_id", "inherited"
    ):
        old_postings_of[entry_id][tag_id] = inherited

    created, updated, reposted = [], [], []
    deltas = CountDeltas()
    for source in sources:
        fields = entry_fields(source)
        visible = _is_visible(fields, now)
        new_postings = postings_of[source.pk]
        entry = existing.get(source.pk)
        if entry is None:
            entry = Entry(kind=kind, counted=visible, **{kind: source}, **fields)
            created.append(entry)
            reposted.append(entry)
        else:
            old_postings = old_postings_of[entry.pk]
            if entry.counted:
                deltas.add(old_postings, -1, entry)
            if (
                old_postings != new_postings
                or entry.sort_date != fields["sort_date"]
                or entry.study_type != fields["study_type"]
            ):
                reposted.append(entry)
            for name, value in fields.items():
                setattr(entry, name, value)
            entry.counted = visible
            updated.append(entry)
        if visible:
            deltas.add(new_postings, +1, fields)

    Entry.objects.bulk_create(created, batch_size=1000)
    if updated:
        Entry.objects.bulk_update(updated, [*entry_fields(sources[0]), "counted"], batch_size=1000)
    if reposted:
        created_ids = {id(entry) for entry in created}
        EntryTag.objects.filter(entry__in=[entry.pk for entry in reposted if id(entry) not in created_ids]).delete()
        EntryTag.objects.bulk_create(
            [
                posting(entry, tag_id, inherited)
                for entry in reposted
                for tag_id, inherited in postings_of[getattr(entry, f"{kind}_id")].items()
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
        deltas.add(dict(entry.postings.values_list("tag_id", "inherited")), -1, entry)
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
        .only("id", "counted", "year", "study_type")
    )
    if not due:
        return 0
    deltas = CountDeltas()
    postings_of = defaultdict(dict)
    for entry_id, tag_id, inherited in EntryTag.objects.filter(entry__in=due).values_list(
        "entry_id", "tag_id", "inherited"
    ):
        postings_of[entry_id][tag_id] = inherited
    for entry in due:
        deltas.add(postings_of[entry.pk], -1 if entry.counted else +1, entry)
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
    counted = EntryTag.objects.filter(entry__counted=True).values_list("tag_id")
    counts = dict(counted.annotate(n=Count("id")))
    direct = dict(counted.filter(inherited=False).annotate(n=Count("id")))
    tags = list(Tag.objects.only("id", "entry_count", "direct_count"))
    for tag in tags:
        tag.entry_count = counts.get(tag.pk, 0)
        tag.direct_count = direct.get(tag.pk, 0)
    Tag.objects.bulk_update(tags, ["entry_count", "direct_count"], batch_size=1000)
    posting = connection.ops.quote_name(EntryTag._meta.db_table)
    entry = connection.ops.quote_name(Entry._meta.db_table)
    pair = connection.ops.quote_name(TagPair._meta.db_table)
    years = connection.ops.quote_name(TagYearCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {years}")
        cursor.execute(
            f"INSERT INTO {years} (tag_id, year, study_type, entry_count) "
            f"SELECT p.tag_id, COALESCE(e.year, 0), e.study_type, COUNT(*) FROM {posting} p "
            f"JOIN {entry} e ON e.id = p.entry_id AND e.counted "
            f"GROUP BY p.tag_id, COALESCE(e.year, 0), e.study_type"
        )
        cursor.execute(f"DELETE FROM {pair}")
        cursor.execute(
            f"INSERT INTO {pair} (tag_id, other_id, entry_count) "
            f"SELECT a.tag_id, b.tag_id, COUNT(*) FROM {posting} a "
            f"JOIN {posting} b ON b.entry_id = a.entry_id AND b.tag_id <> a.tag_id "
            f"JOIN {entry} e ON e.id = a.entry_id AND e.counted "
            f"GROUP BY a.tag_id, b.tag_id"
        )
    announce_change()


@transaction.atomic
def repost_under(tag_ids, *, batch_size=5000):
    """After the tree changed above ``tag_ids`` (a subtree moved, a parent
    removed): rewrite the inherited postings of every entry posted under them
    and adjust the counts, in batches of set-wise statements. An entry's own
    tags are its direct postings, so the sources are not read again. Returns
    how many entries changed."""
    parents = parent_map()
    entry_ids = list(
        EntryTag.objects.filter(tag_id__in=list(tag_ids)).values_list("entry_id", flat=True).distinct().order_by()
    )
    changed = 0
    for start in range(0, len(entry_ids), batch_size):
        batch = entry_ids[start : start + batch_size]
        old_postings_of = defaultdict(dict)
        for entry_id, tag_id, inherited in EntryTag.objects.filter(entry_id__in=batch).values_list(
            "entry_id", "tag_id", "inherited"
        ):
            old_postings_of[entry_id][tag_id] = inherited
        entries = {
            entry.pk: entry
            for entry in Entry.objects.filter(pk__in=batch).only("id", "sort_date", "counted", "year", "study_type")
        }
        deltas, gone, added = CountDeltas(), defaultdict(list), []
        for entry_id, old in old_postings_of.items():
            new = postings_for([tag_id for tag_id, inherited in old.items() if not inherited], parents)
            if new == old:
                continue
            changed += 1
            entry = entries[entry_id]
            if entry.counted:
                deltas.add(old, -1, entry)
                deltas.add(new, +1, entry)
            for tag_id in old.keys() - new.keys():
                gone[tag_id].append(entry_id)
            added.extend(posting(entry, tag_id, inherited=True) for tag_id in new.keys() - old.keys())
        for tag_id, ids in gone.items():
            EntryTag.objects.filter(tag_id=tag_id, entry_id__in=ids).delete()
        EntryTag.objects.bulk_create(added, batch_size=5000)
        deltas.apply()
    if changed:
        announce_change()
    return changed
