"""Full-text matching, ranking, highlighting and spelling candidates for
articles and studies, on PostgreSQL and SQLite alike.

One query language on both databases (``SearchQuery``), close to what
people type into search engines:

    vitamin k2              every word (English stemming: "bones" finds "bone")
    "vitamin k2"            the phrase
    -warfarin, -"k2 mk4"    without that word or phrase
    bone or calcium         either ("or" joins the words or phrases beside it)
    menaq*                  words starting with "menaq" (two letters at least
                            before the star)

Prefix matching is explicit (``word*``) rather than implied on the last
word: a search page is not an autocomplete, and "vitamin k" must not turn
into "vitamin k2 or kidney or …". A word or phrase of English stop words
only ("the", "and", …) is left out, as PostgreSQL's dictionary leaves them
out anyway; a query with nothing but exclusions finds nothing (it must say
what to find).

PostgreSQL: the stored generated ``search_vector`` columns with their GIN
indexes (studies and articles migrations 0003), queried with a tsquery built
from the parsed query (``phraseto_tsquery`` per word or phrase, ``to_tsquery``
for a prefix, joined with ``&&``, ``||`` and ``!!``: PostgreSQL's own parser
reads every piece, so no input can break the syntax), ranked with
``ts_rank``.

SQLite: one FTS5 index for both kinds (studies migration 0008, articles
migration 0005) with ``tokenize='porter unicode61'``, kept by triggers; a
study ``id`` is rowid ``2 * id``, an article's ``2 * id + 1``. One index
rather than one per kind so that bm25's word statistics (IDF) are the same
for both and their ranks can be merged, as ``ts_rank`` ranks can. The
parsed query becomes a MATCH expression in which every word is a quoted
FTS5 string, so no input is FTS5 syntax. Ranked with ``-bm25()`` (higher is
better, as ``ts_rank``), the columns weighted as PostgreSQL weighs them.
"""

import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from html import unescape

import nh3
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import BooleanField, CharField, F, FloatField, Value
from django.db.models.expressions import Expression, RawSQL
from django.utils.html import escape
from django.utils.safestring import mark_safe

SEARCH_CONFIG = "english"
REGCONFIG = f"'{SEARCH_CONFIG}'::regconfig"
# PostgreSQL's English stop words (tsearch_data/english.stop): left out of
# bare words on both databases, so both match the same entries.
STOP_WORDS = frozenset(
    """i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her
    hers herself it its itself they them their theirs themselves what which who whom this that these those
    am is are was were be been being have has had having do does did doing a an the and but if or because
    as until while of at by for with about against between into through during before after above below to
    from up down in out on off over under again further then once here there when where why how all any
    both each few more most other some such no nor not only own same so than too very s t can will just don
    should now""".split()
)
MIN_PREFIX = 2
# A longer query is cut: 200 characters (discovery.views) hold fewer terms.
MAX_TERMS = 16
# How many matches each kind ranks at most (see ranked()).
RANK_CANDIDATES = 5000

# Private-use characters mark the matches in the highlighted text, so the
# text can be HTML-escaped as a whole before the marks become <mark>.
MARK_START, MARK_END = "\ue000", "\ue001"
SNIPPET_WORDS = 35
HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords={SNIPPET_WORDS}, MinWords=15, MaxFragments=2, "
    'FragmentDelimiter=" … "'
)
WHOLE_TEXT_OPTIONS = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"

# The SQLite index (studies migration 0008): its columns, and bm25's weight
# for each — ts_rank's default weights for PostgreSQL's A, B, B, C (1.0,
# 0.4, 0.4, 0.2), scaled.
SQLITE_INDEX = "search_index"
SQLITE_WEIGHTS = "5.0, 2.0, 2.0, 1.0"
# Title words for spelling suggestions: an FTS5 vocabulary on SQLite, a
# table with a trigram index on PostgreSQL (both made by studies 0008).
SQLITE_TITLE_VOCABULARY = "search_title_vocab"
POSTGRESQL_TITLE_WORDS = "search_title_word"

