from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.text import Truncator
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import ItemBase

from catalog.models import UNDATED, Notice, Publishable, PublishableQuerySet, Tag
from common import fulltext
from common.dates import MonthYearMixin
from common.fulltext import plain_text


class TaggedArticle(ItemBase):
    """An article's tag: a real foreign key on both sides, indexed both ways."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="tagged_articles")
    content_object = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_object", "tag"], name="taggedarticle_unique")]


class ArticleQuerySet(PublishableQuerySet):
    # Full-text search (common.fulltext) reads the PostgreSQL search vector
    # (articles migration 0003) or the SQLite index, where articles are slot 1
    # (articles migration 0005): title, lead and body. A result quotes its
    # lead (plain text) and body (Markdown).
    SEARCH_INDEX_SLOT = 1
    SNIPPET_FIELDS = ("lead", "body")

    def for_detail(self):
        return self.select_related("author").prefetch_related("tags")

    def citing_retracted(self):
        """Articles that draw on (related_studies) a retracted study, in any
        state: the editors' list of articles to look at again."""
        citing = Article.related_studies.through.objects.filter(study__notice=Notice.RETRACTED)
        return self.filter(pk__in=citing.values("article_id"))

    def matching(self, query):
        """Articles matching a web-search query (see common.fulltext)."""
        return fulltext.matching(self, query, slot=self.SEARCH_INDEX_SLOT)

    def search(self, query):
        """Matching articles annotated with ``rank``, best first."""
        return fulltext.ranked(self, query, slot=self.SEARCH_INDEX_SLOT).order_by("-rank", "-id")

    def snippet_sources(self, ids):
        """The articles shown, annotated with what their search results quote
        and highlight: ``text``, the lead (plain text), and ``markdown``, the
        body (discovery.search)."""
        lead, body = self.SNIPPET_FIELDS
        return self.filter(pk__in=ids).annotate(text=models.F(lead), markdown=models.F(body))


class Article(MonthYearMixin, Publishable):
    """A long-form explainer with headed sections that link to studies."""

    title = models.CharField(max_length=500)
    slug = models.SlugField(max_length=255, unique=True)
    lead = models.TextField(blank=True, help_text="One or two sentences shown under the title and in listings.")
    body = models.TextField(blank=True, help_text="Markdown. '## Heading' lines become the table of contents.")
    tags = TaggableManager(through=TaggedArticle, blank=True)
    related_studies = models.ManyToManyField("studies.Study", blank=True, related_name="articles")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    # An article's date in listings: its first publication on the site. Empty
    # for articles whose original date is unknown (they list last).
    first_published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-first_published_at", "-id"]
        indexes = [models.Index(fields=["status", "publish_at"], name="article_status_idx")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("articles:detail", kwargs={"slug": self.slug})

    @property
    def sort_date(self):
        if self.first_published_at is None:
            return UNDATED
        return self.first_published_at.date().replace(day=1)

    @property
    def year(self):
        return self.first_published_at.year if self.first_published_at else None

    @property
    def month(self):
        return self.first_published_at.month if self.first_published_at else None

    # What the listing index copies (catalog.indexing): articles have no
    # type and no citation; their row shows the lead.
    type_label = ""
    listing_byline = ""
    listing_venue = ""

    @property
    def listing_lead(self):
        return Truncator(plain_text(self.lead)).chars(300)

    @property
    def byline(self):
        """The author's full name as they gave it; never the login name."""
        return self.author.get_full_name() if self.author else ""
