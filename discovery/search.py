"""Full-text search over published articles and studies (the page is
discovery.views.search; the query language and the SQL of both databases
are common.fulltext).

Both kinds are ranked in SQL and merged by rank in one UNION query limited to
the page; the listing rows, tags and highlighted titles and snippets are then
read for the rows shown only. Queries per page: the ranked page, the entries
with their tags (two), the texts quoted (one, both kinds), the highlighting
on PostgreSQL (one; SQLite highlights in memory), the categories whose name
or alias matches (one); spelling suggestions only when needed (two, see
suggestion_for). No count: counting a common word's matches cost as much as
the page (bench/RESULTS.md); the total shows when the results end on the
page shown.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import reduce
from operator import and_

from django.core.cache import cache
from django.db import router
from django.db.models import CharField, Exists, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Concat, Lower, StrIndex
from django.utils.html import escape
from django.utils.safestring import mark_safe

from articles.models import Article
from catalog.blocks import PLACEHOLDER_HTML, split_blocks
from catalog.models import Entry, EntryKind, EntryTag, Tag, TagAlias
from common import fulltext
from common.markdown import render_markdown
from studies.models import Study

SOURCES = {EntryKind.STUDY: Study, EntryKind.ARTICLE: Article}
MATCHING_CATEGORIES = 5
# A snippet quotes the start of a long text only: rendering Markdown costs
# about 3 ms per 1,000 characters, highlighting more again.
SNIPPET_SOURCE_CHARACTERS = 20_000
READER_TEXT_CACHE_SECONDS = 7 * 24 * 3600


@dataclass
class Result:
    """One result as the page shows it: the listing row (``entry``) with its
    title highlighted (``title``), a highlighted ``snippet`` and ``tags``.
    Reads as the entry otherwise, so the entry_row tag shows it."""

    entry: Entry
    title: str
    snippet: str
    tags: list
    searched_text: str = ""

    def __getattr__(self, name):
        # Only called for what the result lacks; never for dunder lookups
        # (copy and pickle probe them before ``entry`` exists).
        if name.startswith("__") or "entry" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["entry"], name)


def ranked_union(query):
    """(kind, id, rank) of every published match, best first: one SQL query
    that the page slices, so both kinds are ranked and limited together."""
    return fulltext.ranked_union([(kind, model.objects.published()) for kind, model in SOURCES.items()], query)


def reader_texts(markdowns):
    """What a reader sees of each Markdown text (a study's highlights, an
    article's body): rendered as its page renders it, without the listing
    blocks (``[[list …]]``, ``[[picks …]]``), as plain text. Snippets quote
    this, so they never show ``##``, ``[text](url)`` or ``**``.

    Rendering is the costly part of a result page, so each text is cached
    under a digest of its Markdown (an edited text is a new key)."""
    keys = {
        text: "search-text:" + hashlib.blake2b(text.encode(), digest_size=16).hexdigest() for text in markdowns if text
    }
    cached = cache.get_many(list(set(keys.values()))) if keys else {}
    missing = {}
    for text, key in keys.items():
        if key not in cached:
            source, _blocks = split_blocks(cut(text))
            cached[key] = missing[key] = fulltext.html_text(PLACEHOLDER_HTML.sub(" ", render_markdown(source)))
    if missing:
        cache.set_many(missing, timeout=READER_TEXT_CACHE_SECONDS)
    return [cached[keys[text]] if text else "" for text in markdowns]


def cut(text):
    """``text`` up to SNIPPET_SOURCE_CHARACTERS, ending at a paragraph."""
    if len(text) <= SNIPPET_SOURCE_CHARACTERS:
        return text
    head = text[:SNIPPET_SOURCE_CHARACTERS]
    end = head.rfind("\n\n")
    return head[:end] if end > 0 else head


def results_for(rows, query):
    """The rows shown, as listing entries with their tags, highlighted
    titles and snippets."""
    ids = {kind: [] for kind in SOURCES}
    for kind, pk, _rank in rows:
        ids[kind].append(pk)
    entries = Entry.objects.filter(
        Q(study_id__in=ids[EntryKind.STUDY]) | Q(article_id__in=ids[EntryKind.ARTICLE])
    ).prefetch_related(Prefetch("postings", queryset=EntryTag.objects.select_related("tag").order_by("tag__name")))
    by_source = {(entry.kind, entry.study_id or entry.article_id): entry for entry in entries}
    # What each kind quotes, for both kinds in one query.
    parts = [
        model.objects.snippet_sources(ids[kind])
        .annotate(kind=Value(kind, output_field=CharField()))
        .values_list("kind", "pk", "title", "text", "markdown")
        .order_by()
        for kind, model in SOURCES.items()
    ]
    sources = {(kind, pk): rest for kind, pk, *rest in parts[0].union(*parts[1:], all=True)} if rows else {}
    shown = [(kind, pk) for kind, pk, _rank in rows if (kind, pk) in by_source and (kind, pk) in sources]
    titles = [sources[key][0] for key in shown]
    rendered = reader_texts([sources[key][2] for key in shown])
    # What a reader sees: the plain text (an abstract, a lead), then the
    # rendered Markdown (highlights, a body).
    texts = [" ".join(filter(None, (sources[key][1], markdown))) for key, markdown in zip(shown, rendered, strict=True)]
    marked = fulltext.highlighted(list(zip(titles, texts, strict=True)), query, using=router.db_for_read(Entry))
    results = []
    for key, title, text, (title_html, snippet) in zip(shown, titles, texts, marked, strict=True):
        entry = by_source[key]
        # Where the search found the entry, as far as the page knows: what
        # suggestion_for() looks for the query's words in.
        searched = " ".join(filter(None, (title, text, entry.byline, entry.venue)))
        tags = [posting.tag for posting in entry.postings.all()]
        results.append(Result(entry=entry, title=title_html, snippet=snippet, tags=tags, searched_text=searched))
    return results


# --- categories -------------------------------------------------------------------


def matching_categories(query, limit=MATCHING_CATEGORIES):
    """Visible categories whose name or an alias matches the words of
    ``query``, most used first, each with ``matched_alias`` (the alias that
    matched, if any: "Vitamin K2 (also: menaquinone)"). One query.

    A name matches when every word of the query starts one of its words
    ("k2", "vitam" → "Vitamin K2"), or when the whole name is among the
    query's words ("bone density" → "Bone"). The regular expression reads
    the same on both databases (Django gives SQLite Python's ``re``); the
    words are letters and digits only."""
    words = fulltext.SearchQuery.parse(query).words[:6]
    if not words:
        return []
    in_query = StrIndex(Value(f" {' '.join(words)} "), Concat(Value(" "), Lower("name"), Value(" ")))
    matches = reduce(and_, (Q(name__iregex=rf"(^|\W){word}") for word in words)) | Q(name_in_query__gt=0)
    aliases = TagAlias.objects.filter(tag=OuterRef("pk")).annotate(name_in_query=in_query).filter(matches)
    return list(
        Tag.objects.visible()
        .annotate(name_in_query=in_query, matched_alias=Subquery(aliases.order_by("name").values("name")[:1]))
        .filter(matches | Q(Exists(aliases)))
        .popular()[:limit]
    )


# --- spelling -------------------------------------------------------------------


@dataclass
class Suggestion:
    query: str  # the corrected query, for the link
    html: str  # the same with the corrected words in <em>


def suggestion_for(query, results):
    """A better spelled query than ``query`` that finds published entries,
    or None.

    Looked up only when the search found nothing, or when one of its words
    appears nowhere in what it found (it matched only as a stem, as
    "menaquinon" matches "menaquinone"): then one query for known words
    spelled alike (titles, category names and aliases; common.fulltext),
    and one to check that the corrected query finds published entries (the
    words of drafts' titles are known too, and must not leak)."""
    parsed = fulltext.SearchQuery.parse(query)
    checked = [
        word
        for term in parsed.terms
        if not term.prefix
        for word in term.words
        if len(word) >= 4 and word.isalpha() and word not in fulltext.STOP_WORDS
    ][:5]
    if results:
        seen = set(fulltext.WORD.findall(" ".join(result.searched_text for result in results).lower()))
        checked = [word for word in checked if word not in seen]
    if not checked:
        return None
    names = [(Tag._meta.db_table, "name"), (TagAlias._meta.db_table, "name")]
    candidates = fulltext.spelling_candidates(checked, names=names, using=router.db_for_read(Tag))
    corrections = {}
    for word in checked:
        better = fulltext.best_spelling(word, candidates.get(word, []))
        if better:
            corrections[word] = better
    if not corrections:
        return None
    pattern = re.compile(r"(?<![^\W_])(" + "|".join(map(re.escape, corrections)) + r")(?![^\W_])", re.IGNORECASE)
    corrected = pattern.sub(lambda match: corrections[match[1].lower()], query)
    if corrected == query or not ranked_union(corrected)[:1]:
        return None
    pieces = pattern.split(query)
    html = "".join(
        f"<em>{escape(corrections[piece.lower()])}</em>" if number % 2 else escape(piece)
        for number, piece in enumerate(pieces)
    )
    return Suggestion(query=corrected, html=mark_safe(html))
