"""Full-text search and listing indexes for studies, on PostgreSQL only.

SQLite has no tsvector and cannot create a GeneratedField(SearchVector(...)),
so the column and indexes are plain SQL run only on PostgreSQL. Django's model
state does not know them (nothing to migrate on SQLite); ``StudyQuerySet.search``
reads the column through raw SQL on PostgreSQL and falls back to icontains
elsewhere.

On an existing big table ``ADD COLUMN ... STORED`` rewrites the table once.
"""

from django.db import migrations

# Weights: the headline and paper title A; authors and journal B; abstract and
# highlights C. jsonb_to_tsvector(config, ..., '["string"]') is immutable and
# indexes the names only, not the "family"/"given" keys.
VECTOR = """
    setweight(to_tsvector('english'::regconfig, coalesce(title, '') || ' ' || coalesce(paper_title, '')), 'A')
    || setweight(jsonb_to_tsvector('english'::regconfig, coalesce(authors, '[]'::jsonb), '["string"]'), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(journal, '')), 'B')
    || setweight(to_tsvector('english'::regconfig, coalesce(abstract, '') || ' ' || coalesce(summary, '')), 'C')
"""

FORWARD = [
    f"ALTER TABLE studies_study ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED",
    "CREATE INDEX study_search_vector_idx ON studies_study USING gin (search_vector)",
    # The /studies/ sort orders (newest and oldest, undated last; title), so a
    # page of a million studies is read from an index, not sorted. SQLite's
    # CREATE INDEX has no NULLS LAST, hence raw SQL here too.
    "CREATE INDEX study_newest_idx ON studies_study (year DESC NULLS LAST, month DESC NULLS LAST, id DESC)",
    "CREATE INDEX study_oldest_idx ON studies_study (year ASC NULLS LAST, month ASC NULLS LAST, id ASC)",
    "CREATE INDEX study_title_idx ON studies_study (title, id)",
    # The journal filter is case-insensitive (iexact compares UPPER()).
    "CREATE INDEX study_journal_upper_idx ON studies_study (UPPER(journal::text))",
]

BACKWARD = [
    "DROP INDEX IF EXISTS study_journal_upper_idx",
    "DROP INDEX IF EXISTS study_title_idx",
    "DROP INDEX IF EXISTS study_oldest_idx",
    "DROP INDEX IF EXISTS study_newest_idx",
    "DROP INDEX IF EXISTS study_search_vector_idx",
    "ALTER TABLE studies_study DROP COLUMN IF EXISTS search_vector",
]


def run_on_postgresql(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("studies", "0002_import_record")]

    operations = [migrations.RunPython(run_on_postgresql(FORWARD), run_on_postgresql(BACKWARD), elidable=False)]
