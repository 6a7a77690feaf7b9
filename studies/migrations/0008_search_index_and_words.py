"""Full-text search on SQLite, and the title words that spelling suggestions
draw on, on both databases (see common.fulltext).

SQLite: ``search_index``, one FTS5 index for studies and articles (so that
bm25's word statistics are shared and both kinds' ranks compare), rowid
``2 * id`` for a study, ``2 * id + 1`` for an article (articles 0005).
Contentless (``content=''``) and kept by triggers: an external-content table
would need a view to read the authors' names out of the JSON, and a view
over studies_study makes Django's SQLite table rebuilds (``_remake_table``)
fail. Such a rebuild drops the table's triggers, though: a later migration
that rebuilds studies_study on SQLite must run ``TRIGGERS`` again
(tests/discovery/test_search_sqlite.py fails until it does).
``search_title_words`` (no stemming, no positions) and its ``fts5vocab``
table list the words of titles.

PostgreSQL: the pg_trgm extension and ``search_title_word``, every word of
a title once (kept by triggers; words of deleted titles stay, and
suggestions are checked against published entries before they show), with
a trigram index. A few hundred thousand words at most, whatever the number
of studies: the suggestion lookup stays small.
"""

from django.db import migrations

SLOT = 0  # studies are the even rowids of the SQLite index


def title(row):
    return f"coalesce({row}.title, '') || ' ' || coalesce({row}.paper_title, '')"


def authors(row):
    # The names, not the JSON: "family" and "given" are not words of a study.
    return (
        f"CASE WHEN json_valid({row}.authors) THEN (SELECT group_concat(coalesce(json_extract(author.value, "
        "'$.given'), '') || ' ' || coalesce(json_extract(author.value, '$.family'), ''), ' ') "
        f"FROM json_each({row}.authors) AS author WHERE author.type = 'object') END"
    )


def index_values(row):
    text = f"coalesce({row}.abstract, '') || ' ' || coalesce({row}.summary, '')"
    return f"{row}.id * 2 + {SLOT}, {title(row)}, {authors(row)}, coalesce({row}.journal, ''), {text}"


INDEX_COLUMNS = "rowid, title, authors, journal, body"
ADD = (
    f"INSERT INTO search_index ({INDEX_COLUMNS}) VALUES ({index_values('new')}); "
    f"INSERT INTO search_title_words (rowid, title) VALUES (new.id * 2 + {SLOT}, {title('new')});"
)
# A contentless FTS5 table forgets a row by being told the values it indexed.
REMOVE = (
    f"INSERT INTO search_index (search_index, {INDEX_COLUMNS}) VALUES ('delete', {index_values('old')}); "
    "INSERT INTO search_title_words (search_title_words, rowid, title) "
    f"VALUES ('delete', old.id * 2 + {SLOT}, {title('old')});"
)
SEARCHED = ("id", "title", "paper_title", "authors", "journal", "abstract", "summary")
CHANGED = " OR ".join(f"old.{name} IS NOT new.{name}" for name in SEARCHED)

TRIGGERS = [
    f"CREATE TRIGGER studies_study_search_insert AFTER INSERT ON studies_study BEGIN {ADD} END",
    f"CREATE TRIGGER studies_study_search_delete AFTER DELETE ON studies_study BEGIN {REMOVE} END",
    f"CREATE TRIGGER studies_study_search_update AFTER UPDATE OF {', '.join(SEARCHED)} ON studies_study "
    f"WHEN {CHANGED} BEGIN {REMOVE} {ADD} END",
]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE search_index USING fts5(title, authors, journal, body, content='', "
    "tokenize='porter unicode61')",
    "CREATE VIRTUAL TABLE search_title_words USING fts5(title, content='', detail='none', tokenize='unicode61')",
    "CREATE VIRTUAL TABLE search_title_vocab USING fts5vocab(search_title_words, 'row')",
    f"INSERT INTO search_index ({INDEX_COLUMNS}) SELECT {index_values('study')} FROM studies_study study",
    f"INSERT INTO search_title_words (rowid, title) SELECT study.id * 2 + {SLOT}, {title('study')} "
    "FROM studies_study study",
    *TRIGGERS,
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS studies_study_search_update",
    "DROP TRIGGER IF EXISTS studies_study_search_delete",
    "DROP TRIGGER IF EXISTS studies_study_search_insert",
    "DROP TABLE IF EXISTS search_title_vocab",
    "DROP TABLE IF EXISTS search_title_words",
    "DROP TABLE IF EXISTS search_index",
]

# Words of three letters or more with a letter in them, lower case, each once.
WORDS_OF = """
CREATE FUNCTION search_title_words_of(title text) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT word FROM regexp_split_to_table(lower(title), '[^[:alnum:]]+') AS word
    WHERE length(word) BETWEEN 3 AND 40 AND word ~ '[[:alpha:]]'
$$
"""
# Sorted, so that two writers add shared words in the same order (no deadlock).
ADD_WORDS = "INSERT INTO search_title_word (word) SELECT DISTINCT word FROM {rows}, search_title_words_of({title}) AS word ORDER BY word ON CONFLICT DO NOTHING"
PG_TITLE = "coalesce({row}.title, '') || ' ' || coalesce({row}.paper_title, '')"

POSTGRESQL_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE TABLE search_title_word (word text PRIMARY KEY)",
    "CREATE INDEX search_title_word_trgm_idx ON search_title_word USING gin (word gin_trgm_ops)",
    WORDS_OF,
    # New rows: once per statement (a bulk import or COPY adds its words in one go).
    f"""
    CREATE FUNCTION studies_study_title_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        {ADD_WORDS.format(rows="new_rows", title=PG_TITLE.format(row="new_rows"))};
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER studies_study_title_words_insert AFTER INSERT ON studies_study REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION studies_study_title_words_inserted()",
    # A changed title: per row, and only when a title changed (not on every save).
    f"""
    CREATE FUNCTION studies_study_title_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        {ADD_WORDS.format(rows="(SELECT NEW.title AS title, NEW.paper_title AS paper_title) AS changed", title=PG_TITLE.format(row="changed"))};
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER studies_study_title_words_update AFTER UPDATE OF title, paper_title ON studies_study FOR EACH ROW "
    "WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.paper_title IS DISTINCT FROM NEW.paper_title) "
    "EXECUTE FUNCTION studies_study_title_words_updated()",
    ADD_WORDS.format(rows="studies_study study", title=PG_TITLE.format(row="study")),
]

POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS studies_study_title_words_update ON studies_study",
    "DROP TRIGGER IF EXISTS studies_study_title_words_insert ON studies_study",
    "DROP FUNCTION IF EXISTS studies_study_title_words_updated()",
    "DROP FUNCTION IF EXISTS studies_study_title_words_inserted()",
    "DROP FUNCTION IF EXISTS search_title_words_of(text)",
    "DROP TABLE IF EXISTS search_title_word",
]


def run(postgresql, sqlite):
    def operation(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in {"postgresql": postgresql, "sqlite": sqlite}.get(vendor, []):
            schema_editor.execute(statement, params=None)

    return operation


class Migration(migrations.Migration):
    dependencies = [("studies", "0007_publisher_and_chapter")]

    operations = [
        migrations.RunPython(
            run(POSTGRESQL_FORWARD, SQLITE_FORWARD), run(POSTGRESQL_BACKWARD, SQLITE_BACKWARD), elidable=False
        )
    ]
