from django.contrib import admin

from editorial.admin.entries import EntryAdmin, EntryAdminForm
from editorial.admin.filters import CreatedByFilter, TagFilter

from .models import Study
from .validators import validate_pdf


class StudyAdminForm(EntryAdminForm):
    def clean_pdf(self):
        upload = self.cleaned_data.get("pdf")
        # Only a new upload is checked; an unchanged field holds the stored file.
        if upload and hasattr(upload, "content_type"):
            validate_pdf(upload)
        return upload


@admin.register(Study)
class StudyAdmin(EntryAdmin):
    """Studies for editors and moderators; the workflow, locking, revisions
    and bulk actions come from editorial.admin.entries.EntryAdmin."""

    form = StudyAdminForm
    list_display = ["title", "study_type", "journal", "year", "status_label", "tag_names", "updated_at", "preview_link"]
    list_filter = ["status", "study_type", TagFilter, "year", CreatedByFilter]
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
        "status",
        "workflow_comment",
        "publish_at",
        "expire_at",
        "edited_version",
    ]
