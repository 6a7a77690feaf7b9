"""Change-list filters the article and study admins share."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q

from catalog.models import Tag
from editorial.roles import EDITORS, MODERATORS

TAG_FILTER_CHOICES = 30


class TagFilter(admin.SimpleListFilter):
    """The most used tags as links; any other tag by ``?tag=<slug>`` (the
    sidebar would be thousands of links long otherwise)."""

    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        tags = list(Tag.objects.order_by("-entry_count", "name").values_list("slug", "name")[:TAG_FILTER_CHOICES])
        selected = self.value()
        if selected and selected not in {slug for slug, _ in tags}:
            tags += list(Tag.objects.filter(slug=selected).values_list("slug", "name"))
        return tags

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(tags__slug=self.value())
        return queryset


class StaffFilter(admin.SimpleListFilter):
    """Base for filters by a member of staff."""

    def lookups(self, request, model_admin):
        users = (
            get_user_model()
            ._default_manager.filter(Q(is_superuser=True) | Q(groups__name__in=[EDITORS, MODERATORS]))
            .distinct()
            .order_by("username")
        )
        return [(str(user.pk), user.get_full_name() or user.get_username()) for user in users]


class CreatedByFilter(StaffFilter):
    """Who created the entry, from its first revision (studies have no author field)."""

    title = "added by"
    parameter_name = "added_by"

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            history = queryset.model.history.filter(history_type="+", history_user_id=int(self.value()))
            return queryset.filter(pk__in=history.values("id"))
        return queryset
