"""The public listing index: a denormalised read model of every article and study.

The source of truth for an entry is its own table (``studies.Study``,
``articles.Article``) with its own taggit through model. ``Entry`` and
``EntryTag`` are one narrow row per entry carrying what a listing shows and
decides visibility with, and one posting per (tag, entry) sorted by the
entry's date. Every public listing — home, tag pages, intersections, feeds —
reads them, so articles and studies come back in one ordered query without
joining two wide tables (see shared/PERFORMANCE.md and bench/RESULTS.md).
``catalog.indexing`` keeps them in step.

The foreign keys to "studies.Study" and "articles.Article" are strings: the
one place the schema points up the layers, with nothing imported.
"""

import datetime
import functools

from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, When
from django.db.models.expressions import RawSQL
from django.urls import get_script_prefix, get_urlconf, reverse

from catalog import registry
from common.dates import MonthYearMixin

from .publishing import PublishableQuerySet, Status, published_q
from .tags import Tag

# Sort key for undated entries: the smallest date, so they come last when
# listings are ordered newest first, and the column can stay NOT NULL (which
# keeps the ordered indexes simple).
UNDATED = datetime.date(1, 1, 1)


class EntryKind(models.TextChoices):
    ARTICLE = "article", "Article"
    STUDY = "study", "Study"


class Notice(models.TextChoices):
    """What the literature later said about a study's paper: retracted, a
    correction (erratum) published, or an expression of concern. The label is
    the marker every listing, feed and export shows. Here, beside the listing
    row that carries it, so studies, articles and the listings share one
    vocabulary."""

    NONE = "", "No notice"
    RETRACTED = "retracted", "Retracted"
    CORRECTED = "corrected", "Corrected"
    CONCERN = "concern", "Expression of concern"


class EntryQuerySet(PublishableQuerySet):
    # related_to(): how many of a source's tags to use, and how many of each
    # tag's newest postings to consider.
    RELATED_TAGS = 6
    RELATED_POSTINGS_PER_TAG = 200

    def listing(self):
        """Newest first, undated last: the order of every public listing."""
        return self.order_by("-sort_date", "-id")

    def related_to(self, source, tags, limit=5):
        """Published entries sharing the most of ``tags`` (the tags of the
        article or study ``source``), most shared first, then newest; one query.

        Bounded work: counting every entry that shares a tag would read 400,000
        postings for a tag on 41% of a million entries. Instead the candidates
        are the newest RELATED_POSTINGS_PER_TAG postings of each of the
        source's RELATED_TAGS rarest tags (a rare tag says more about what an
        entry is about; a popular one only contributes its recent entries),
        read from the (tag, -sort_date) index; the shared-tag count is then
        exact for those candidates. At most 6 × 200 rows, on both databases
        (a UNION ALL of limited index scans, each wrapped in a derived table
        because SQLite refuses LIMIT directly inside a compound SELECT; the
        same SQL on PostgreSQL, where LATERAL would be the other way).
        """
        tag_ids = [tag.pk for tag in sorted(tags, key=lambda tag: (tag.entry_count, tag.pk))[: self.RELATED_TAGS]]
        if not tag_ids:
            return self.none()
        branches, params = [], []
        for number, tag_id in enumerate(tag_ids):
            newest = (
                EntryTag.objects.filter(tag_id=tag_id)
                .order_by("-sort_date", "-entry_id")
                .values_list("entry_id", flat=True)[: self.RELATED_POSTINGS_PER_TAG]
            )
            sql, branch_params = newest.query.sql_with_params()
            branches.append(f"SELECT * FROM ({sql}) newest_{number}")
            params.extend(branch_params)
        candidates = RawSQL(" UNION ALL ".join(branches), params)
        kind = registry.kind_of(type(source))
        return (
            self.published()
            .filter(pk__in=candidates)
            .exclude(**{f"{kind}_id": source.pk})
            .annotate(shared_tags=models.Count("postings", filter=Q(postings__tag_id__in=tag_ids)))
            .order_by("-shared_tags", "-sort_date", "-id")[:limit]
        )


