"""Discovery's pages: /search/?q= (feeds and sitemaps are their own modules)."""

from django.shortcuts import render

from catalog.models import Tag
from common.pagination import paginate

from .search import matching_categories, ranked_union, results_for, suggestion_for

SEARCH_PAGE_SIZE = 20
MAX_QUERY_LENGTH = 200
SUGGESTED_CATEGORIES = 12


def search(request):
    query = " ".join(request.GET.get("q", "").split())
    context = {"query": query, "too_long": len(query) > MAX_QUERY_LENGTH}
    if query and not context["too_long"]:
        page = paginate(request, ranked_union(query), per_page=SEARCH_PAGE_SIZE, count=False)
        page.items = results_for(page.items, query)
        context["page"] = page
        context["matching_categories"] = matching_categories(query)
        if page.number == 1:
            context["suggestion"] = suggestion_for(query, page.items)
    if not context.get("page") or not context["page"].items:
        # Somewhere to go from an empty query or an empty result.
        context["categories"] = list(Tag.objects.visible().popular()[:SUGGESTED_CATEGORIES])
    status = 400 if context["too_long"] else 200
    return render(request, "search.html", context, status=status)
