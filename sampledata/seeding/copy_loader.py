"""Loading generated rows into PostgreSQL with COPY, generated in worker
processes while the server loads, with secondary indexes dropped and rebuilt
for a fresh database. A million studies load in a few minutes; one save per
row would take hours."""

import json
import multiprocessing

from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction

from articles.models import Article
from catalog.indexing import recount_tags
from catalog.models import Entry, Tag, TagPair, TagYearCount
from studies.models import Study

COPY_NULL = "\\N"


def copy_escape(text):
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_converter(field):
    """How one column's Python value is written in COPY's text format."""
    if isinstance(field, models.JSONField):
        return lambda value: copy_escape(json.dumps(value))
    if isinstance(field, models.BooleanField):
        return lambda value: "t" if value else "f"
    if isinstance(field, (models.DateField, models.TimeField)):  # DateTimeField too
        return lambda value: value.isoformat()
    if isinstance(field, (models.CharField, models.TextField)):
        return lambda value: copy_escape(str(value))
    return str


class Table:
    """One model's table for COPY: every stored column but generated ones (a
    search vector fills itself); values by attname, field defaults for columns
    the generator doesn't know."""

    def __init__(self, model, now):
        self.model = model
        fields = [field for field in model._meta.concrete_fields if not getattr(field, "generated", False)]
        self.columns = []
        for field in fields:
            convert = copy_converter(field)
            if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
                default = now
            else:
                default = field.get_default()
            self.columns.append((field.attname, convert, COPY_NULL if default is None else convert(default)))
        self.name = connection.ops.quote_name(model._meta.db_table)
        self.sql = "COPY {} ({}) FROM STDIN".format(
            self.name, ", ".join(connection.ops.quote_name(field.column) for field in fields)
        )

    def text(self, rows):
        lines = []
        for values in rows:
            cells = []
            for name, convert, default in self.columns:
                if name in values:
                    value = values[name]
                    cells.append(COPY_NULL if value is None else convert(value))
                else:
                    cells.append(default)
            lines.append("\t".join(cells))
        lines.append("")
        return "\n".join(lines)


# Set in each worker process by the pool's initializer (inherited on fork).
_worker = {}


def _init_worker(generator, tables):
    _worker.update(generator=generator, tables=tables)


def _copy_texts(task):
    """A chunk's rows as COPY text per table (runs in a worker process)."""
    kind, chunk, start, count = task
    generator, tables = _worker["generator"], _worker["tables"]
    rows = (generator.study_chunk if kind == "study" else generator.article_chunk)(chunk, start, count)
    return kind, count, [(tables[model].sql, tables[model].text(model_rows)) for model, model_rows in rows.items()]


class CopyLoader:
    """One load: ``log(message)`` and ``progress(entries done)`` report;
    ``counts`` is {"study": n, "article": n}."""

    def __init__(self, *, now, counts, log, progress):
        self.now = now
        self.counts = counts
        self.log = log
        self.progress = progress
        self.triggers_off = False

    def load(self, generator, tasks, models_loaded, jobs):
        tables = {model: Table(model, self.now) for model in models_loaded}
        # Inside a caller's transaction (tests) everything stays in this
        # process and on this connection.
        nested = connection.in_atomic_block
        pool = None
        if not nested and jobs:
            # Fork the workers with no database connection open: a child must
            # not share (and on exit close) the parent's socket.
            connection.close()
            pool = multiprocessing.get_context("fork").Pool(jobs, _init_worker, (generator, tables))
            chunks = pool.imap(_copy_texts, tasks)
        else:
            _init_worker(generator, tables)
            chunks = map(_copy_texts, tasks)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                self.prepare(cursor, tables)
                big = self.counts["study"] >= 100_000 and not nested
                dropped = self.drop_secondary_indexes(cursor, tables) if big else []
                done = 0
                for _kind, count, texts in chunks:
                    for sql, text in texts:
                        with cursor.copy(sql) as copy:
                            copy.write(text)
                    done += count
                    self.progress(done)
                if self.triggers_off:
                    cursor.execute("SET LOCAL session_replication_role = DEFAULT")
                if dropped:
                    self.log(f"Rebuilding {len(dropped)} indexes…")
                    for sql in dropped:
                        cursor.execute(sql)
                for sql in connection.ops.sequence_reset_sql(no_style(), list(tables)):
                    cursor.execute(sql)
                self.log("Counting tags and tag pairs…")
                recount_tags()
        finally:
            if pool is not None:
                pool.terminate()
        # VACUUM also sets the visibility map, so index-only scans skip the heap.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        self.log(f"{command}…")
        with connection.cursor() as cursor:
            for model in [*tables, Tag, TagPair, TagYearCount]:
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")

    def prepare(self, cursor, tables):
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table in tables.values():
            cursor.execute(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE")
        # The rows reference each other correctly by construction; checking
        # ten million foreign keys one by one would double the load time.
        # Needs superuser (as pg_restore --disable-triggers); else they're checked.
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
            self.triggers_off = True
            self.log("Foreign-key triggers off for the load.")
        except DatabaseError:
            self.triggers_off = False
            # Checked row by row then, so no check is left pending when the
            # indexes are rebuilt.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def drop_secondary_indexes(self, cursor, tables):
        """Indexes no constraint owns, dropped for the load and rebuilt after:
        building an index once is far cheaper than updating it row by row.
        Only into empty tables (a fresh benchmark database)."""
        if Study.objects.exists() or Article.objects.exists() or Entry.objects.exists():
            return []
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            [[model._meta.db_table for model in tables]],
        )
        dropped = []
        for name, definition in cursor.fetchall():
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            dropped.append(definition)
        self.log(f"Dropped {len(dropped)} secondary indexes for the load.")
        return dropped
