"""PostgreSQL: an import's new rows written with COPY instead of INSERTs.

``bulk_create`` builds a statement per 500 rows and, with client-side
binding (the project's setting), quotes every value of its arrays in Python;
COPY streams the rows, formatted by psycopg's C code, while the server works
on them. What the server does per row is unchanged: the generated search
vector, every index, the title-words trigger (a statement trigger, which
COPY fires too). The rows are the ones ``bulk_create`` would write
(tests/studies/importing/test_import_speed.py compares both paths); SQLite keeps
``bulk_create``.
"""

from django.db import connection
from django.utils import timezone

from catalog import registry
from catalog.content_version import announce_change
from catalog.indexing import POSTING_COLUMNS, CountDeltas, entry_fields, posting_values
from catalog.models import Entry, EntryTag, is_published
from catalog.tree import parent_map, postings_for

# Columns whose Python values psycopg writes as Django would: no
# get_db_prep_save needed (called per value, it would cost more than the COPY).
PLAIN = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "DateField", "DateTimeField",
    "ForeignKey", "IntegerField", "OneToOneField", "PositiveIntegerField", "PositiveSmallIntegerField",
    "SlugField", "SmallIntegerField", "TextField",
}  # fmt: skip

# Switched off by the test that compares COPY with bulk_create.
ENABLED = True


def copies():
    """Whether new rows go in by COPY on this connection."""
    return ENABLED and connection.vendor == "postgresql"


def copy_new(model, objs):
    """Insert the unsaved ``objs`` of ``model`` with one COPY and mark them
    saved, as ``bulk_create`` does."""
    if not objs:
        return
    prepare = [
        (
            field,
            field.get_internal_type() not in PLAIN,
            getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False),
        )
        for field in model._meta.concrete_fields
        if not field.primary_key
    ]
    rows = []
    for obj in objs:
        row = []
        for field, convert, stamped in prepare:
            value = field.pre_save(obj, add=True) if stamped else getattr(obj, field.attname)
            row.append(field.get_db_prep_save(value, connection) if convert else value)
        rows.append(row)
    for obj, pk in zip(objs, copy_numbered(model, [field.attname for field, _, _ in prepare], rows), strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


def copy_numbered(model, attnames, rows):
    """Insert ``rows`` (lists of the values of the fields ``attnames``, every
    one but the primary key, as psycopg writes them) with one COPY; return
    their new ids, in order, taken from the table's sequence first (COPY
    returns nothing). For rows nothing needs as model instances: building
    one cost more than writing its row."""
    meta = model._meta
    table, quote = meta.db_table, connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(name).column) for name in [meta.pk.attname, *attnames])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, meta.pk.column, len(rows)],
        )
        ids = sorted(pk for (pk,) in cursor.fetchall())
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row([pk, *row])
    return ids


def copy_rows(model, columns, rows):
    """Insert ``rows`` (tuples of the ``columns``' values, as psycopg writes
    them) into ``model``'s table with one COPY; the table numbers them. For
    rows nothing reads back (tag links, postings)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        names = ", ".join(quote(model._meta.get_field(column).column) for column in columns)
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


# An Entry's columns besides the pk and ``entry_fields``: a new study's.
ENTRY_OWN = ("kind", "article_id", "study_id", "counted")


def index_created(studies, tag_ids_of):
    """The listing rows of new ``studies`` (with ``tag_ids_of[study.pk]``, the
    tag ids just linked): what ``catalog.indexing.sync_entries`` writes for a
    source that has no listing row yet — an Entry, a posting per tag and
    ancestor, the counts of the visible ones — written by COPY, as rows (no
    Entry instances). It mirrors that function's creation branch
    (test_import_speed.py compares the two)."""
    if not studies:
        return
    now, kind = timezone.now(), registry.kind_of(studies[0])
    parents = parent_map()
    fields_of, postings_of, rows, deltas = [], [], [], CountDeltas()
    for study in studies:
        fields = entry_fields(study)
        visible = is_published(fields["status"], fields["publish_at"], fields["expire_at"], now)
        fields_of.append(fields)
        rows.append([kind, None, study.pk, visible, *fields.values()])
        postings = postings_for(tag_ids_of.get(study.pk, ()), parents)
        postings_of.append(postings)
        if visible:
            deltas.add(postings, +1, fields)
    ids = copy_numbered(Entry, [*ENTRY_OWN, *fields_of[0]], rows)
    copy_rows(
        EntryTag,
        POSTING_COLUMNS,
        (
            posting_values(entry_id, fields, tag_id, inherited)
            for entry_id, fields, postings in zip(ids, fields_of, postings_of, strict=True)
            for tag_id, inherited in postings.items()
        ),
    )
    deltas.apply()
    announce_change()
