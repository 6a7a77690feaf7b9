"""What articles and studies share: tags, publishing state, and the listing index.

The source of truth for an entry is its own table (``studies.Study``,
``articles.Article``) with its own taggit through model. ``Entry`` and
``EntryTag`` are a denormalised read model: one narrow row per entry carrying
what a listing shows and decides visibility with, and one posting per
(tag, entry) sorted by the entry's date. Every public listing — home, tag
pages, intersections, feeds — reads them, so articles and studies come back in
one ordered query without joining two wide tables (see shared/PERFORMANCE.md
and bench/RESULTS.md). ``k2site.services.sync_entries`` keeps them in step.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from taggit.models import TagBase

# Sort key for undated entries: the smallest date, so they come last when
# listings are ordered newest first, and the column can stay NOT NULL (which
# keeps the ordered indexes simple).
UNDATED = datetime.date(1, 1, 1)

MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def month_year(year, month=None):
    """An entry's date as listings show it: "Feb 2019", "2012", or "" when undated."""
    if year is None:
        return ""
    return f"{MONTH_ABBR[month - 1]} {year}" if month else str(year)


class MonthYearMixin:
    """How an entry's date reads, from its ``year`` and ``month``."""

    @property
    def date_label(self):
        return month_year(self.year, self.month)

    @property
    def datetime_attr(self):
        """For <time datetime>: "2019-02" or "2012"."""
        if self.year is None:
            return ""
        return f"{self.year:04d}-{self.month:02d}" if self.month else f"{self.year:04d}"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


def published_q(at=None, prefix=""):
    """The one definition of "published", as a filter: status published,
    publish time reached, not expired. ``prefix`` applies it across a relation
    (``"entry__"``). Every public read goes through it."""
    now = at or timezone.now()
    return Q(**{f"{prefix}status": Status.PUBLISHED, f"{prefix}publish_at__lte": now}) & (
        Q(**{f"{prefix}expire_at__isnull": True}) | Q(**{f"{prefix}expire_at__gt": now})
    )


class PublishableQuerySet(models.QuerySet):
    def published(self, at=None):
        """Visible to visitors now (or at ``at``)."""
        return self.filter(published_q(at))


class Publishable(models.Model):
    """Publishing state shared by articles and studies."""

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        "publish time",
        null=True,
        blank=True,
        help_text="When the entry becomes visible. Leave empty to publish now.",
    )
    expire_at = models.DateTimeField(
        "expiry time", null=True, blank=True, help_text="Optional: hide the entry again after this time."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_published(self):
        now = timezone.now()
        return (
            self.status == Status.PUBLISHED
            and self.publish_at is not None
            and self.publish_at <= now
            and (self.expire_at is None or self.expire_at > now)
        )


class Tag(TagBase):
    """One shared vocabulary for articles and studies; visitors call it a category."""

    description = models.TextField(blank=True, help_text="Shown at the top of the tag's page (Markdown).")
    # Published entries carrying the tag, kept by k2site.services: counting a
    # popular tag's postings live costs hundreds of milliseconds at scale.
    entry_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "tag"
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]

    def get_absolute_url(self):
        return reverse("tags:detail", kwargs={"slugs": self.slug})


class EntryKind(models.TextChoices):
    ARTICLE = "article", "Article"
    STUDY = "study", "Study"


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
        kind = "study" if source._meta.model_name == "study" else "article"
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
    study = models.OneToOneField(
        "studies.Study", null=True, blank=True, on_delete=models.CASCADE, related_name="entry"
    )
    title = models.CharField(max_length=500)
    slug = models.SlugField(max_length=255)
    # The study type's label for studies ("RCT", "Meta-analysis"), empty for articles.
    type_label = models.CharField(max_length=64, blank=True)
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
    # services.refresh_scheduled).
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
        return reverse(f"{namespace}:detail", kwargs={"slug": self.slug})

    @property
    def kind_label(self):
        return self.type_label or self.get_kind_display()



class EntryTagQuerySet(models.QuerySet):
    def published_with_all(self, tags, at=None):
        """Postings of published entries that carry every one of ``tags``, newest first.

        Reads the rarest tag's postings in date order from its index and probes
        the others, so a page stops as soon as it is full instead of building
        the whole intersection and sorting it (measured in bench/RESULTS.md).
        Each further tag is its own chained join: "all of", never Q(a) & Q(b).
        """
        rarest, *others = sorted(tags, key=lambda tag: (tag.entry_count, tag.pk))
        queryset = self.filter(tag=rarest).filter(published_q(at, prefix="entry__"))
        for tag in others:
            queryset = queryset.filter(entry__postings__tag=tag)
        return queryset.select_related("entry").order_by("-sort_date", "-entry_id")


class EntryTag(models.Model):
    """One posting: this published entry carries this tag. Sorted like listings."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="postings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="postings")
    # Copied from the entry so a tag's postings can be read newest first from
    # the index alone.
    sort_date = models.DateField()

    objects = EntryTagQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "entry"], name="entrytag_tag_entry")]
        # Covering (id included, PostgreSQL): a tag's postings are read newest
        # first from the index alone, no heap visit per posting (bench/RESULTS.md).
        indexes = [
            models.Index(fields=["tag", "-sort_date", "-entry"], name="entrytag_tag_date_idx", include=["id"])
        ]

    def __str__(self):
        return f"{self.tag} · {self.entry}"


class TagPair(models.Model):
    """How many published entries carry both ``tag`` and ``other`` (stored both
    ways round). Feeds the "narrow down" links and the two-tag intersection
    counts without counting postings at read time; k2site.services keeps it."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="pairs")
    other = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    entry_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tag", "other"], name="tagpair_unique")]
        indexes = [models.Index(fields=["tag", "-entry_count"], name="tagpair_tag_count_idx")]

    def __str__(self):
        return f"{self.tag} + {self.other}: {self.entry_count}"


class WorkflowAction(models.TextChoices):
    SUBMIT = "submit", "Submit for review"
    APPROVE = "approve", "Approve and publish"
    REJECT = "reject", "Reject"
    PUBLISH = "publish", "Publish"
    UNPUBLISH = "unpublish", "Unpublish"
    ARCHIVE = "archive", "Archive"


class Transition(models.Model):
    """One step of an article or study through the editorial workflow: who
    moved it from which state to which, when, and why (k2site.workflow).

    A generic reference (like Django's own admin log) so one log covers both
    kinds and outlives a deleted entry; ``title`` keeps it readable then."""

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=500)
    action = models.CharField(max_length=16, choices=WorkflowAction.choices)
    from_status = models.CharField(max_length=16, choices=Status.choices)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    comment = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="workflow_transitions"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"], name="transition_entry_idx")]
        # The workflow's own permissions; the Editors and Moderators groups
        # (migration k2site 0004) carry them.
        permissions = [
            ("submit_entry", "Can submit entries for review"),
            ("moderate_entry", "Can approve, reject, publish, unpublish and archive entries, and tag published ones"),
        ]

    def __str__(self):
        return f"{self.title}: {self.get_from_status_display()} → {self.get_to_status_display()}"


class ReviewQueueEntry(Entry):
    """The moderation queue: entries in review, oldest submission first (an
    admin view over the listing index, which holds both kinds in one table)."""

    class Meta:
        proxy = True
        verbose_name = "entry awaiting review"
        verbose_name_plural = "moderation queue"