WORD = re.compile(r"[^\W_]+")
QUERY_PART = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')
# NUL, other control characters and our marks: never part of a word.
UNWANTED = re.compile(r"[\x00-\x1f\x7f\ue000\ue001]")


def is_postgresql():
    return connection.vendor == "postgresql"


def column(model, name):
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(name)}"


# --- the query language -------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word or a phrase as typed (``text``, what PostgreSQL's parser
    reads) and its words in lower case (``words``, what FTS5 reads)."""

    text: str
    words: tuple
    prefix: bool = False

    def fts5(self):
        # A quoted FTS5 string: its content is only ever words, never syntax.
        return '"' + " ".join(self.words) + '"' + ("*" if self.prefix else "")

    def tsquery(self):
        if self.prefix:
            # The word is letters and digits only: nothing to escape.
            return f"to_tsquery({REGCONFIG}, %s)", [f"'{self.words[0]}':*"]
        return f"phraseto_tsquery({REGCONFIG}, %s)", [self.text]


@dataclass
class SearchQuery:
    """A parsed query: every group must match (any term of a group), no
    excluded term may."""

    groups: list = field(default_factory=list)
    excluded: list = field(default_factory=list)

    @classmethod
    def parse(cls, text):
        if isinstance(text, cls):
            return text
        parsed, either, count = cls(), False, 0
        for part in QUERY_PART.finditer(UNWANTED.sub(" ", text or "")):
            negated, quoted = part[1] == "-", part[2] is not None
            raw = part[2] if quoted else part[3]
            if not quoted and not negated and raw.lower() == "or":
                either = bool(parsed.groups)
                continue
            starred = not quoted and raw.endswith("*")
            raw = raw if quoted else raw.strip("*")
            words = tuple(word.lower() for word in WORD.findall(raw))
            if not words or count >= MAX_TERMS:
                continue
            prefix = starred and len(words) == 1 and len(words[0]) >= MIN_PREFIX
            if not prefix and STOP_WORDS.issuperset(words):
                continue
            count += 1
            term = Term(text=" ".join(raw.split()), words=words, prefix=prefix)
            if negated:
                parsed.excluded.append(term)
            elif either:
                parsed.groups[-1].append(term)
            else:
                parsed.groups.append([term])
            either = False
        return parsed

    def __bool__(self):
        return bool(self.groups)

    @property
    def terms(self):
        """The terms to find (not the excluded ones)."""
        return [term for group in self.groups for term in group]

    @property
    def words(self):
        """The words to find, in order, each once."""
        return list(dict.fromkeys(word for term in self.terms for word in term.words))

    def fts5(self):
        """The FTS5 MATCH expression."""
        groups = ["(" + " OR ".join(term.fts5() for term in group) + ")" for group in self.groups]
        expression = "(" + " AND ".join(groups) + ")"
        for term in self.excluded:
            expression += f" NOT {term.fts5()}"
        return expression

    def fts5_any(self):
        """Any term to find: what highlighting marks."""
        return " OR ".join(term.fts5() for term in self.terms)

    def tsquery(self):
        """(SQL, params) of the PostgreSQL tsquery."""
        params = []

        def sql_of(term):
            sql, term_params = term.tsquery()
            params.extend(term_params)
            return sql

        groups = ["(" + " || ".join(sql_of(term) for term in group) + ")" for group in self.groups]
        sql = "(" + " && ".join(groups) + ")"
        for term in self.excluded:
            sql = f"({sql} && !!{sql_of(term)})"
        return sql, params

    def tsquery_any(self):
        params = []
        parts = []
        for term in self.terms:
            sql, term_params = term.tsquery()
            parts.append(sql)
            params.extend(term_params)
        return "(" + " || ".join(parts) + ")", params


# --- matching and ranking -----------------------------------------------------


def _sqlite_rowids(slot, expression, *, newest=None):
    """The ids of one kind (``slot``) matching an FTS5 expression; with
    ``newest``, only that many, the most recently added."""
    limit = f" ORDER BY rowid DESC LIMIT {int(newest)}" if newest else ""
    return RawSQL(
        f"SELECT rowid / 2 FROM {SQLITE_INDEX} WHERE {SQLITE_INDEX} MATCH %s AND (rowid & 1) = {int(slot)}{limit}",
        [expression],
    )


def _sqlite_scored(slot):
    """SQL of one kind's RANK_CANDIDATES newest matches, each with its
    index rowid (``entry``) and -bm25() (``score``), all computed by one
    FTS5 cursor: bm25() counts each word's matches once per cursor, so
    asking for one row's bm25() at a time costs seconds on a common word.
    One parameter: the MATCH expression."""
    return (
        f"SELECT rowid AS entry, -bm25({SQLITE_INDEX}, {SQLITE_WEIGHTS}) AS score FROM {SQLITE_INDEX} "
        f"WHERE {SQLITE_INDEX} MATCH %s AND (rowid & 1) = {int(slot)} ORDER BY rowid DESC LIMIT {int(RANK_CANDIDATES)}"
    )


class Bm25Rank(Expression):
    """A row's -bm25() in the SQLite index (higher is better, as ts_rank),
    read from the candidates scored once in a materialised CTE."""

    output_field = FloatField()

    def __init__(self, pk, *, slot, expression):
        super().__init__()
        self.pk, self.slot, self.expression = pk, slot, expression

    def get_source_expressions(self):
        return [self.pk]

    def set_source_expressions(self, expressions):
        (self.pk,) = expressions

    def as_sql(self, compiler, connection):
        pk_sql, pk_params = compiler.compile(self.pk)
        # Looked up by the rowid itself, which SQLite indexes for the lookup.
        sql = (
            f"(WITH scored AS MATERIALIZED ({_sqlite_scored(self.slot)}) "
            f"SELECT score FROM scored WHERE scored.entry = {pk_sql} * 2 + {int(self.slot)})"
        )
        return sql, [self.expression, *pk_params]


def matching(queryset, query, *, slot):
    """``queryset`` narrowed to the entries matching ``query`` (no ordering).
    ``slot``: the kind's place in the SQLite index (0 studies, 1 articles)."""
    parsed = SearchQuery.parse(query)
    if not parsed:
        return queryset.none()
    if is_postgresql():
        tsquery, params = parsed.tsquery()
        vector = column(queryset.model, "search_vector")
        return queryset.filter(RawSQL(f"{vector} @@ {tsquery}", params, output_field=BooleanField()))
    return queryset.filter(pk__in=_sqlite_rowids(slot, parsed.fts5()))


