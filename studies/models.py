from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import ItemBase

from catalog.models import UNDATED, EntryKind, Notice, Publishable, PublishableQuerySet, Tag
from common import fulltext
from common.dates import MONTH_ABBR, MonthYearMixin

from .pdf import pdf_upload_path, remember_stored_pdf


class StudyType(models.TextChoices):
    RCT = "rct", "RCT"
    META_ANALYSIS = "meta_analysis", "Meta-analysis"
    SYSTEMATIC_REVIEW = "systematic_review", "Systematic review"
    REVIEW = "review", "Review"
    COHORT = "cohort", "Cohort/observational"
    CASE_CONTROL = "case_control", "Case-control"
    CROSS_SECTIONAL = "cross_sectional", "Cross-sectional"
    CASE_REPORT = "case_report", "Case report"
    ANIMAL = "animal", "Animal study"
    IN_VITRO = "in_vitro", "In vitro"
    BOOK = "book", "Book"
    CHAPTER = "chapter", "Book chapter"
    COMMENTARY = "commentary", "Commentary"
    OTHER = "other", "Other"


def initials(given):
    """'Marjo H J' → 'MHJ'; 'MH' (already initials, as PubMed writes them) → 'MH'."""
    parts = given.replace("-", " ").replace(".", " ").split()
    return "".join(part if part.isupper() and len(part) <= 3 else part[0] for part in parts)


def author_name(author):
    """An author (``{"family": …, "given": …}``) as PubMed writes one: 'Knapen MH'."""
    return f"{author.get('family', '')} {initials(author.get('given', ''))}".strip()


def study_type_label(value):
    """A study type as listings show it: "RCT", "Meta-analysis"; nothing for
    "other", which says nothing in a listing (the row then reads "Study")."""
    return "" if value == StudyType.OTHER else StudyType(value).label


