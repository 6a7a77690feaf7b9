"""Full-text search for articles, on PostgreSQL only (see studies 0003 for why
raw SQL: SQLite has no tsvector)."""

from django.db import migrations

# Title A; lead and body C. (An article's author is a user row, which a
# generated column cannot read.)
VECTOR = """
    setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(lead, '') || ' ' || coalesce(body, '')), 'C')
"""

FORWARD = [
    f"ALTER TABLE articles_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED",
    "CREATE INDEX article_search_vector_idx ON articles_article USING gin (search_vector)",
]

BACKWARD = [
    "DROP INDEX IF EXISTS article_search_vector_idx",
    "ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector",
]


def run_on_postgresql(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("articles", "0002_initial")]

    operations = [migrations.RunPython(run_on_postgresql(FORWARD), run_on_postgresql(BACKWARD), elidable=False)]