class Entry(MonthYearMixin, models.Model):
    """The public listing row of one published article or study (a read model)."""

    kind = models.CharField(max_length=8, choices=EntryKind.choices)
    article = models.OneToOneField(
        "articles.Article", null=True, blank=True, on_delete=models.CASCADE, related_name="entry"
    )
    study = models.OneToOneField("studies.Study", null=True, blank=True, on_delete=models.CASCADE, related_name="entry")
    title = models.CharField(max_length=500)
    slug = models.SlugField(max_length=255)
    # The study type's label for studies ("RCT", "Meta-analysis"), empty for
    # articles and untyped studies; its value ("rct") for the listing filters.
    type_label = models.CharField(max_length=64, blank=True)
    study_type = models.CharField(max_length=20, blank=True)
    # A study's retraction, correction or expression of concern (Notice):
    # the marker its listing rows, search results and feed entries show.
    notice = models.CharField(max_length=16, blank=True, choices=Notice.choices)
    # What a listing row shows under the title: a study's first author
    # ("Mandatori D et al.") and journal; an article's lead (plain text).
    byline = models.CharField(max_length=255, blank=True)
    venue = models.CharField(max_length=255, blank=True)
    lead = models.CharField(max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    sort_date = models.DateField(default=UNDATED)
    # Copied from the source so visibility is decided on this row alone.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(null=True, blank=True)
    expire_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    # Whether the entry's postings are counted in Tag.entry_count: visible at
    # the last count. A scheduled entry flips it when its time comes (see
    # catalog.indexing.refresh_scheduled).
    counted = models.BooleanField(default=False)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["-sort_date", "-id"]
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["-sort_date", "-id"], name="entry_listing_idx"),
            models.Index(
                fields=["publish_at"],
                name="entry_scheduled_idx",
                condition=Q(counted=False, status=Status.PUBLISHED),
            ),
            models.Index(
                fields=["expire_at"],
                name="entry_expiring_idx",
                condition=Q(counted=True, expire_at__isnull=False),
            ),
            # following: a topic's entries newly published in a window (the
            # digests); without it a popular topic reads the whole table.
            models.Index(fields=["publish_at"], name="entry_published_at_idx", condition=Q(status=Status.PUBLISHED)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="article", article__isnull=False, study__isnull=True))
                | Q(kind="study", study__isnull=False, article__isnull=True),
                name="entry_one_source",
            )
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        namespace = "studies" if self.kind == EntryKind.STUDY else "articles"
        return detail_address(namespace, get_script_prefix(), get_urlconf()).replace(SLUG_MARK, self.slug)

    @property
    def kind_label(self):
        return self.type_label or self.get_kind_display()

    @property
    def notice_label(self):
        """The marker listings show ("Retracted"…); "" without a notice."""
        return self.get_notice_display() if self.notice else ""

    # A listing row (catalog/templatetags/listing.py) renders an Entry or a
    # Study alike: the names the sources give what this row copies from them.
    @property
    def kind_name(self):
        return self.get_kind_display()

    @property
    def listing_byline(self):
        return self.byline

    @property
    def listing_venue(self):
        return self.venue

    @property
    def listing_lead(self):
        return self.lead


# A listing shows 50 rows, each with its address: reversed once per kind,
# with a mark where the slug goes (slugs need no quoting), not once per row.
SLUG_MARK = "slug-mark"


@functools.lru_cache(maxsize=16)
def detail_address(namespace, _script_prefix, _urlconf):
    return reverse(f"{namespace}:detail", kwargs={"slug": SLUG_MARK})


