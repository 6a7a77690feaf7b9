from django.contrib import admin
from django.db.models import Q

from editorial.admin.entries import EntryAdmin
from editorial.admin.filters import StaffFilter, TagFilter
from editorial.roles import EDITORS, MODERATORS

from .models import Article


class AuthorFilter(StaffFilter):
    title = "author"
    parameter_name = "author"

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(author_id=int(self.value()))
        return queryset


class CitesRetractedFilter(admin.SimpleListFilter):
    """Articles drawing on a retracted study: the editors' list to revisit
    (linked from the admin index's "Reports")."""

    title = "cites a retracted study"
    parameter_name = "cites_retracted"

    def lookups(self, request, model_admin):
        return [("yes", "Yes")]

    def queryset(self, request, queryset):
        return queryset.citing_retracted() if self.value() == "yes" else queryset


class FirstPublishedYearFilter(admin.SimpleListFilter):
    title = "year"
    parameter_name = "year"

    def lookups(self, request, model_admin):
        years = Article.objects.filter(first_published_at__isnull=False).dates(
            "first_published_at", "year", order="DESC"
        )
        return [(str(day.year), str(day.year)) for day in years] + [("none", "Not yet published")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(first_published_at__isnull=True)
        if value and value.isdigit():
            return queryset.filter(first_published_at__year=int(value))
        return queryset


@admin.register(Article)
class ArticleAdmin(EntryAdmin):
    """Articles for editors and moderators; the workflow, locking, revisions
    and bulk actions come from editorial.admin.entries.EntryAdmin."""

    list_display = ["title", "author", "status_label", "tag_names", "first_published_at", "updated_at", "preview_link"]
    list_filter = ["status", TagFilter, FirstPublishedYearFilter, AuthorFilter, CitesRetractedFilter]
    list_select_related = ["author"]
    search_fields = ["title", "lead", "author__username", "author__last_name"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["related_studies"]
    ordering = ["-updated_at", "-id"]
    fields = [
        "title",
        "slug",
        "lead",
        "body",
        "author",
        "tags",
        "related_studies",
        "first_published_at",
        "status",
        "workflow_comment",
        "publish_at",
        "expire_at",
        "edited_version",
    ]

    def get_changeform_initial_data(self, request):
        # A new article is by whoever writes it, unless they say otherwise.
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "author":
            # Only people who can write here, not every account.
            kwargs["queryset"] = (
                db_field.related_model._default_manager.filter(
                    Q(is_superuser=True) | Q(groups__name__in=[EDITORS, MODERATORS])
                )
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
