"""The catalog's pages: home, the category tree, and each tag or intersection."""

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse

from common.markdown import render_markdown
from common.pagination import paginate

from . import tree
from .evidence import rollup
from .filters import ListingFilterForm
from .models import Entry, Tag
from .selectors import (
    intersection_path,
    listing_breakdown,
    narrow_down,
    resolve_tags,
    round_estimate,
    tag_heading,
    tag_listing,
    top_intersections,
)
from .timeline import build_timeline

HOME_LATEST = 20
HOME_CATEGORIES = 12
TOP_INTERSECTIONS = 8
NARROW_DOWN_LIMIT = 30


def home(request):
    return render(
        request,
        "home.html",
        {
            "latest": list(Entry.objects.published().listing()[:HOME_LATEST]),
            "categories": list(Tag.objects.visible().popular()[:HOME_CATEGORIES]),
            "intersections": top_intersections(TOP_INTERSECTIONS),
        },
    )


def tag_index(request):
    tags = list(Tag.objects.visible().only("id", "name", "slug", "parent_id", "entry_count", "direct_count"))
    return render(
        request,
        "tags/index.html",
        {"forest": tree.build_forest(tags), "intersections": top_intersections(TOP_INTERSECTIONS)},
    )


def canonical_redirect(request, route, slugs):
    """301 to the canonical address of a tag page, feed or export (an alias,
    a repeated slug), keeping the query string."""
    url = reverse(route, kwargs={"slugs": slugs})
    if request.META.get("QUERY_STRING"):
        url += "?" + request.META["QUERY_STRING"]
    return HttpResponsePermanentRedirect(url)


def tag_detail(request, slugs):
    tags, canonical = resolve_tags(slugs)
    if canonical is not None:
        return canonical_redirect(request, "tags:detail", canonical)
    form = ListingFilterForm(request.GET)
    filters = form.values
    direct = request.GET.get("direct") == "1"
    postings, total = tag_listing(tags, direct=direct, filters=filters)
    facets = listing_breakdown(tags, direct=direct, filters=filters, total=total, years=settings.EVIDENCE_TIMELINE)
    if total is None and facets.exact:
        # Every match was counted for the facets: the total is theirs.
        chosen = set(filters["types"])
        total = sum(count for value, _label, count in facets.counts if not chosen or value in chosen)
    # Three or more tags: estimated from the pair counts (by listing_breakdown,
    # on every page, so the page runs the same queries whatever the result).
    estimate = None
    if total is None and not form.narrows and not direct and facets.size is not None:
        estimate = round_estimate(facets.size)
    page = paginate(request, postings, total=total, count=False)
    if estimate is not None and page.has_next:
        # At least one entry more than this page shows.
        seen = (page.number - 1) * page.per_page + len(page.items)
        page.total, page.total_estimated = max(estimate, seen + 1), True
    page.items = [posting.entry for posting in page.items]

    subcategories = list(Tag.objects.visible().filter(parent__in=tags).order_by("name"))
    timeline = None
    if settings.EVIDENCE_TIMELINE:
        timeline = build_timeline(
            facets.years,
            url_for_year=lambda year: form.query(year_min=str(year), year_max=str(year)),
            estimated=facets.years_estimated,
        )
    context = {
        "tags": tags,
        "heading": tag_heading(tags),
        "page": page,
        "form": form,
        "applied": form.applied(),
        "filtered": form.narrows,
        "direct": direct,
        "direct_url": form.query(direct="1"),
        "inclusive_url": form.query(direct=None),
        "facets": facet_links(form, facets),
        "timeline": timeline,
        # "Items in both categories Vitamin K2 and Bone: 3 meta-analyses, 4 RCTs, …"
        "rollup": rollup(
            {value: n for value, _label, n in facets.counts if not filters["types"] or value in filters["types"]},
            about=not facets.exact,
        ),
        "facets_exact": facets.exact,
        "facets_scaled": facets.scaled,
        "facets_from_counts": facets.from_counts,
        "query_string": form.query()[1:],
        "subcategories": subcategories,
        "parents_named": [tag for tag in tags if any(child.parent_id == tag.pk for child in subcategories)],
        "canonical_path": intersection_path(tags),
        "widen": widen_links(tags),
    }
    # The named tags' ancestors and children say nothing new as "narrow down"
    # (every Vitamin K2 entry is a Vitamin K entry).
    parents = tree.parent_map()
    above = {ancestor for tag in tags for ancestor in tree.ancestor_ids(tag.pk, parents)}
    family = above | {child.pk for child in subcategories}
    if len(tags) == 1:
        tag = tags[0]
        context["description"] = render_markdown(tag.description) if tag.description else ""
        context["ancestors"] = tree.ancestors(tag, parents) if tag.parent_id else []
    # The page's own order, then the added tag: "Vitamin K2 and Bone".
    here = "+".join(tag.slug for tag in tags)
    context["narrow_down"] = [
        (other, count, estimated, reverse("tags:detail", kwargs={"slugs": f"{here}+{other.slug}"}))
        for other, count, estimated in narrow_down(tags, limit=NARROW_DOWN_LIMIT, exclude=family)
    ]
    return render(request, "tags/detail.html", context)


def facet_links(form, facets):
    """(label, count, address, chosen) per study type: choosing a type shows
    only it; choosing it again removes it."""
    chosen = set(form.values["types"])
    links = []
    for value, label, count in facets.counts:
        if not value:
            links.append((label, count, None, False))
            continue
        selected = value in chosen
        rest = sorted(chosen - {value}) if selected else [value]
        links.append((label, count, form.query(type=rest or None), selected))
    return links


def widen_links(tags):
    """Each tag alone, and for three or more, the intersection without each."""
    if len(tags) < 2:
        return {"alone": [], "without": []}
    without = []
    if len(tags) > 2:
        without = [(tag, intersection_path([other for other in tags if other != tag])) for tag in tags]
    return {"alone": tags, "without": without}