def ranked(queryset, query, *, slot):
    """Matching entries annotated with ``rank`` (higher is better).

    PostgreSQL ranks with ts_rank over the weighted vector (title A, authors
    and journal B, text C), SQLite with bm25 weighted alike. Ranking reads
    every match: 1.5 s when a query matches 60% of a million studies. So
    each kind ranks its RANK_CANDIDATES most recently added matches only
    (found through the index); a query matching fewer is ranked exactly."""
    parsed = SearchQuery.parse(query)
    if not parsed:
        return queryset.none().annotate(rank=Value(0.0, output_field=FloatField()))
    if not is_postgresql():
        expression = parsed.fts5()
        return queryset.filter(pk__in=_sqlite_rowids(slot, expression, newest=RANK_CANDIDATES)).annotate(
            rank=Bm25Rank(F("pk"), slot=slot, expression=expression)
        )
    # Raw SQL with its own alias: a column named by its table would be read
    # from the outer query once Django nests a queryset here.
    model = queryset.model
    table, pk = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
    tsquery, params = parsed.tsquery()
    candidates = RawSQL(
        f"SELECT candidate.{pk} FROM {table} candidate WHERE candidate.search_vector @@ {tsquery} "
        f"ORDER BY candidate.{pk} DESC LIMIT {int(RANK_CANDIDATES)}",
        params,
    )
    vector = column(model, "search_vector")
    return queryset.filter(pk__in=candidates).annotate(
        rank=RawSQL(f"ts_rank({vector}, {tsquery})", params, output_field=FloatField())
    )


