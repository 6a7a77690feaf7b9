"""Reads the tag pages, feeds and citation exports share: which tags an
address names, and the entries carrying all of them."""

from itertools import combinations

from django.conf import settings
from django.http import Http404

from .models import EntryTag, Tag, TagPair


def join_names(names, conjunction="and"):
    """'A', 'A and B', 'A, B and C'."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def resolve_tags(slugs_path):
    """The tags named by 'a+b+c', in the order given.

    Returns (tags, canonical_path): canonical_path is set when the address
    should be redirected (a repeated slug). Unknown or empty slugs, a tag no
    published entry carries (it must not confirm a draft's category), and
    more than MAX_TAGS_PER_LISTING tags (their plan costs grow far faster
    than the count): 404, before any query.
    """
    slugs = slugs_path.split("+")
    if any(not slug for slug in slugs):
        raise Http404("Empty category in the address.")
    unique = list(dict.fromkeys(slugs))
    if len(unique) > settings.MAX_TAGS_PER_LISTING:
        raise Http404(f"At most {settings.MAX_TAGS_PER_LISTING} categories at once.")
    if len(unique) != len(slugs):
        return None, "+".join(unique)
    by_slug = {tag.slug: tag for tag in Tag.objects.visible().filter(slug__in=unique)}
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


def pair_counts_among(tags):
    """{(tag id, other id): published entries carrying both}, for every pair
    of ``tags`` (one query)."""
    return {
        (tag_id, other_id): count
        for tag_id, other_id, count in TagPair.objects.filter(tag__in=tags, other__in=tags).values_list(
            "tag_id", "other_id", "entry_count"
        )
    }


def estimated_intersection(tags, pair_counts=None):
    """How many published entries carry all of three or more ``tags``, from
    the precomputed tag and pair counts (one query, none when ``pair_counts``
    from ``pair_counts_among`` are given): the rarest tag's count times the
    share of its entries carrying each other tag, as if those were
    independent, and never more than the smallest pair count. Counting them
    instead, even capped at 1,000, costs ten times the page itself at a
    million entries (bench/RESULTS.md)."""
    if pair_counts is None:
        pair_counts = pair_counts_among(tags)
    rarest, *others = sorted(tags, key=lambda tag: (tag.entry_count, tag.pk))
    estimate = float(rarest.entry_count)
    for tag in others:
        estimate *= pair_counts.get((rarest.pk, tag.pk), 0) / max(rarest.entry_count, 1)
    bound = min(pair_counts.get((a.pk, b.pk), 0) for a, b in combinations(tags, 2))
    return min(round(estimate), bound)


def round_estimate(number):
    """Two significant figures: 41,237 reads as 41,000."""
    return round(number, 2 - len(str(number))) if number >= 100 else number
