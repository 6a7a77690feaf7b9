"""The tag admin: the shared vocabulary, renamed in the form, merged and
deleted (when unused) as actions through editorial.tag_operations."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render

from catalog.content_version import announce_change
from catalog.models import Tag
from editorial import tag_operations, workflow

from .entries import RefuseForbiddenActionsMixin


class TagAdminForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name", "slug", "description"]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        clash = Tag.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).first()
        if clash is not None:
            raise forms.ValidationError(
                f"There is already a tag “{clash.name}”: tag names are unique whatever their capitals. "
                "To join the two, merge this tag into it from the tag list."
            )
        return name


class UsageFilter(admin.SimpleListFilter):
    title = "usage"
    parameter_name = "usage"

    def lookups(self, request, model_admin):
        return [("unused", "Unused (no entry in any state)"), ("used", "In use")]

    def queryset(self, request, queryset):
        if self.value() == "unused":
            return queryset.filter(in_use=False)
        if self.value() == "used":
            return queryset.filter(in_use=True)
        return queryset


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Tag.objects.none(), widget=forms.RadioSelect, empty_label=None, label="Keep this tag"
    )


@admin.register(Tag)
class TagAdmin(RefuseForbiddenActionsMixin, admin.ModelAdmin):
    """The shared vocabulary. Rename in the form; merge and delete-unused as
    actions. search_fields also serves the tag autocomplete of the entry
    forms: a page of matches at a time, fast with thousands of tags."""

    form = TagAdminForm
    list_display = ["name", "slug", "entry_count", "used"]
    list_filter = [UsageFilter]
    search_fields = ["name"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["merge_tags", "delete_unused_tags"]
    show_full_result_count = False
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).with_usage()

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The autocomplete does not need the usage column.
        if request.path.endswith("/autocomplete/"):
            queryset = queryset.order_by("name")
        return queryset, may_have_duplicates

    @admin.display(description="in use", boolean=True, ordering="in_use")
    def used(self, obj):
        return obj.in_use

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Deleting a tag in use would silently untag entries: only unused ones go.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        if obj is not None and Tag.objects.in_use().filter(pk=obj.pk).exists():
            return False
        return super().has_delete_permission(request, obj)

    def has_merge_permission(self, request):
        return workflow.may_moderate(request.user) and request.user.has_perm("k2site.delete_tag")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A new name or slug shows on every page that lists the tag.
        announce_change()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        announce_change()

    @admin.action(description="Merge selected tags into one…", permissions=["merge"])
    def merge_tags(self, request, queryset):
        tags = list(queryset.order_by("-entry_count", "name"))
        if len(tags) < 2:
            self.message_user(request, "Select two or more tags to merge.", messages.WARNING)
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None)
        form.fields["into"].queryset = queryset.order_by("-entry_count", "name")
        form.fields["into"].label_from_instance = lambda tag: f"{tag.name} ({tag.entry_count} published entries)"
        if form.is_bound and form.is_valid():
            into = form.cleaned_data["into"]
            sources = [tag for tag in tags if tag.pk != into.pk]
            moved = tag_operations.merge_tags(sources, into, user=request.user)
            names = ", ".join(f"“{tag.name}”" for tag in sources)
            self.message_user(
                request, f"Merged {names} into “{into.name}”: {moved} entries carry it now.", messages.SUCCESS
            )
            return None
        if not form.is_bound:
            form.initial["into"] = tags[0].pk
        return render(
            request,
            "admin/k2site/tag/merge.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge tags",
                "opts": self.model._meta,
                "tags": tags,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Delete selected tags that no entry uses", permissions=["delete"])
    def delete_unused_tags(self, request, queryset):
        deleted, kept = tag_operations.delete_unused_tags(queryset, user=request.user)
        if deleted:
            self.message_user(request, f"Deleted {len(deleted)} unused tags: {', '.join(deleted)}.", messages.SUCCESS)
        if kept:
            self.message_user(
                request,
                f"Kept {len(kept)} tags still in use: {', '.join(kept)}. Merge them into another tag instead.",
                messages.WARNING,
            )