class TaggedStudy(ItemBase):
    """A study's tag: a real foreign key on both sides, indexed both ways."""

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="tagged_studies")
    content_object = models.ForeignKey("Study", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_object", "tag"], name="taggedstudy_unique")]
        # A tag's studies from the index alone (the /studies/ category filter
        # intersects them without reading the table).
        indexes = [models.Index(fields=["tag", "content_object"], name="taggedstudy_tag_study_idx")]


class StudyQuerySet(PublishableQuerySet):
    # Full-text search (common.fulltext) reads the PostgreSQL search vector
    # (studies migration 0003) or the SQLite index, where studies are slot 0
    # (studies migration 0008): title and paper title, authors, journal,
    # abstract and highlights. A result quotes its abstract (plain text),
    # else its highlights (Markdown).
    SEARCH_INDEX_SLOT = 0
    SNIPPET_FIELDS = ("abstract", "summary")

    def for_detail(self):
        return self.prefetch_related("tags")

    def matching(self, query):
        """Studies matching a web-search query (see common.fulltext)."""
        return fulltext.matching(self, query, slot=self.SEARCH_INDEX_SLOT)

    def search(self, query):
        """Matching studies annotated with ``rank``, best first."""
        return fulltext.ranked(self, query, slot=self.SEARCH_INDEX_SLOT).order_by("-rank", "-id")

    def snippet_sources(self, ids):
        """The studies shown, annotated with what their search results quote
        and highlight: ``text``, the abstract (plain text), and ``markdown``,
        the highlights when there is no abstract (discovery.search)."""
        abstract, summary = self.SNIPPET_FIELDS
        return self.filter(pk__in=ids).annotate(
            text=models.F(abstract),
            markdown=models.Case(
                models.When(**{abstract: ""}, then=models.F(summary)),
                default=models.Value(""),
                output_field=models.TextField(),
            ),
        )


class Study(MonthYearMixin, Publishable):
    """A summary of one published paper, with its full citation."""

    title = models.CharField(
        max_length=500, help_text="The headline shown in listings; the paper's own title goes below."
    )
    slug = models.SlugField(max_length=255, unique=True)
    paper_title = models.CharField(
        max_length=1000, blank=True, help_text="The paper's title as published, if it differs."
    )
    # An ordered list of {"family": …, "given": …}: order is part of a citation,
    # and a list keeps a study's citation in one row (no join to render it).
    authors = models.JSONField(default=list, blank=True)
    affiliation = models.TextField(blank=True)
    journal = models.CharField(max_length=255, blank=True, db_index=True)
    # A book's or chapter's publisher (a chapter's book title is its journal).
    publisher = models.CharField(max_length=255, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    month = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(number, name) for number, name in enumerate(MONTH_ABBR, 1)]
    )
    volume = models.CharField(max_length=32, blank=True)
    issue = models.CharField(max_length=32, blank=True)
    pages = models.CharField(max_length=32, blank=True)
    doi = models.CharField("DOI", max_length=255, blank=True, help_text="Lower case, without https://doi.org/")
    pmid = models.CharField("PMID", max_length=16, blank=True)
    url = models.URLField("URL", max_length=500, blank=True)
    abstract = models.TextField(blank=True)
    summary = models.TextField("highlights", blank=True, help_text="The editor's highlights (Markdown).")
    study_type = models.CharField(max_length=20, choices=StudyType.choices, default=StudyType.OTHER)
    # What the literature later said about the paper (catalog.models.Notice):
    # set by imports from what the sources carry (studies.importing) and by
    # moderators only (the admin keeps editors off these fields).
    notice = models.CharField(
        max_length=16,
        choices=Notice.choices,
        blank=True,
        help_text="Retracted, corrected (an erratum or correction was published) or under an expression of concern.",
    )
    notice_citation = models.TextField(
        "notice's citation",
        blank=True,
        help_text="The notice as PubMed cites it, e.g. “Retraction in: J Nutr. 2021;151(3):700. "
        "doi: 10.1093/jn/nxab001. PMID: 33000001.”",
    )
    notice_url = models.URLField(
        "notice's link", max_length=500, blank=True, help_text="Where the notice is, e.g. https://doi.org/10.1093/…"
    )
    # Served only by studies.views.study_pdf, under an unguessable name (studies.pdf).
    pdf = models.FileField("PDF", upload_to=pdf_upload_path, blank=True, max_length=255)
    tags = TaggableManager(through=TaggedStudy, blank=True)
    # The field values the last import brought, so a re-import can tell a
    # change at the source from an edit made on the site (see studies.importing).
    import_record = models.JSONField(default=dict, blank=True, editable=False)
    imported_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Optimistic locking: a save based on an older version is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = StudyQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-month", "-id"]
        verbose_name_plural = "studies"
        constraints = [
            models.UniqueConstraint(fields=["doi"], condition=~Q(doi=""), name="study_doi_unique"),
            models.UniqueConstraint(fields=["pmid"], condition=~Q(pmid=""), name="study_pmid_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "publish_at"], name="study_status_idx"),
            # The few studies with a notice (the editors' list of articles
            # citing retracted studies, the admin's filter).
            models.Index(fields=["notice"], name="study_notice_idx", condition=~Q(notice="")),
        ]

    def __str__(self):
        return self.title

    @classmethod
    def from_db(cls, db, field_names, values):
        study = super().from_db(db, field_names, values)
        if "pdf" in field_names:
            remember_stored_pdf(study)
        return study

    def get_absolute_url(self):
        return reverse("studies:detail", kwargs={"slug": self.slug})

    def get_pdf_url(self):
        return reverse("studies:pdf", kwargs={"slug": self.slug}) if self.pdf else ""

    @property
    def has_citation(self):
        """Whether a citation was recorded: more than the headline to show."""
        own_title = bool(self.paper_title) and self.paper_title != self.title
        return bool(own_title or self.authors or self.journal or self.doi or self.pmid or self.volume)

    @property
    def citation_title(self):
        return self.paper_title or self.title

    # What a listing line shows (catalog/templatetags/listing.py), as on Entry.
    kind = "study"
    kind_name = EntryKind.STUDY.label

    @property
    def type_label(self):
        return study_type_label(self.study_type)

    @property
    def notice_label(self):
        """The marker listings show, as on Entry: "Retracted"…; "" without a notice."""
        return self.get_notice_display() if self.notice else ""

    @property
    def is_retracted(self):
        return self.notice == Notice.RETRACTED

    @property
    def kind_label(self):
        return self.type_label or EntryKind.STUDY.label

    @property
    def sort_date(self):
        return UNDATED if self.year is None else UNDATED.replace(year=self.year, month=self.month or 1)

    @property
    def listing_byline(self):
        """'Mandatori D et al.': the first author as a listing row shows it."""
        if not self.authors:
            return ""
        first = author_name(self.authors[0])
        return f"{first} et al." if len(self.authors) > 1 else first

    @property
    def listing_venue(self):
        return self.journal

    # A study's row shows its citation, not a lead.
    listing_lead = ""

    @property
    def author_names(self):
        """'Family GI' per author, as PubMed writes them ('Knapen MH' stays so)."""
        return [author_name(author) for author in self.authors]

    @property
    def citation_details(self):
        """'2021;13(4):1222' — year;volume(issue):pages, as a reference reads."""
        text = str(self.year or "")
        if self.volume:
            text += f";{self.volume}" + (f"({self.issue})" if self.issue else "")
        if self.pages:
            text += f":{self.pages}"
        return text