def ranked_union(parts, query):
    """(kind, id, rank) of the matches of every ``(kind, queryset)`` of
    ``parts`` (e.g. the published studies; a queryset of an indexed kind,
    with its SEARCH_INDEX_SLOT), best first, as one SQL query that the page
    slices: both kinds are ranked and limited together.

    PostgreSQL: a UNION of the ranked querysets. SQLite: read from the index
    side (IndexRanking), because SQLite's planner walks the published rows
    and looks each rank up without an index (seconds at 50,000 studies)."""
    if not is_postgresql():
        return IndexRanking(parts, query)
    ranked_parts = [
        ranked(queryset, query, slot=queryset.SEARCH_INDEX_SLOT)
        .annotate(kind=Value(kind, output_field=CharField()))
        .values_list("kind", "pk", "rank")
        .order_by()
        for kind, queryset in parts
    ]
    return ranked_parts[0].union(*ranked_parts[1:], all=True).order_by("-rank", "kind", "-pk")


@dataclass
class IndexRanking:
    """SQLite's ranked_union(): each kind's scored candidates (_sqlite_scored)
    kept when the kind's queryset holds them (EXISTS, one primary-key lookup
    each), merged, ordered and limited in one query per slice."""

    parts: list
    query: str

    def __getitem__(self, item):
        if not isinstance(item, slice) or item.step is not None:
            raise TypeError("IndexRanking takes slices only.")
        start, stop = item.start or 0, item.stop
        parsed = SearchQuery.parse(self.query)
        if not parsed or (stop is not None and stop <= start):
            return []
        branches, params = [], []
        for kind, queryset in self.parts:
            slot = queryset.SEARCH_INDEX_SLOT
            try:
                held, held_params = (
                    queryset.filter(pk=RawSQL("scored.entry / 2", [])).order_by().values("pk").query.sql_with_params()
                )
            except EmptyResultSet:  # queryset.none()
                continue
            branches.append(
                f"SELECT %s AS kind, scored.entry / 2 AS id, scored.score AS rank FROM ({_sqlite_scored(slot)}) "
                f"AS scored WHERE EXISTS ({held})"
            )
            params += [kind, parsed.fts5(), *held_params]
        if not branches:
            return []
        limit = f" LIMIT {int(stop) - int(start)} OFFSET {int(start)}" if stop is not None else ""
        sql = " UNION ALL ".join(branches) + f" ORDER BY rank DESC, kind ASC, id DESC{limit}"
        # The kinds' read database (a replica, in a request, if there are any).
        with connections[self.parts[0][1].db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


# --- what a result shows --------------------------------------------------------


def plain_text(text):
    """Markdown marks and runs of whitespace removed: a cheap approximation
    for short texts (feed summaries, a lead). Search snippets quote the
    rendered text instead (discovery.search.reader_texts)."""
    text = re.sub(r"(?m)^\s*(#{1,6}|>|[-*+]|\d+\.)\s+", "", text)
    text = re.sub(r"[*_`]{1,3}(?=\S)|(?<=\S)[*_`]{1,3}", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(text.split())


# Ends of block elements: a space there, so that words of two paragraphs or
# cells never run together once the tags are gone.
BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|td|th|dt|dd|div|blockquote|pre|figcaption|tr)>|<br\s*/?>|<hr\s*/?>", re.I)


def html_text(html):
    """The text of sanitised HTML as a reader sees it, in one line."""
    text = nh3.clean(BLOCK_END.sub(lambda match: match[0] + " ", html), tags=set())
    # nh3 leaves the text HTML-escaped; the snippet is escaped again later.
    return " ".join(unescape(text).split())


def _marked_html(text):
    html = escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return mark_safe(html)


def _opening(text):
    words = text.split()
    return " ".join(words[:SNIPPET_WORDS]) + (" …" if len(words) > SNIPPET_WORDS else "")


def highlighted(items, query, *, using=DEFAULT_DB_ALIAS):
    """[(title HTML, snippet HTML)] for [(title, text)] of the results shown:
    every word of the query marked in the title, and the passage of the text
    that matches best. At most one query.

    The text is the text as a reader sees it (rendered Markdown, see
    discovery.search), computed in Python for the ≤ 20 rows shown rather than
    stored: no column to keep in step, and the same text on both databases.
    PostgreSQL highlights it with ts_headline (its own stemming); SQLite with
    FTS5's highlight() and snippet() over a throwaway in-memory FTS5 table
    holding the rows shown only (the same tokenizer as the index).
    ``using``: the database to ask (the request's read database)."""
    parsed = SearchQuery.parse(query)
    items = [(UNWANTED.sub(" ", title or ""), UNWANTED.sub(" ", text or "")) for title, text in items]
    if not items:
        return []
    found = {}
    if parsed:
        found = _highlight_postgresql(items, parsed, using) if is_postgresql() else _highlight_sqlite(items, parsed)
    results = []
    for number, (title, text) in enumerate(items):
        marked_title, snippet = found.get(number, (title, _opening(text)))
        results.append((_marked_html(marked_title or title), _marked_html(" ".join((snippet or "").split()))))
    return results


def _highlight_postgresql(items, parsed, using):
    tsquery, params = parsed.tsquery_any()
    sql = (
        f"WITH query AS (SELECT {tsquery} AS query) "
        f"SELECT shown.number - 1, ts_headline({REGCONFIG}, shown.title, query.query, %s), "
        f"ts_headline({REGCONFIG}, shown.body, query.query, shown.options) "
        "FROM query, unnest(%s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS shown(title, body, options, number)"
    )
    titles, texts = [title for title, _ in items], [text for _, text in items]
    # A short text is quoted whole (fragments would cut it to the match).
    options = [WHOLE_TEXT_OPTIONS if len(text.split()) <= SNIPPET_WORDS else HEADLINE_OPTIONS for text in texts]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [*params, WHOLE_TEXT_OPTIONS, titles, texts, options])
        return {number: (title, _with_ellipses(body, texts[number])) for number, title, body in cursor.fetchall()}


