"""Reads the tag pages, feeds and citation exports share: which tags an
address names, and the entries carrying all of them."""

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from django.conf import settings
from django.db.models import F
from django.http import Http404
from django.urls import reverse

from . import registry
from .aliases import tags_by_alias
from .models import UNDATED, EntryTag, Tag, TagPair, TagYearCount
from .tree import ancestor_ids, parent_map


def join_names(names, conjunction="and"):
    """'A', 'A and B', 'A, B and C'."""
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def resolve_tags(slugs_path):
    """The tags named by 'a+b+c', in the order given.

    Returns (tags, canonical_path): canonical_path is set when the address
    should be redirected (a repeated slug, or an alias: a synonym or the old
    slug of a renamed or merged tag). Unknown or empty slugs, a tag no
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
        # Only an address that is not canonical pays for the alias lookup.
        aliased = tags_by_alias([slug for slug in unique if slug not in by_slug])
        if len(by_slug) + len(aliased) != len(unique) or any(tag.entry_count == 0 for tag in aliased.values()):
            raise Http404("No such category.")
        canonical = [by_slug[slug].slug if slug in by_slug else aliased[slug].slug for slug in unique]
        return None, "+".join(dict.fromkeys(canonical))
    return [by_slug[slug] for slug in unique], None


def tag_heading(tags):
    names = [tag.name for tag in tags]
    if len(names) == 1:
        return f"Items in category {names[0]}"
    if len(names) == 2:
        return f"Items in both categories {join_names(names)} are listed here"
    return f"Items in all of categories {join_names(names)} are listed here"


def tag_listing(tags, *, direct=False, filters=None):
    """(postings queryset, known total or None) for the entries carrying all
    ``tags``. The total is known from the precomputed counts for one or two
    tags unfiltered (and one tag ``direct``); otherwise None."""
    postings = EntryTag.objects.published_with_all(tags, direct=direct, filters=filters)
    narrowed = bool(filters) and bool(
        filters.get("types") or filters.get("year_min") is not None or filters.get("year_max") is not None
    )
    if narrowed:
        return postings, None
    if len(tags) == 1:
        return postings, tags[0].direct_count if direct else tags[0].entry_count
    if len(tags) == 2 and not direct:
        pair = TagPair.objects.filter(tag=tags[0], other=tags[1]).values_list("entry_count", flat=True)
        return postings, pair.first() or 0
    return postings, None


# Facets count the types among at most this many of a listing's newest
# matches: exact below it, and a bounded read (one index walk) above it,
# where they are scaled to the total when it is known. Counting a popular
# category's types exactly would read 400,000 rows at a million studies.
FACET_SAMPLE = 1000


@dataclass
class Breakdown:
    """A listing's entries counted by study type (the facets) and by year and
    type (the evidence timeline)."""

    counts: list  # (type value, label, count), most first; value "" = articles
    exact: bool  # every match was counted
    scaled: bool  # type counts scaled to the total (from the sample, or from_counts)
    years: dict = field(default_factory=dict)  # {year: {type value: count}}, studies only
    years_estimated: bool = False
    size: int | None = None  # the listing's size as known or estimated (several tags)
    from_counts: bool = False  # estimated from the rarest tag's counts, no sample read


def listing_breakdown(tags, *, direct=False, filters=None, total=None, years=True):
    """Counts by study type (articles as one more row, under every filter but
    the type itself) and by year and type (under every filter), in one or two
    queries whatever the sizes.

    One tag: exact, from the counts kept at write time (``TagYearCount``).
    Several tags known (two tags, no year filter) or estimated (more tags, or
    between years, with a margin) to share far more than FACET_SAMPLE entries:
    both estimated from the rarest tag's counts, scaled to the intersection's
    size (``from_counts``).
    Otherwise the newest FACET_SAMPLE matches are read (one index walk): when
    that is all of them, both are exact; beyond it the type shares of the
    sample are scaled to the total, and the timeline is the rarest tag's
    (kept at write time) scaled to the intersection's size — an estimate, as
    the totals of three or more tags are, and said so on the page.
    ``years=False`` (no timeline on the page) skips what only the timeline needs.
    """
    filters = filters or {}
    chosen = set(filters.get("types") or [])
    year_min, year_max = filters.get("year_min"), filters.get("year_max")
    dated = year_min is not None or year_max is not None
    labels = dict(registry.type_choices())

    def in_years(year):
        return (year_min is None or year >= year_min) and (year_max is None or year <= year_max)

    def rows_of(by_type):
        rows = [(value, labels.get(value, "Articles") if value else "Articles", n) for value, n in by_type.items() if n]
        return sorted(rows, key=lambda row: (-row[2], row[1]))

    def timeline_of(year_type_counts, factor=1.0):
        years = {}
        for year, study_type, count in year_type_counts:
            if year and study_type and in_years(year) and (not chosen or study_type in chosen):
                years.setdefault(year, Counter())[study_type] += count * factor
        return {year: {t: round(n) for t, n in counts.items() if round(n)} for year, counts in years.items()}

    def types_of(year_type_counts, factor=1.0):
        """Counts by type within the years asked for (undated ones only without a year filter)."""
        by_type = Counter()
        for year, study_type, count in year_type_counts:
            if not dated or (year and in_years(year)):
                by_type[study_type] += count * factor
        return Counter({value: round(n) for value, n in by_type.items()})

    if len(tags) == 1 and not direct:
        stored = list(TagYearCount.objects.filter(tag=tags[0]).values_list("year", "study_type", "entry_count"))
        return Breakdown(counts=rows_of(types_of(stored)), exact=True, scaled=False, years=timeline_of(stored))

    rarest = min(tags, key=lambda tag: (tag.entry_count, tag.pk))
    # The intersection's size, for scaling.
    if total is not None:
        size = total
    elif len(tags) == 1:  # one tag, direct: its own entries among all under it
        size = rarest.direct_count
    else:
        size = estimated_intersection(tags)
    stored = None
    if years or dated:
        stored = list(TagYearCount.objects.filter(tag=rarest).values_list("year", "study_type", "entry_count"))
    factor = size / max(rarest.entry_count, 1)
    # Between the years asked for: the rarest tag's share of its entries there.
    in_range = size if not dated else factor * sum(n for year, _t, n in stored if year and in_years(year))
    # Two tags' count is exact (TagPair); more tags' or a year range's an estimate, given a margin.
    margin = 1 if len(tags) == 2 and not dated else 2
    if len(tags) > 1 and not direct and in_range > FACET_SAMPLE * margin:
        # Far more matches than the sample holds: the sample could only be
        # scaled, and reading it means joining the tags' whole postings, a
        # cost that grows with the site (bench/RESULTS.md). The rarest tag's
        # counts, kept at write time, scaled to the intersection instead.
        if stored is None:
            stored = list(TagYearCount.objects.filter(tag=rarest).values_list("year", "study_type", "entry_count"))
        return Breakdown(
            counts=rows_of(types_of(stored, factor)),
            exact=False,
            scaled=True,
            from_counts=True,
            years=timeline_of(stored, factor),
            years_estimated=True,
            size=size,
        )
    without_type = {**filters, "types": [], "sort": "newest"}
    postings = EntryTag.objects.published_with_all(tags, direct=direct, filters=without_type)
    # Design and date from the postings themselves (an entry's year is its
    # sort date's; UNDATED has none): the entry is joined only to check it is published.
    sample = [
        (study_type, None if day == UNDATED else day.year)
        for study_type, day in postings.values_list("study_type", "sort_date")[:FACET_SAMPLE]
    ]
    by_type = Counter(study_type for study_type, _year in sample)
    if len(sample) < FACET_SAMPLE:
        counted = Counter((year, study_type) for study_type, year in sample if year)
        years = timeline_of([(year, study_type, n) for (year, study_type), n in counted.items()])
        return Breakdown(counts=rows_of(by_type), exact=True, scaled=False, years=years, size=size)
    scaled = total is not None and total > len(sample)
    if scaled:
        by_type = Counter({value: round(count * total / len(sample)) for value, count in by_type.items()})
    return Breakdown(
        counts=rows_of(by_type),
        exact=False,
        scaled=scaled,
        years=timeline_of(stored or [], factor),
        years_estimated=True,
        size=size,
    )


def narrow_down(tags, *, limit, exclude=()):
    """Tags that co-occur with all of ``tags``, most entries first, as
    [(tag, count, estimated)]. One tag: its precomputed pairs, exact. More:
    each candidate (the rarest tag's most frequent partners) is scored as the
    total of three or more tags is (``estimated_intersection``), from the
    pair counts: two queries whatever the sizes."""
    rarest = min(tags, key=lambda tag: (tag.entry_count, tag.pk))
    skip = {tag.pk for tag in tags} | set(exclude)
    candidates = [
        pair
        for pair in TagPair.objects.filter(tag=rarest, entry_count__gt=0)
        .exclude(other_id__in=skip)
        .select_related("other")
        .order_by("-entry_count", "other__name")[: limit * 3 if len(tags) > 1 else limit]
    ]
    if len(tags) == 1:
        return [(pair.other, pair.entry_count, False) for pair in candidates[:limit]]
    others = [pair.other for pair in candidates]
    pair_counts = pair_counts_among(tags, others) if others else {}
    scored = []
    for other in others:
        estimate = estimated_intersection([*tags, other], pair_counts)
        if estimate > 0:
            scored.append((other, round_estimate(estimate), True))
    scored.sort(key=lambda row: (-row[1], row[0].name.lower()))
    return scored[:limit]


def top_intersections(limit, *, min_entries=2):
    """The most-populated pairs of tags, as [(tag, other, count, address)], leaving out
    a tag paired with its own ancestor (Vitamin K with Vitamin K2 says
    nothing). Two queries: the pairs from their count index, and the tree."""
    rows = list(
        TagPair.objects.filter(tag_id__lt=F("other_id"), entry_count__gte=min_entries)
        .select_related("tag", "other")
        .order_by("-entry_count", "tag__name", "other__name")[: limit * 4]
    )
    parents = parent_map()
    above = {tag_id: set(ancestor_ids(tag_id, parents)) for pair in rows for tag_id in (pair.tag_id, pair.other_id)}

    def narrower(pair, other):
        """``other`` is ``pair`` with one tag replaced by a descendant."""
        a, b, c, d = pair.tag_id, pair.other_id, other.tag_id, other.other_id
        return any(
            (x == y and u in above[v]) for x, u, y, v in ((a, b, c, d), (a, b, d, c), (b, a, c, d), (b, a, d, c))
        )

    found = []
    for pair in rows:
        if pair.other_id in above[pair.tag_id] or pair.tag_id in above[pair.other_id]:
            continue
        # "Vitamin K and Bone" adds nothing beside "Vitamin K2 and Bone" when
        # every one of its entries is a Vitamin K2 entry (the same count).
        if any(narrower(pair, other) for other in rows if other.entry_count == pair.entry_count):
            continue
        found.append((pair.tag, pair.other, pair.entry_count, intersection_path([pair.tag, pair.other])))
        if len(found) == limit:
            break
    return found


# How many of an entry's tag pairs its page links ("More on A and B").
ENTRY_INTERSECTIONS = 6


def intersections_of(tags, *, limit):
    """Pairs of ``tags`` (an entry's own tags) with their counts and
    addresses, most first: "More on Vitamin K2 and Bone: 29". One query."""
    # Queried even for one tag: the page's query count stays fixed.
    counts = pair_counts_among(tags)
    # Each pair named as the home page's (``top_intersections``) are: the
    # older tag first, whatever order the entry's tags came in.
    tags = sorted(tags, key=lambda tag: tag.pk)
    pairs = [(a, b, counts.get((a.pk, b.pk), 0)) for a, b in combinations(tags, 2)]
    pairs = [(a, b, count) for a, b, count in pairs if count > 1]
    pairs.sort(key=lambda row: (-row[2], row[0].name.lower(), row[1].name.lower()))
    return [(a, b, count, intersection_path([a, b])) for a, b, count in pairs[:limit]]


def intersection_path(tags):
    """The canonical address of an intersection: slugs sorted."""
    return reverse("tags:detail", kwargs={"slugs": "+".join(sorted(tag.slug for tag in tags))})


def pair_counts_among(tags, others=()):
    """{(tag id, other id): published entries carrying both}, both ways
    round, for every pair of ``tags`` and every tag with each of ``others``
    (one query; not the pairs among ``others``: "narrow down" scores each
    candidate with the named tags only, and 30 candidates have 900 pairs)."""
    counts = {}
    pairs = TagPair.objects.filter(tag__in=tags, other__in=[*tags, *others])
    for tag_id, other_id, count in pairs.values_list("tag_id", "other_id", "entry_count"):
        counts[tag_id, other_id] = counts[other_id, tag_id] = count
    return counts


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
