"""Articles join the SQLite full-text index and the title words of both
databases that studies 0008 made (see there and common.fulltext): on
SQLite an article is rowid ``2 * id + 1`` of ``search_index``, with its
title, and its lead and body as the text (an article's author is a user
row, not searched, as on PostgreSQL). A later migration that rebuilds
articles_article on SQLite must run ``TRIGGERS`` again.
"""

from django.db import migrations

SLOT = 1  # articles are the odd rowids of the SQLite index


def title(row):
    return f"coalesce({row}.title, '')"


def index_values(row):
    text = f"coalesce({row}.lead, '') || ' ' || coalesce({row}.body, '')"
    return f"{row}.id * 2 + {SLOT}, {title(row)}, NULL, '', {text}"


INDEX_COLUMNS = "rowid, title, authors, journal, body"
ADD = (
    f"INSERT INTO search_index ({INDEX_COLUMNS}) VALUES ({index_values('new')}); "
    f"INSERT INTO search_title_words (rowid, title) VALUES (new.id * 2 + {SLOT}, {title('new')});"
)
REMOVE = (
    f"INSERT INTO search_index (search_index, {INDEX_COLUMNS}) VALUES ('delete', {index_values('old')}); "
    "INSERT INTO search_title_words (search_title_words, rowid, title) "
    f"VALUES ('delete', old.id * 2 + {SLOT}, {title('old')});"
)
SEARCHED = ("id", "title", "lead", "body")
CHANGED = " OR ".join(f"old.{name} IS NOT new.{name}" for name in SEARCHED)

TRIGGERS = [
    f"CREATE TRIGGER articles_article_search_insert AFTER INSERT ON articles_article BEGIN {ADD} END",
    f"CREATE TRIGGER articles_article_search_delete AFTER DELETE ON articles_article BEGIN {REMOVE} END",
    f"CREATE TRIGGER articles_article_search_update AFTER UPDATE OF {', '.join(SEARCHED)} ON articles_article "
    f"WHEN {CHANGED} BEGIN {REMOVE} {ADD} END",
]

SQLITE_FORWARD = [
    f"INSERT INTO search_index ({INDEX_COLUMNS}) SELECT {index_values('article')} FROM articles_article article",
    f"INSERT INTO search_title_words (rowid, title) SELECT article.id * 2 + {SLOT}, {title('article')} "
    "FROM articles_article article",
    *TRIGGERS,
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS articles_article_search_update",
    "DROP TRIGGER IF EXISTS articles_article_search_delete",
    "DROP TRIGGER IF EXISTS articles_article_search_insert",
    f"INSERT INTO search_index (search_index, {INDEX_COLUMNS}) "
    f"SELECT 'delete', {index_values('article')} FROM articles_article article",
    "INSERT INTO search_title_words (search_title_words, rowid, title) "
    f"SELECT 'delete', article.id * 2 + {SLOT}, {title('article')} FROM articles_article article",
]

ADD_WORDS = (
    "INSERT INTO search_title_word (word) SELECT DISTINCT word FROM {rows}, search_title_words_of({title}) AS word "
    "ORDER BY word ON CONFLICT DO NOTHING"
)

POSTGRESQL_FORWARD = [
    f"""
    CREATE FUNCTION articles_article_title_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        {ADD_WORDS.format(rows="new_rows", title="new_rows.title")};
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER articles_article_title_words_insert AFTER INSERT ON articles_article "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION articles_article_title_words_inserted()",
    f"""
    CREATE FUNCTION articles_article_title_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        {ADD_WORDS.format(rows="(SELECT NEW.title AS title) AS changed", title="changed.title")};
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER articles_article_title_words_update AFTER UPDATE OF title ON articles_article FOR EACH ROW "
    "WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION articles_article_title_words_updated()",
    ADD_WORDS.format(rows="articles_article article", title="article.title"),
]

POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS articles_article_title_words_update ON articles_article",
    "DROP TRIGGER IF EXISTS articles_article_title_words_insert ON articles_article",
    "DROP FUNCTION IF EXISTS articles_article_title_words_updated()",
    "DROP FUNCTION IF EXISTS articles_article_title_words_inserted()",
]


def run(postgresql, sqlite):
    def operation(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in {"postgresql": postgresql, "sqlite": sqlite}.get(vendor, []):
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("articles", "0004_search_statistics"), ("studies", "0008_search_index_and_words")]

    operations = [
        migrations.RunPython(
            run(POSTGRESQL_FORWARD, SQLITE_FORWARD), run(POSTGRESQL_BACKWARD, SQLITE_BACKWARD), elidable=False
        )
    ]