def _with_ellipses(fragments, text):
    """ts_headline's fragments with "…" where the text goes on, as FTS5's
    snippet() writes them."""
    words = (fragments or "").replace(MARK_START, "").replace(MARK_END, "").split()
    every = text.split()
    if not words or not every:
        return fragments
    starts, ends = every[: len(words[:3])] == words[:3], every[-len(words[-3:]) :] == words[-3:]
    return ("" if starts else "… ") + fragments.strip() + ("" if ends else " …")


def _highlight_sqlite(items, parsed):
    # A separate in-memory database: nothing is written to the site's, and it
    # is gone with the connection.
    with closing(sqlite3.connect(":memory:")) as shown:
        shown.execute("CREATE VIRTUAL TABLE shown USING fts5(title, body, tokenize='porter unicode61')")
        shown.executemany(
            "INSERT INTO shown (rowid, title, body) VALUES (?, ?, ?)", [(n, *i) for n, i in enumerate(items)]
        )
        rows = shown.execute(
            "SELECT rowid, highlight(shown, 0, ?, ?), snippet(shown, 1, ?, ?, '…', ?) FROM shown WHERE shown MATCH ?",
            [MARK_START, MARK_END, MARK_START, MARK_END, SNIPPET_WORDS, parsed.fts5_any()],
        ).fetchall()
    return {number: (title, snippet) for number, title, snippet in rows}


