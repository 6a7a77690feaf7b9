"""Cross-cutting pages: home, tag index, tag and intersection pages, health."""

from itertools import combinations

from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .markdown import render_markdown
from .models import Entry, EntryTag, Tag, TagPair
from .pagination import paginate

HOME_LATEST = 20
HOME_CATEGORIES = 12
NARROW_DOWN_LIMIT = 30


def home(request):
    return render(
        request,
        "home.html",
        {
            "latest": list(Entry.objects.published().listing()[:HOME_LATEST]),
            "categories": list(Tag.objects.filter(entry_count__gt=0).order_by("-entry_count", "name")[:HOME_CATEGORIES]),
        },
    )


def tag_index(request):
    return render(
        request,
        "tags/index.html",
        {"tags": list(Tag.objects.filter(entry_count__gt=0).order_by("name"))},
    )


def join_names(names, conjunction="and"):
    """'A', 'A and B', 'A, B and C'."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def resolve_tags(slugs_path):
    """The tags named by 'a+b+c', in the order given.

    Returns (tags, canonical_path): canonical_path is set when the address
    should be redirected (a repeated slug). Unknown or empty slugs: 404.
    """
    slugs = slugs_path.split("+")
    if any(not slug for slug in slugs):
        raise Http404("Empty category in the address.")
    unique = list(dict.fromkeys(slugs))
    if len(unique) != len(slugs):
        return None, "+".join(unique)
    by_slug = {tag.slug: tag for tag in Tag.objects.filter(slug__in=unique)}
    if len(by_slug) != len(unique):
        raise Http404("No such category.")
    return [by_slug[slug] for slug in unique], None


def tag_heading(tags):
    names = [tag.name for tag in tags]
    if len(names) == 1:
        return f"Items in category {names[0]}"
    if len(names) == 2:
        return f"Items in both categories {join_names(names)} are listed here"
    return f"Items in all of categories {join_names(names)} are listed here"


def tag_listing(tags):
    """(postings queryset, known total or None) for the entries carrying all ``tags``."""
    postings = EntryTag.objects.published_with_all(tags)
    if len(tags) == 1:
        return postings, tags[0].entry_count
    if len(tags) == 2:
        pair = TagPair.objects.filter(tag=tags[0], other=tags[1]).values_list("entry_count", flat=True)
        return postings, pair.first() or 0
    return postings, None


def estimated_intersection(tags):
    """How many published entries carry all of three or more ``tags``, from
    the precomputed tag and pair counts (one query): the rarest tag's count
    times the share of its entries carrying each other tag, as if those were
    independent, and never more than the smallest pair count. Counting them
    instead, even capped at 1,000, costs ten times the page itself at a
    million entries (bench/RESULTS.md)."""
    pair_counts = {
        (tag_id, other_id): count
        for tag_id, other_id, count in TagPair.objects.filter(tag__in=tags, other__in=tags).values_list(
            "tag_id", "other_id", "entry_count"
        )
    }
    rarest, *others = sorted(tags, key=lambda tag: (tag.entry_count, tag.pk))
    estimate = float(rarest.entry_count)
    for tag in others:
        estimate *= pair_counts.get((rarest.pk, tag.pk), 0) / max(rarest.entry_count, 1)
    bound = min(pair_counts.get((a.pk, b.pk), 0) for a, b in combinations(tags, 2))
    return min(round(estimate), bound)


def round_estimate(number):
    """Two significant figures: 41,237 reads as 41,000."""
    return round(number, 2 - len(str(number))) if number >= 100 else number


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


def healthz(request):
    """Load balancers ask this: the app answers and the database does too."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /preview/", f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain")
