"""The moderation queue and the workflow log, read-only."""

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from catalog import registry
from catalog.models import ReviewQueueEntry, Status, Transition, WorkflowAction
from common.admin_urls import admin_url
from editorial.models import PendingRevision


class ReadOnlyAdmin(admin.ModelAdmin):
    """A list to read: nothing is added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReviewQueueEntry)
class ReviewQueueAdmin(ReadOnlyAdmin):
    """What waits for a moderator, oldest submission first, articles and
    studies together (read from the listing index)."""

    list_display = ["entry_title", "kind_column", "waiting_for", "submitted_at", "submitted_by", "preview"]
    list_display_links = None
    list_filter = ["kind"]
    search_fields = ["title"]
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        # An entry's rows in the log and in the revisions: the source's content
        # type and id, whichever kind the row is (the other kind's id is null).
        of_entry = Q()
        for model in registry.models():
            of_entry |= Q(
                content_type=ContentType.objects.get_for_model(model),
                object_id=OuterRef(f"{registry.kind_of(model)}_id"),
            )
        submissions = Transition.objects.filter(of_entry, action=WorkflowAction.SUBMIT).order_by("-created_at", "-id")
        changes = PendingRevision.objects.pending().filter(of_entry)
        return (
            super()
            .get_queryset(request)
            .annotate(pending_change=Exists(changes))
            .filter(Q(status=Status.IN_REVIEW) | Q(pending_change=True))
            .annotate(
                submitted_at=Coalesce(
                    Subquery(changes.values("created_at")[:1]), Subquery(submissions.values("created_at")[:1])
                ),
                submitted_by=Coalesce(
                    Subquery(changes.values("author__username")[:1]),
                    Subquery(submissions.values("actor__username")[:1]),
                ),
            )
        )

    def get_ordering(self, request):
        # The change list would otherwise order by the listing index's own
        # ordering (newest paper first), not by when it was submitted.
        return [F("submitted_at").asc(nulls_first=True), "id"]

    @staticmethod
    def _source(entry):
        """(model, id) of the article or study behind a listing row."""
        return registry.model_for(entry.kind), getattr(entry, f"{entry.kind}_id")

    @admin.display(description="title")
    def entry_title(self, entry):
        model, pk = self._source(entry)
        return format_html('<a href="{}">{}</a>', admin_url(model, "change", pk), entry.title)

    @admin.display(description="kind")
    def kind_column(self, entry):
        return entry.kind_label

    @admin.display(description="waiting for")
    def waiting_for(self, entry):
        if entry.pending_change:
            model, pk = self._source(entry)
            return format_html('<a href="{}">Review of changes</a>', admin_url(model, "revision", pk))
        return "Publication"

    @admin.display(description="submitted", ordering="submitted_at")
    def submitted_at(self, entry):
        return entry.submitted_at

    @admin.display(description="by")
    def submitted_by(self, entry):
        return entry.submitted_by or ""

    @admin.display(description="preview")
    def preview(self, entry):
        model, pk = self._source(entry)
        return format_html('<a href="{}">Preview</a>', reverse(f"preview-{model._meta.model_name}", args=[pk]))


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdmin):
    """The whole workflow log, read-only."""

    list_display = ["created_at", "title", "action", "from_status", "to_status", "actor", "comment"]
    list_filter = ["action", "to_status", "content_type"]
    list_select_related = ["actor", "content_type"]
    search_fields = ["title", "comment"]
    date_hierarchy = "created_at"
    show_full_result_count = False