# --- spelling ---------------------------------------------------------------------


def spelling_candidates(words, *, names, using=DEFAULT_DB_ALIAS):
    """{typed word: [(known word, score)]}: words of titles and of ``names``
    (``[(table, column)]``: tag and alias names) spelled like each of
    ``words``, the word itself included when it is known. One query.

    PostgreSQL: the trigram index of the title words table (pg_trgm's
    ``%``, ``similarity`` as the score). SQLite: the FTS5 vocabulary of
    title words starting with the same three letters, of about the same
    length, and names containing those letters (the document count as the
    score; the caller measures the edit distance). ``using``: the database
    to ask (the request's read database)."""
    words = [word for word in dict.fromkeys(words) if len(word) >= 3]
    if not words:
        return {}
    quote = connection.ops.quote_name
    found = {word: [] for word in words}
    with connections[using].cursor() as cursor:
        if is_postgresql():
            name_words = " UNION ".join(
                f"SELECT regexp_split_to_table(lower({quote(name)}), '[^[:alnum:]]+') AS word FROM {quote(table)}"
                for table, name in names
            )
            cursor.execute(
                "SELECT typed.word, known.word, known.score FROM unnest(%s::text[]) AS typed(word) "
                "CROSS JOIN LATERAL (SELECT candidate.word, similarity(candidate.word, typed.word) AS score FROM ("
                f"SELECT word FROM {POSTGRESQL_TITLE_WORDS} WHERE word %% typed.word "
                f"UNION SELECT word FROM ({name_words}) AS names WHERE word %% typed.word"
                ") AS candidate ORDER BY score DESC, candidate.word LIMIT 8) AS known",
                [words],
            )
            for typed, known, score in cursor.fetchall():
                found[typed].append((known, score))
            return found
        branches, params = [], []
        for word in words:
            start = word[:3]
            stop = start[:-1] + chr(ord(start[-1]) + 1)
            reach = allowed_distance(word)
            # The word itself, however rare; then the most used of its neighbours.
            branches.append(f"SELECT %s, term, doc FROM {SQLITE_TITLE_VOCABULARY} WHERE term = %s")
            branches.append(
                f"SELECT * FROM (SELECT %s, term, doc FROM {SQLITE_TITLE_VOCABULARY} WHERE term >= %s AND term < %s "
                "AND length(term) BETWEEN %s AND %s ORDER BY doc DESC LIMIT 200)"
            )
            params += [word, word, word, start, stop, len(word) - reach, len(word) + reach]
            for table, name in names:
                branches.append(
                    f"SELECT * FROM (SELECT %s, {quote(name)}, 0 FROM {quote(table)} "
                    f"WHERE instr(lower({quote(name)}), %s) > 0 LIMIT 50)"
                )
                params += [word, start]
        cursor.execute(" UNION ALL ".join(branches), params)
        for typed, known, score in cursor.fetchall():
            for candidate in WORD.findall(known.lower()):
                found[typed].append((candidate, score))
    return found


def allowed_distance(word):
    """How many typing slips a word of this length may carry."""
    return 1 if len(word) <= 5 else 2 if len(word) <= 10 else 3


def edit_distance(first, second, limit):
    """Optimal string alignment distance (a swap of neighbours is one
    slip), or ``limit + 1`` when it is beyond ``limit``."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i] + [0] * len(second)
        for j, b in enumerate(second, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if previous2 is not None and i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def best_spelling(word, candidates):
    """The known word ``word`` was probably meant to be, or None when it is
    known itself or nothing is close enough."""
    reach = allowed_distance(word)
    best = None
    for candidate, score in candidates:
        if candidate == word:
            return None
        distance = edit_distance(word, candidate, reach)
        if distance <= reach:
            key = (distance, -float(score or 0), candidate)
            best = min(best, key) if best else key
    return best[2] if best else None
