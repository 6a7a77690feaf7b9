"""What each endpoint returns. Read-only: every field comes from a row the
view read through the published querysets."""

from django.template.loader import render_to_string
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.blocks import render_body
from studies.cite import csl_item


def absolute(request, path):
    return request.build_absolute_uri(path)


def rendered(text, entry):
    """Markdown with its listing blocks, as the page shows it."""
    return render_to_string("includes/markdown_body.html", {"body": render_body(text, exclude=entry)}).strip()


class TagSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class TagCountSerializer(TagSerializer):
    entry_count = serializers.IntegerField(help_text="Published entries in the category.")
    page_url = serializers.SerializerMethodField()
    entries_url = serializers.SerializerMethodField()

    def get_page_url(self, tag) -> str:
        return absolute(self.context["request"], tag.get_absolute_url())

    def get_entries_url(self, tag) -> str:
        return absolute(self.context["request"], reverse("api:tag-entries", kwargs={"slugs": tag.slug}))


class AuthorSerializer(serializers.Serializer):
    family = serializers.CharField(required=False)
    given = serializers.CharField(required=False)


class EntrySerializer(serializers.Serializer):
    """One line of a listing (the listing index's row)."""

    kind = serializers.ChoiceField(choices=["article", "study"])
    slug = serializers.CharField()
    title = serializers.CharField()
    type_label = serializers.CharField(help_text='"RCT", "Meta-analysis"…; empty for articles and other studies.')
    notice = serializers.CharField(
        help_text='A later notice about the paper: "retracted", "corrected" (an erratum) or "concern" '
        "(an expression of concern); empty when there is none."
    )
    year = serializers.IntegerField(allow_null=True)
    month = serializers.IntegerField(allow_null=True)
    page_url = serializers.SerializerMethodField()
    api_url = serializers.SerializerMethodField()

    def get_page_url(self, entry) -> str:
        return absolute(self.context["request"], entry.get_absolute_url())

    def get_api_url(self, entry) -> str:
        name = "api:study-detail" if entry.kind == "study" else "api:article-detail"
        return absolute(self.context["request"], reverse(name, kwargs={"slug": entry.slug}))


class StudyTypeSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class StudySummarySerializer(serializers.Serializer):
    """A study in a list."""

    slug = serializers.CharField()
    title = serializers.CharField()
    citation_title = serializers.CharField()
    study_type = serializers.SerializerMethodField()
    notice = serializers.CharField(
        help_text='A later notice about the paper: "retracted", "corrected" (an erratum) or "concern" '
        "(an expression of concern); empty when there is none."
    )
    authors = AuthorSerializer(many=True)
    journal = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)
    month = serializers.IntegerField(allow_null=True)
    doi = serializers.CharField()
    pmid = serializers.CharField()
    tags = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    api_url = serializers.SerializerMethodField()

    @extend_schema_field(StudyTypeSerializer)
    def get_study_type(self, study):
        return {"value": study.study_type, "label": study.get_study_type_display()}

    @extend_schema_field(TagSerializer(many=True))
    def get_tags(self, study):
        # The prefetched tags, sorted here (ordering the prefetch would query again).
        return [{"slug": tag.slug, "name": tag.name} for tag in sorted(study.tags.all(), key=lambda t: t.name.lower())]

    def get_page_url(self, study) -> str:
        return absolute(self.context["request"], study.get_absolute_url())

    def get_api_url(self, study) -> str:
        return absolute(self.context["request"], reverse("api:study-detail", kwargs={"slug": study.slug}))


class HighlightsSerializer(serializers.Serializer):
    html = serializers.CharField()
    markdown = serializers.CharField()


class StudySerializer(StudySummarySerializer):
    """A study with every citation field."""

    paper_title = serializers.CharField()
    affiliation = serializers.CharField()
    publisher = serializers.CharField()
    volume = serializers.CharField()
    issue = serializers.CharField()
    pages = serializers.CharField()
    url = serializers.CharField(help_text="The study's own address (publisher, PubMed…), if recorded.")
    notice_citation = serializers.CharField(help_text="The notice's citation, e.g. “Retraction in: J Nutr. …”.")
    notice_url = serializers.CharField(help_text="The notice's address, if recorded.")
    abstract = serializers.CharField()
    highlights = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    csl = serializers.SerializerMethodField()

    @extend_schema_field(HighlightsSerializer)
    def get_highlights(self, study):
        return {"html": rendered(study.summary, study) if study.summary else "", "markdown": study.summary}

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_pdf_url(self, study):
        """The PDF's address when the study has one (published studies' PDFs are public)."""
        return absolute(self.context["request"], study.get_pdf_url()) if study.pdf else None

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_csl(self, study):
        """The citation as CSL-JSON, as /studies/<slug>/cite.json exports it."""
        return csl_item(study)


class ArticleSummarySerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    lead = serializers.CharField()
    byline = serializers.CharField()
    first_published_at = serializers.DateTimeField(allow_null=True)
    tags = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()
    api_url = serializers.SerializerMethodField()

    @extend_schema_field(TagSerializer(many=True))
    def get_tags(self, article):
        return [{"slug": t.slug, "name": t.name} for t in sorted(article.tags.all(), key=lambda t: t.name.lower())]

    def get_page_url(self, article) -> str:
        return absolute(self.context["request"], article.get_absolute_url())

    def get_api_url(self, article) -> str:
        return absolute(self.context["request"], reverse("api:article-detail", kwargs={"slug": article.slug}))


class BodySerializer(serializers.Serializer):
    html = serializers.CharField()
    markdown = serializers.CharField()


class ArticleSerializer(ArticleSummarySerializer):
    body = serializers.SerializerMethodField()
    cited_studies = serializers.SerializerMethodField()

    @extend_schema_field(BodySerializer)
    def get_body(self, article):
        return {"html": rendered(article.body, article), "markdown": article.body}

    @extend_schema_field(StudySummarySerializer(many=True))
    def get_cited_studies(self, article):
        studies = self.context["cited_studies"]
        return StudySummarySerializer(studies, many=True, context=self.context).data
