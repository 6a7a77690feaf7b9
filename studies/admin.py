from django.contrib import admin
from django.urls import path

from editorial import workflow
from editorial.admin.entries import EntryAdmin
from editorial.admin.filters import CreatedByFilter, TagFilter

from .forms import StudyAdminForm
from .lookup import admin_lookup_view
from .models import Study

# A retraction, correction or expression of concern: moderators' to set and
# clear (an editor may not clear a retraction), read-only for anyone else.
NOTICE_FIELDS = ("notice", "notice_citation", "notice_url")


@admin.register(Study)
class StudyAdmin(EntryAdmin):
    """Studies for editors and moderators; the workflow, locking, revisions
    and bulk actions come from editorial.admin.entries.EntryAdmin."""

    form = StudyAdminForm

    class Media:
        # "Fill from DOI or PMID" next to the DOI field (studies.lookup).
        js = ["k2site/admin/fill_from_identifier.js"]

    def get_urls(self):
        # Before the inherited "<path:object_id>/" patterns, which would take "lookup/".
        lookup = path("lookup/", self.admin_site.admin_view(self.lookup_view), name="studies_study_lookup")
        return [lookup, *super().get_urls()]

    def lookup_view(self, request):
        return admin_lookup_view(self, request)

    @admin.display(description="journal, year", ordering="journal")
    def source(self, study):
        return " ".join(filter(None, [study.journal, str(study.year or "")]))

    # Journal and year share a column: the list stays readable at 1280 px.
    list_display = ["title", "study_type", "source", "status_label", "tag_names", "updated_at", "preview_link"]
    list_filter = ["status", "study_type", "notice", TagFilter, "year", CreatedByFilter]
    search_fields = ["title", "paper_title", "doi", "pmid", "journal", "authors"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = None
    ordering = ["-updated_at", "-id"]
    fields = [
        "title",
        "slug",
        "study_type",
        "paper_title",
        "authors",
        "affiliation",
        "journal",
        "publisher",
        "year",
        "month",
        "volume",
        "issue",
        "pages",
        "doi",
        "pmid",
        "url",
        "abstract",
        "summary",
        "pdf",
        "tags",
        *NOTICE_FIELDS,
        "status",
        "workflow_comment",
        "publish_at",
        "expire_at",
        "edited_version",
    ]

    def get_fieldsets(self, request, obj=None):
        # The notice in a box of its own, before the workflow's.
        (name, main), *rest = super().get_fieldsets(request, obj)
        fields = [field for field in main["fields"] if field not in NOTICE_FIELDS]
        notice = ("Retraction or correction", {"fields": list(NOTICE_FIELDS), "classes": ["notice-fields"]})
        return [(name, {**main, "fields": fields}), notice, *rest]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not workflow.may_moderate(request.user):
            readonly += [name for name in NOTICE_FIELDS if name not in readonly]
        return readonly

    def save_model(self, request, obj, form, change):
        # The server keeps the notice, whatever the way in: a restored old
        # revision carries its own notice, and an editor may not clear one.
        if change and not workflow.may_moderate(request.user):
            stored = Study.objects.filter(pk=obj.pk).values(*NOTICE_FIELDS).first() or {}
            for name, value in stored.items():
                setattr(obj, name, value)
        super().save_model(request, obj, form, change)
