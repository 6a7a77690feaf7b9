"""The tag admin: the shared vocabulary and its tree. Renamed, given a
parent and aliases in the form; moved, merged and deleted (when unused) as
actions; all through editorial.tag_operations."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import render

from catalog import aliases, tree
from catalog.content_version import announce_change
from catalog.models import Tag, TagAlias
from editorial import tag_operations, workflow

from .entries import RefuseForbiddenActionsMixin


class TagAdminForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name", "slug", "parent", "description"]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        clash = aliases.clash(name, None, tag=self.instance)
        if isinstance(clash, TagAlias):
            raise forms.ValidationError(
                f"“{clash.name}” is already another name of the tag “{clash.tag.name}”. "
                "Remove that alias first, or merge the two tags."
            )
        if clash is not None:
            raise forms.ValidationError(
                f"There is already a tag “{clash.name}”: tag names are unique whatever their capitals. "
                "To join the two, merge this tag into it from the tag list."
            )
        return name

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        clash = aliases.clash(None, slug, tag=self.instance)
        if isinstance(clash, TagAlias) and clash.tag_id != self.instance.pk:
            raise forms.ValidationError(f"/tags/{slug}/ is already an address of the tag “{clash.tag.name}”.")
        if clash is not None and not isinstance(clash, TagAlias):
            raise forms.ValidationError(f"The tag “{clash.name}” already has this address.")
        return slug

    def clean(self):
        cleaned = super().clean()
        try:
            tree.check_parent(self.instance, cleaned.get("parent"))
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


class TagAliasForm(forms.ModelForm):
    class Meta:
        model = TagAlias
        fields = ["name", "slug"]
        help_texts = {"slug": "Left empty: made from the name."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False

    def clean(self):
        cleaned = super().clean()
        name = " ".join((cleaned.get("name") or "").split())
        slug = cleaned.get("slug") or aliases.alias_slug(name)
        cleaned["name"], cleaned["slug"] = name, slug
        self.instance.slug = slug
        if name or slug:
            try:
                aliases.check_free(name, slug, alias=self.instance)
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from error
        return cleaned


class TagAliasInline(admin.TabularInline):
    """Other names of the tag: synonyms ("K2", "menaquinone") and the old
    slugs of renamed or merged tags. Search and the autocomplete find the tag
    by them; their addresses redirect to the tag's."""

    model = TagAlias
    form = TagAliasForm
    extra = 1
    verbose_name = "alias"
    verbose_name_plural = "aliases (other names; their addresses redirect here)"


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


class MoveForm(forms.Form):
    parent = forms.ModelChoiceField(
        queryset=Tag.objects.order_by("name"),
        required=False,
        label="New parent",
        help_text="Leave empty to move them to the top level.",
    )


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
    inlines = [TagAliasInline]
    list_display = ["name", "slug", "parent", "entry_count", "direct_count", "used"]
    list_filter = [UsageFilter]
    # Aliases too: "K2" and "menaquinone" find Vitamin K2 in the autocomplete.
    search_fields = ["name", "aliases__name"]
    autocomplete_fields = ["parent"]
    list_select_related = ["parent"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    actions = ["move_tags", "merge_tags", "delete_unused_tags"]
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
        # A new slug keeps the old address as an alias; a new parent moves
        # the subtree and reposts its entries (editorial.tag_operations).
        old = Tag.objects.get(pk=obj.pk) if change else None
        tag_operations.save_tag(obj, user=request.user, old=old)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and workflow.may_moderate(request.user)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and workflow.may_moderate(request.user)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        announce_change()

    @admin.action(description="Move selected tags (with their subcategories) under…", permissions=["change"])
    def move_tags(self, request, queryset):
        tags = list(queryset.order_by("name"))
        form = MoveForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            parent = form.cleaned_data["parent"]
            try:
                moved = tag_operations.move_tags(tags, parent, user=request.user)
            except ValidationError as error:
                form.add_error("parent", error.messages)
            else:
                where = f"under “{parent.name}”" if parent else "to the top level"
                message = f"Moved {len(tags)} tags {where}; {moved} entries reposted."
                self.message_user(request, message, messages.SUCCESS)
                return None
        return render(
            request,
            "admin/k2site/tag/move.html",
            {
                **self.admin_site.each_context(request),
                "title": "Move tags",
                "opts": self.model._meta,
                "tags": tags,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

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
