"""Full-text search over published articles and studies (the page is
discovery.views.search).

Both kinds are ranked in SQL and merged by rank in one UNION query limited to
the page; the listing rows, tags and highlighted snippets are then read for
the rows shown only. Queries per page: the ranked page, the entries with
their tags (two), and one snippet query per kind shown. No count: counting a
common word's matches cost as much as the page (bench/RESULTS.md); the total
shows when the results end on the page shown.
"""

from dataclasses import dataclass

from django.db.models import CharField, Prefetch, Q, Value

from articles.models import Article
from catalog.models import Entry, EntryKind, EntryTag
from studies.models import Study


@dataclass
class Result:
    entry: Entry
    snippet: str
    tags: list


def ranked_union(query):
    """(kind, id, rank) of every published match, best first: one SQL query
    that the page slices, so both kinds are ranked and limited together."""
    studies = (
        Study.objects.published()
        .search(query)
        .annotate(kind=Value(EntryKind.STUDY, output_field=CharField()))
        .values_list("kind", "pk", "rank")
        .order_by()
    )
    articles = (
        Article.objects.published()
        .search(query)
        .annotate(kind=Value(EntryKind.ARTICLE, output_field=CharField()))
        .values_list("kind", "pk", "rank")
        .order_by()
    )
    return studies.union(articles, all=True).order_by("-rank", "kind", "-pk")


def results_for(rows, query):
    """The rows shown, as listing entries with their tags and snippets."""
    ids = {EntryKind.STUDY: [], EntryKind.ARTICLE: []}
    for kind, pk, _rank in rows:
        ids[kind].append(pk)
    entries = Entry.objects.filter(
        Q(study_id__in=ids[EntryKind.STUDY]) | Q(article_id__in=ids[EntryKind.ARTICLE])
    ).prefetch_related(Prefetch("postings", queryset=EntryTag.objects.select_related("tag").order_by("tag__name")))
    by_source = {(entry.kind, entry.study_id or entry.article_id): entry for entry in entries}
    snippets = {
        EntryKind.STUDY: Study.objects.snippets(ids[EntryKind.STUDY], query),
        EntryKind.ARTICLE: Article.objects.snippets(ids[EntryKind.ARTICLE], query),
    }
    results = []
    for kind, pk, _rank in rows:
        entry = by_source.get((kind, pk))
        if entry is not None:
            tags = [posting.tag for posting in entry.postings.all()]
            results.append(Result(entry=entry, snippet=snippets[kind].get(pk, ""), tags=tags))
    return results
