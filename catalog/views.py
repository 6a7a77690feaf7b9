"""The catalog's pages: home, the tag index, and each tag or intersection."""

from django.shortcuts import redirect, render
from django.urls import reverse

from common.markdown import render_markdown
from common.pagination import paginate

from .models import Entry, Tag, TagPair
from .selectors import estimated_intersection, resolve_tags, round_estimate, tag_heading, tag_listing

HOME_LATEST = 20
HOME_CATEGORIES = 12
NARROW_DOWN_LIMIT = 30


def home(request):
    return render(
        request,
        "home.html",
        {
            "latest": list(Entry.objects.published().listing()[:HOME_LATEST]),
            "categories": list(Tag.objects.visible().popular()[:HOME_CATEGORIES]),
        },
    )


def tag_index(request):
    return render(request, "tags/index.html", {"tags": list(Tag.objects.visible().order_by("name"))})


def tag_detail(request, slugs):
    tags, canonical = resolve_tags(slugs)
    if canonical is not None:
        return redirect("tags:detail", slugs=canonical, permanent=True)
    postings, total = tag_listing(tags)
    # Three or more tags: estimated on every page, used or not, so the page
    # runs the same queries whatever the result.
    estimate = None if total is not None else round_estimate(estimated_intersection(tags))
    page = paginate(request, postings, total=total, count=False)
    if estimate is not None and page.has_next:
        # At least one entry more than this page shows.
        seen = (page.number - 1) * page.per_page + len(page.items)
        page.total, page.total_estimated = max(estimate, seen + 1), True
    page.items = [posting.entry for posting in page.items]
    context = {
        "tags": tags,
        "heading": tag_heading(tags),
        "page": page,
        "canonical_path": reverse("tags:detail", kwargs={"slugs": "+".join(sorted(t.slug for t in tags))}),
    }
    if len(tags) == 1:
        tag = tags[0]
        context["description"] = render_markdown(tag.description) if tag.description else ""
        context["narrow_down"] = list(
            TagPair.objects.filter(tag=tag, entry_count__gt=0)
            .select_related("other")
            .order_by("-entry_count", "other__name")[:NARROW_DOWN_LIMIT]
        )
    return render(request, "tags/detail.html", context)