class EntryTagQuerySet(models.QuerySet):
    def published_with_all(self, tags, at=None, *, direct=False, filters=None):
        """Postings of published entries that carry every one of ``tags``, newest first.

        Reads the rarest tag's postings in date order from its index and probes
        the others, so a page stops as soon as it is full instead of building
        the whole intersection and sorting it (measured in bench/RESULTS.md).
        Each further tag is its own EXISTS probe: "all of", never Q(a) & Q(b).
        A parent tag's postings include its descendants' entries (inherited);
        ``direct``: only entries carrying the named tags themselves.
        ``filters``: catalog.filters.ListingFilterForm.values (types, years, sort).
        """
        rarest, *others = sorted(tags, key=lambda tag: (tag.entry_count, tag.pk))
        queryset = self.filter(tag=rarest).filter(published_q(at, prefix="entry__"))
        if direct:
            queryset = queryset.filter(inherited=False)
        for tag in others:
            # A semi-join on the posting's own entry_id, not a join through
            # the entry: the other tags are probed in their (tag, entry)
            # index first, and only matches visit their entry (3–30× faster
            # at a million studies than joining through k2site_entry, which
            # looked up the entry of every posting walked).
            probe = self.model.objects.filter(tag=tag, entry_id=OuterRef("entry_id"))
            queryset = queryset.filter(Exists(probe.filter(inherited=False) if direct else probe))
        filters = filters or {}
        # On the rarest tag's posting (its index holds both): an entry's year
        # is its sort_date's, and undated entries (UNDATED) have no year.
        if filters.get("types"):
            queryset = queryset.filter(study_type__in=filters["types"])
        if filters.get("year_min") is not None:
            queryset = queryset.filter(sort_date__gte=datetime.date(filters["year_min"], 1, 1))
        if filters.get("year_max") is not None:
            queryset = queryset.filter(sort_date__gt=UNDATED, sort_date__lte=datetime.date(filters["year_max"], 12, 31))
        return queryset.select_related("entry").order_by(*self.ORDERINGS[filters.get("sort") or "newest"])

    # "oldest" and "title" sort every match (undated entries last in both
    # date orders, as on /studies/); "newest" walks the index.
    ORDERINGS = {
        "newest": ["-sort_date", "-entry_id"],
        "oldest": [Case(When(sort_date=UNDATED, then=1), default=0), "sort_date", "entry_id"],
        "title": ["entry__title", "entry_id"],
    }


class EntryTag(models.Model):
    """One posting: this published entry carries this tag. Sorted like listings."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="postings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="postings")
    # Copied from the entry so a tag's postings can be read newest first from
    # the index alone, and filtered by design and years there too (a year is
    # a sort_date range), without a visit to the entry per posting skipped.
    sort_date = models.DateField()
    study_type = models.CharField(max_length=20, blank=True, default="")
    # Carried through a descendant tag, not by the entry itself: the tree's
    # postings are written at sync time, so a parent's pages and any
    # intersection naming it stay one walk of postings (catalog.tree).
    inherited = models.BooleanField(default=False)

    objects = EntryTagQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "entry"], name="entrytag_tag_entry")]
        # Covering (id included, PostgreSQL): a tag's postings are read newest
        # first from the index alone, no heap visit per posting (bench/RESULTS.md).
        indexes = [
            models.Index(
                fields=["tag", "-sort_date", "-entry"],
                name="entrytag_tag_date_idx",
                include=["id", "inherited", "study_type"],
            )
        ]

    def __str__(self):
        return f"{self.tag} · {self.entry}"


class TagPair(models.Model):
    """How many published entries carry both ``tag`` and ``other`` (stored both
    ways round). Feeds the "narrow down" links and the two-tag intersection
    counts without counting postings at read time; catalog.indexing keeps it."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="pairs")
    other = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    entry_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "other"], name="tagpair_unique")]
        indexes = [
            models.Index(fields=["tag", "-entry_count"], name="tagpair_tag_count_idx"),
            # The most-populated intersections (home, /tags/).
            models.Index(fields=["-entry_count"], name="tagpair_count_idx"),
        ]

    def __str__(self):
        return f"{self.tag} + {self.other}: {self.entry_count}"


class TagYearCount(models.Model):
    """How many published entries under ``tag`` (its own or a descendant's)
    are of ``study_type`` ("" for articles) and from ``year`` (0: undated): the evidence
    timeline of a tag page without counting postings at read time (a popular
    tag has 400,000 at a million entries). catalog.indexing keeps it."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="year_counts")
    year = models.PositiveSmallIntegerField()
    study_type = models.CharField(max_length=20, blank=True)
    entry_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "year", "study_type"], name="tagyearcount_unique")]

    def __str__(self):
        return f"{self.tag} {self.year} {self.study_type or 'article'}: {self.entry_count}"
