"""Full-text matching, ranking and snippets for articles and studies.

PostgreSQL: a stored generated ``search_vector`` column with a GIN index on
each table (created by the vendor-conditional migrations studies 0003 and
articles 0003), queried with ``websearch_to_tsquery`` — the syntax people
type into search engines: ``"vitamin k2" -warfarin``, ``bone or calcium``.

SQLite has no tsvector: every word must appear (case-insensitive substring)
in one of the searched fields; ``"phrases"`` and ``-excluded`` words work too,
``or`` does not. For plain words it finds the same entries as PostgreSQL,
except where stemming differs ("bones" finds "bone" on PostgreSQL only).
"""

import re
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, or_

from django.db import connection
from django.db.models import BooleanField, Case, FloatField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import mark_safe

SEARCH_CONFIG = "english"
TSQUERY = f"websearch_to_tsquery('{SEARCH_CONFIG}'::regconfig, %s)"
# Private-use characters mark the matches in ts_headline's output, so the
# snippet can be HTML-escaped as a whole before the marks become <mark>.
MARK_START, MARK_END = "\ue000", "\ue001"
HEADLINE_OPTIONS = (
    f'StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "'
)
SNIPPET_WORDS = 35
# How many matches PostgreSQL ranks at most per kind (see ranked()).
RANK_CANDIDATES = 5000


def is_postgresql():
    return connection.vendor == "postgresql"


def column(model, name):
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(name)}"


@dataclass
class PlainQuery:
    """A web-search query read the simple way, for the SQLite fallback."""

    terms: list = field(default_factory=list)
    excluded: list = field(default_factory=list)

    @classmethod
    def parse(cls, text):
        parsed = cls()
        for negated, phrase, word in re.findall(r'(-?)(?:"([^"]*)"?|([^\s"]+))', text):
            term = " ".join((phrase or word).split()).strip("-")
            # Punctuation-only words match nothing on PostgreSQL either.
            if not re.search(r"\w", term) or (not phrase and term.lower() == "or"):
                continue
            (parsed.excluded if negated else parsed.terms).append(term)
        return parsed

    @property
    def words(self):
        return [word for term in self.terms for word in re.findall(r"\w+", term)]


def _term_q(model, term, text_fields, author_field):
    """Where ``term`` appears: any of the text fields, or an author's name."""
    condition = reduce(or_, (Q(**{f"{name}__icontains": term}) for name in text_fields))
    if author_field:
        # The authors JSON is matched on its names, not its keys or escaped
        # text: "family" must not find every study, "Müller" must find Müller.
        authors = column(model, author_field)
        like = f"%{connection.ops.prep_for_like_query(term)}%"
        condition |= Q(
            RawSQL(
                f"EXISTS (SELECT 1 FROM json_each({authors}) AS author WHERE CASE WHEN author.type = 'object' "
                "THEN coalesce(json_extract(author.value, '$.given'), '') || ' ' || "
                "coalesce(json_extract(author.value, '$.family'), '') LIKE %s ESCAPE '\\' END)",
                [like],
                output_field=BooleanField(),
            )
        )
    return condition


def matching(queryset, query, *, text_fields, author_field=None):
    """``queryset`` narrowed to the entries matching ``query`` (no ordering)."""
    model = queryset.model
    if is_postgresql():
        vector = column(model, "search_vector")
        return queryset.filter(RawSQL(f"{vector} @@ {TSQUERY}", [query], output_field=BooleanField()))
    parsed = PlainQuery.parse(query)
    if not parsed.terms:
        return queryset.none()
    conditions = [_term_q(model, term, text_fields, author_field) for term in parsed.terms]
    conditions += [~_term_q(model, term, text_fields, author_field) for term in parsed.excluded]
    return queryset.filter(reduce(and_, conditions))


def ranked(queryset, query, *, text_fields, author_field=None, title_field="title"):
    """Matching entries annotated with ``rank`` (higher is better).

    PostgreSQL ranks with ts_rank over the weighted vector (title A, authors
    and journal B, text C). The SQLite fallback ranks by how many of the
    words are in the title."""
    if is_postgresql():
        # Ranking reads every match's vector: 1.5 s when a query matches 60%
        # of a million studies. So rank the RANK_CANDIDATES most recently
        # added matches only (found through the GIN index, or by walking the
        # primary key backwards for very common words); a query matching
        # fewer is ranked exactly.
        # Raw SQL with its own alias: a column named by its table would be
        # read from the outer query once Django nests a queryset here.
        model = queryset.model
        table, pk = connection.ops.quote_name(model._meta.db_table), connection.ops.quote_name(model._meta.pk.column)
        candidates = RawSQL(
            f"SELECT candidate.{pk} FROM {table} candidate WHERE candidate.search_vector @@ {TSQUERY} "
            f"ORDER BY candidate.{pk} DESC LIMIT {int(RANK_CANDIDATES)}",
            [query],
        )
        vector = column(model, "search_vector")
        return queryset.filter(pk__in=candidates).annotate(
            rank=RawSQL(f"ts_rank({vector}, {TSQUERY})", [query], output_field=FloatField())
        )
    queryset = matching(queryset, query, text_fields=text_fields, author_field=author_field)
    words = PlainQuery.parse(query).words or [""]
    in_title = [
        Case(
            When(**{f"{title_field}__icontains": word}, then=Value(1.0)), default=Value(0.0), output_field=FloatField()
        )
        for word in words
    ]
    return queryset.annotate(rank=reduce(lambda a, b: a + b, in_title))


def plain_text(text):
    """Snippet source: Markdown marks and runs of whitespace removed."""
    text = re.sub(r"(?m)^\s*(#{1,6}|>|[-*+]|\d+\.)\s+", "", text)
    text = re.sub(r"[*_`]{1,3}(?=\S)|(?<=\S)[*_`]{1,3}", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(text.split())


def _marked_html(text):
    html = escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    return mark_safe(html)


def plain_snippet(text, query):
    """The SQLite fallback's snippet: a window of words around the first
    match, each match wrapped in <mark>."""
    words = plain_text(text).split()
    terms = [term.lower() for term in PlainQuery.parse(query).words if term]
    if not words:
        return ""
    first = next((i for i, word in enumerate(words) if any(t in word.lower() for t in terms)), 0)
    start = max(0, first - 5)
    window = words[start : start + SNIPPET_WORDS]
    text = " ".join(window)
    if terms:
        pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.I)
        text = pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", text)
    prefix = "… " if start > 0 else ""
    suffix = " …" if start + SNIPPET_WORDS < len(words) else ""
    return _marked_html(prefix + text + suffix)


def snippets(queryset, ids, query, *, text_expression, text_fields):
    """{id: highlighted HTML} for the rows shown only (one query).

    ``text_expression`` is the SQL of the text to quote on PostgreSQL;
    ``text_fields`` the same fields, read for the fallback."""
    if not ids:
        return {}
    rows = queryset.filter(pk__in=ids)
    if is_postgresql():
        sql = f"ts_headline('{SEARCH_CONFIG}'::regconfig, {text_expression}, {TSQUERY}, %s)"
        pairs = rows.annotate(snippet=RawSQL(sql, [query, HEADLINE_OPTIONS])).values_list("pk", "snippet")
        return {pk: _marked_html(plain_text(snippet or "")) for pk, snippet in pairs}
    return {
        pk: plain_snippet(" ".join(filter(None, texts)), query) for pk, *texts in rows.values_list("pk", *text_fields)
    }
