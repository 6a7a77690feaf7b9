"""What the article and study admins share: the workflow on the change page,
optimistic locking, revisions with a diff, moderator bulk actions, tag
autocomplete, Markdown preview, and list pages with a fixed query count.

The rules themselves live in editorial.workflow; this module only offers them
and routes every status change there, so the server refuses what a role may
not do whatever the page showed.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from simple_history.admin import SimpleHistoryAdmin

from catalog.indexing import deferred_sync
from catalog.models import Status, Tag, WorkflowAction
from common.admin_urls import admin_url
from editorial import revisions, tag_operations, workflow
from editorial.models import PendingRevision

from .revisions import (
    pending_changes,
    proposals_of,
    revision_changes,
    schedule_note,
    short_time,
    stale_message,
    transitions_of,
)

# Fields only moderators may change once an entry is published or archived:
# its tags and its schedule decide what visitors see.
# (Other changes an editor makes to a published entry wait for a moderator:
# editorial.revisions.)
MODERATED_FIELDS_WHEN_LIVE = ("publish_at", "expire_at", "first_published_at")
# Tags a change-list row names before "+N more".
LIST_TAGS_SHOWN = 3
# Text fields edited as Markdown: they get the live preview button.
MARKDOWN_FIELDS = ("body", "summary", "description")
# Entry texts that may hold listing blocks (catalog.blocks).
BLOCK_FIELDS = ("body", "summary")
BLOCKS_HELP = (
    "Listing blocks, each on lines of their own: [[list vitamin-k2+bone]] (options: type=rct years=2010-2020 "
    'limit=10 heading="…") or [[picks Heading]], then one address per line, then [[/picks]].'
)


class EntryAdminForm(forms.ModelForm):
    """The change form of an article or study, aware of who is editing.

    ``edited_version`` carries the version the editor started from; a save
    based on an older one is refused with a link to the other change (the
    editor's text stays in the form). The status offers only what the user's
    role may reach from the stored status; save_model checks it again."""

    edited_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    workflow_comment = forms.CharField(
        label="Comment for the workflow log",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Saved with a change of status. Required when sending an entry back to draft "
        "from review: the author receives it as the reason.",
    )
    # Set by EntryAdmin.get_form: the form needs the user to offer choices.
    request = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self._meta.model
        self.stored = None
        if self.instance.pk is not None:
            # The stored row, not the instance: history's revert view passes
            # an old revision as the instance.
            self.stored = model._default_manager.filter(pk=self.instance.pk).values("status", "version").first()
        self.stored_status = self.stored["status"] if self.stored else Status.DRAFT
        self.fields["edited_version"].initial = self.stored["version"] if self.stored else None
        if "status" in self.fields:
            user = self.request.user if self.request else None
            self.fields["status"].choices = workflow.status_choices(user, self.stored_status)
            if self.stored is not None and not self.is_bound:
                self.initial["status"] = self.stored_status

    def clean(self):
        cleaned = super().clean()
        if self.stored is not None:
            self._check_version(cleaned.get("edited_version"))
        status = cleaned.get("status")
        if status and status != self.stored_status:
            user = self.request.user if self.request else None
            # The step this user may take, else the one they may not (so the message says why).
            action = workflow.action_between(self.stored_status, status, user) or workflow.action_between(
                self.stored_status, status
            )
            if action is None:
                self.add_error("status", "That change of status is not possible.")
            else:
                try:
                    workflow.check(
                        self.request.user if self.request else None,
                        action,
                        from_status=self.stored_status,
                        comment=cleaned.get("workflow_comment", ""),
                    )
                except PermissionDenied as error:
                    self.add_error("status", str(error))
                except workflow.TransitionError as error:
                    field = "workflow_comment" if action == WorkflowAction.REJECT else "status"
                    self.add_error(field, str(error))
        return cleaned

    def _check_version(self, edited_version):
        model = self._meta.model
        # Lock the row for the rest of the request (PostgreSQL; the admin
        # views run in a transaction): a concurrent save waits, then sees the
        # new version and is refused in turn.
        rows = model._default_manager.filter(pk=self.instance.pk)
        if connection.in_atomic_block:
            rows = rows.select_for_update()
        current = rows.values_list("version", flat=True).first()
        if edited_version == current:
            return
        # Save again = take the current version as the base: the editor has
        # been told, and the other change stays in the history.
        self.data = self.data.copy()
        self.data[self.add_prefix("edited_version")] = str(current)
        self.add_error(None, stale_message(model, self.instance.pk, edited_version, current))


class EntryActionForm(ActionForm):
    """The changelist's action bar, with the tag the tag actions apply."""

    tag = forms.CharField(
        required=False,
        label="Tag",
        max_length=100,
        help_text="For “add tag” and “remove tag”: an existing tag’s name.",
    )


class RefuseForbiddenActionsMixin:
    """A list action the user's role may not run is a 403, not Django's quiet
    "no action selected": the server, not the missing menu entry, is what
    stops an editor."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "action" in request.POST:
            name = request.POST.get("action", "")
            func = getattr(type(self), name, None) if name in (self.actions or ()) else None
            required = getattr(func, "allowed_permissions", ()) if func else ()
            if any(not getattr(self, f"has_{perm}_permission")(request) for perm in required):
                raise PermissionDenied(f"You may not run “{name}”.")
        return super().changelist_view(request, extra_context)


class EntryAdmin(RefuseForbiddenActionsMixin, SimpleHistoryAdmin):
    """Base admin for Study and Article."""

    form = EntryAdminForm
    action_form = EntryActionForm
    change_form_template = "admin/k2site/entry_change_form.html"
    object_history_template = "admin/k2site/entry_history.html"
    object_history_list_template = "admin/k2site/entry_history_list.html"
    actions = [
        "submit_selected",
        "publish_selected",
        "unpublish_selected",
        "archive_selected",
        "add_tag",
        "remove_tag",
    ]
    # Counting every row once more only to print "(N total)" costs a query
    # on each page view; the filtered count is enough.
    show_full_result_count = False
    list_per_page = 50
    list_max_show_all = 500
    save_on_top = True
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    class Media:
        js = ["k2site/admin/markdown_preview.js"]
        css = {"all": ["k2site/admin/editorial.css"]}

    # -- permissions --

    def has_moderate_permission(self, request):
        return workflow.may_moderate(request.user)

    def has_submit_permission(self, request):
        return workflow.may(request.user, WorkflowAction.SUBMIT)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if (
            obj is not None
            and obj.status in {Status.PUBLISHED, Status.ARCHIVED}
            and not workflow.may_moderate(request.user)
        ):
            own_fields = {field.name for field in self.model._meta.get_fields()}
            readonly += [name for name in MODERATED_FIELDS_WHEN_LIVE if name in own_fields and name not in readonly]
        return readonly

    # -- the form --

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        # The workflow fields go last, in their own box.
        names = [name for _, options in fieldsets for name in options["fields"]]
        main = [name for name in names if name not in {"status", "workflow_comment", "edited_version"}]
        workflow_fields = ["status", "workflow_comment"]
        workflow_fields += [name for name in ("publish_at", "expire_at") if name in main]
        main = [name for name in main if name not in workflow_fields]
        return [
            (None, {"fields": [*main, "edited_version"]}),
            ("Publishing", {"fields": workflow_fields}),
        ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "tags":
            # Pick existing tags by autocomplete (TagAdmin.search_fields): a
            # page of 20 matches at a time, whatever the size of the
            # vocabulary; new tags are made by moderators in the tag admin.
            return forms.ModelMultipleChoiceField(
                queryset=Tag.objects.all(),
                required=False,
                widget=AutocompleteSelectMultiple(db_field, self.admin_site),
                help_text="Type to find a tag. Moderators add new tags under “Tags”.",
            )
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in MARKDOWN_FIELDS and field is not None:
            field.widget.attrs["data-markdown-preview"] = reverse("preview-markdown")
            if db_field.name in BLOCK_FIELDS:
                field.help_text = f"{field.help_text} {BLOCKS_HELP}".strip()
        return field

    # -- saving: workflow and locking --

    def save_model(self, request, obj, form, change):
        # The workflow checks the step again here, not only in the form: the
        # form is one way in.
        if change and revisions.needs_review(request.user, form.stored_status):
            # The live entry stays as it is; the change waits for a moderator.
            changes, relations = revisions.changes_from_form(obj, form)
            request.k2_revision = revisions.propose(
                obj,
                user=request.user,
                changes=changes,
                relations=relations,
                base_version=form.cleaned_data.get("edited_version"),
            )
            # Tags and relations are in the proposal: the form must not save
            # them (simple_history's restore calls save_m2m() itself).
            form.save_m2m = lambda: None
            return
        restoring = getattr(request, "k2_restoring", None)
        workflow.save_with_status(
            obj,
            user=request.user,
            from_status=form.stored_status,
            comment=form.cleaned_data.get("workflow_comment", ""),
            expected_version=form.cleaned_data.get("edited_version"),
            save=lambda: super(EntryAdmin, self).save_model(request, obj, form, change),
            reason=f"Restored from revision {restoring}" if restoring else "",
        )

    def save_related(self, request, form, formsets, change):
        if hasattr(request, "k2_revision"):
            return  # tags and relations are part of the pending revision
        super().save_related(request, form, formsets, change)

    def log_change(self, request, obj, message):
        if hasattr(request, "k2_revision"):
            message = "Proposed changes for review." if request.k2_revision else "No change."
        return super().log_change(request, obj, message)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return self._changeform_in_one_sync(request, object_id, form_url, extra_context)
        except workflow.StaleVersion:
            # Lost a race between the form's check and the save (possible on
            # SQLite, which has no row locks). The transaction rolled back;
            # handling the same POST again now fails the form's check and
            # explains, with the editor's text still in the form.
            return self._changeform_in_one_sync(request, object_id, form_url, extra_context)

    def _changeform_in_one_sync(self, request, object_id, form_url, extra_context):
        # Saving the fields, then the tags, each signal the listing index:
        # sync the entry once, at the end, inside the form's transaction.
        with transaction.atomic(), deferred_sync():
            return super().changeform_view(request, object_id, form_url, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Revert to a revision: the same locking and workflow checks as a save,
        and "Restored from revision N" as the new revision's reason."""
        request.k2_restoring = version_id
        try:
            with transaction.atomic(), deferred_sync():
                return super().history_form_view(request, object_id, version_id, extra_context)
        except workflow.StaleVersion:
            with transaction.atomic(), deferred_sync():
                return super().history_form_view(request, object_id, version_id, extra_context)

    def response_add(self, request, obj, post_url_continue=None):
        if "_preview" in request.POST:
            return HttpResponseRedirect(self.preview_url(obj))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if hasattr(request, "k2_revision"):
            if request.k2_revision is None:
                self.message_user(request, "Nothing changed.", messages.INFO)
            else:
                self.message_user(
                    request,
                    "Saved for review: visitors see the published version until a moderator approves your changes.",
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(admin_url(obj))
        if "_preview" in request.POST:
            return HttpResponseRedirect(self.preview_url(obj))
        return super().response_change(request, obj)

    def view_on_site(self, obj):
        # The public page exists only while the entry is visible; "Preview"
        # covers the other states.
        return obj.get_absolute_url() if obj.is_published else None

    def preview_url(self, obj):
        return reverse(f"preview-{obj._meta.model_name}", args=[obj.pk])

    # -- the change page --

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = extra_context or {}
        if obj is not None:
            extra_context.update(
                transitions=list(transitions_of(obj)[:50]),
                workflow_actions=[
                    (action.value, action.label) for action in workflow.available_actions(request.user, obj.status)
                ],
                workflow_url=admin_url(obj, "workflow"),
                preview_url=self.preview_url(obj),
                stored_version=obj.version,
                stored_status=obj.get_status_display(),
                schedule_note=schedule_note(obj),
                pending_revision=PendingRevision.objects.pending().of(obj).select_related("author").first(),
                revision_url=admin_url(obj, "revision"),
                needs_review=revisions.needs_review(request.user, obj.status),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        prefix = f"{self.model._meta.app_label}_{self.model._meta.model_name}"
        return [
            path(
                "<path:object_id>/workflow/",
                self.admin_site.admin_view(self.workflow_view),
                name=f"{prefix}_workflow",
            ),
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name=f"{prefix}_compare",
            ),
            path(
                "<path:object_id>/revision/",
                self.admin_site.admin_view(self.revision_view),
                name=f"{prefix}_revision",
            ),
            *super().get_urls(),
        ]

    def workflow_view(self, request, object_id):
        """POST ``action`` (+ ``comment``, ``version``): one workflow step.
        A role that may not take the step gets a 403 and nothing changes."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404
        try:
            action = WorkflowAction(request.POST.get("action", ""))
        except ValueError:
            messages.error(request, "Unknown workflow action.")
            return HttpResponseRedirect(admin_url(obj))
        try:
            version = int(request.POST["version"]) if request.POST.get("version") else None
        except ValueError:
            version = None
        # workflow.transition raises PermissionDenied (403) for the wrong role.
        try:
            workflow.transition(
                obj, action, user=request.user, comment=request.POST.get("comment", ""), expected_version=version
            )
        except workflow.TransitionError as error:
            messages.error(request, str(error))
        except workflow.StaleVersion:
            messages.error(
                request,
                f"Not done: this {obj._meta.verbose_name} changed since you opened the page. "
                "Look at the current version below, then try again.",
            )
        else:
            messages.success(request, f"{action.label}: “{obj}” is now {obj.get_status_display().lower()}.")
        next_url = request.POST.get("next", "")
        if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            return HttpResponseRedirect(next_url)
        return HttpResponseRedirect(admin_url(obj))

    def revision_view(self, request, object_id):
        """The pending change to a published entry, as a diff against the live
        version; POST ``decision`` approve / reject (with ``reason``) / withdraw."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404
        revision = PendingRevision.objects.pending().of(obj).select_related("author").first()
        if request.method == "POST":
            if revision is None:
                messages.error(request, "No change is waiting for this entry any more.")
                return HttpResponseRedirect(admin_url(obj))
            decision = request.POST.get("decision", "")
            try:
                if decision == "approve":
                    revisions.approve(revision, user=request.user, comment=request.POST.get("reason", ""))
                    messages.success(request, "Approved: the changes are live.")
                elif decision == "reject":
                    revisions.reject(revision, user=request.user, reason=request.POST.get("reason", ""))
                    messages.success(request, "Rejected: the author has been told why.")
                elif decision == "withdraw":
                    revisions.withdraw(revision, user=request.user)
                    messages.success(request, "Withdrawn.")
                else:
                    messages.error(request, "Unknown decision.")
            except workflow.TransitionError as error:
                messages.error(request, str(error))
                return HttpResponseRedirect(admin_url(obj, "revision"))
            return HttpResponseRedirect(admin_url(obj))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Changes waiting for review: {obj}",
            "opts": self.model._meta,
            "object": obj,
            "revision": revision,
            "changes": pending_changes(self.model, obj, revision) if revision else [],
            "changed_since": revision is not None and revision.base_version != obj.version,
            "may_moderate": workflow.may_moderate(request.user),
            "may_withdraw": revision is not None
            and (workflow.may_moderate(request.user) or revision.author_id == request.user.pk),
            "change_url": admin_url(obj),
            "decided": PendingRevision.objects.of(obj)
            .exclude(status="pending")
            .select_related("author", "decided_by")[:20],
        }
        return render(request, "admin/k2site/pending_revision.html", context)

    def compare_view(self, request, object_id):
        """A diff between two revisions (``old`` and ``new`` history ids;
        default: the one before the newest, and the newest)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_history_or_change_history_permission(request, obj):
            raise PermissionDenied
        history = self.model.history.filter(id=obj.pk).select_related("history_user")
        try:
            old_id = int(request.GET.get("old", 0))
            new_id = int(request.GET.get("new", 0))
        except ValueError:
            old_id = new_id = 0
        revisions = list(history.filter(history_id__in=[old_id, new_id])) if old_id and new_id else []
        by_id = {revision.history_id: revision for revision in revisions}
        if old_id in by_id and new_id in by_id:
            old, new = by_id[old_id], by_id[new_id]
        elif not request.GET:
            latest_two = list(history.order_by("-history_date", "-history_id")[:2])
            if len(latest_two) < 2:
                messages.info(request, "There is only one revision so far.")
                return HttpResponseRedirect(admin_url(obj, "history"))
            new, old = latest_two
        else:
            raise Http404("No such revisions of this entry.")
        if (old.history_date, old.history_id) > (new.history_date, new.history_id):
            old, new = new, old
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare revisions: {obj}",
            "opts": self.model._meta,
            "object": obj,
            "old": old,
            "new": new,
            "changes": revision_changes(self.model, old, new),
            "old_label": f"Version {old.version}",
            "new_label": f"Version {new.version}",
            "history_url": admin_url(obj, "history"),
            "change_url": admin_url(obj),
        }
        return render(request, "admin/k2site/compare_revisions.html", context)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["transitions"] = list(transitions_of(obj)[:200])
            extra_context["compare_url"] = admin_url(obj, "compare")
            extra_context["proposals"] = proposals_of(obj)
        return super().history_view(request, object_id, extra_context)

    # -- the list --

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description="status", ordering="status")
    def status_label(self, obj):
        if obj.status == Status.PUBLISHED:
            now = timezone.now()
            if obj.publish_at and obj.publish_at > now:
                return format_html(
                    '<span class="wf-status wf-scheduled">Scheduled {}</span>', short_time(obj.publish_at)
                )
            if obj.expire_at and obj.expire_at <= now:
                return format_html('<span class="wf-status wf-expired">Expired {}</span>', short_time(obj.expire_at))
        return format_html('<span class="wf-status wf-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description="tags")
    def tag_names(self, obj):
        # Reads the prefetch; tags.names() would query per row. Three at most:
        # the column must not push the list wider than the screen.
        names = sorted(tag.name for tag in obj.tags.all())
        shown = ", ".join(names[:LIST_TAGS_SHOWN])
        return f"{shown} (+{len(names) - LIST_TAGS_SHOWN} more)" if len(names) > LIST_TAGS_SHOWN else shown

    @admin.display(description="preview")
    def preview_link(self, obj):
        return format_html('<a href="{}">Preview</a>', self.preview_url(obj))

    # -- actions --

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Deleting is rare and final: from the change page only.
        actions.pop("delete_selected", None)
        return actions

    def _bulk(self, request, queryset, action):
        try:
            changed, skipped = workflow.bulk_transition(queryset, action, user=request.user)
        except workflow.TransitionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        label = WorkflowAction(action).label
        self.message_user(request, f"{label}: {len(changed)} changed.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} skipped: not in a state “{label.lower()}” applies to.", messages.WARNING
            )

    @admin.action(description="Submit selected for review", permissions=["submit"])
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, WorkflowAction.SUBMIT)

    @admin.action(description="Publish selected", permissions=["moderate"])
    def publish_selected(self, request, queryset):
        self._bulk(request, queryset, WorkflowAction.PUBLISH)

    @admin.action(description="Unpublish selected (back to draft)", permissions=["moderate"])
    def unpublish_selected(self, request, queryset):
        self._bulk(request, queryset, WorkflowAction.UNPUBLISH)

    @admin.action(description="Archive selected", permissions=["moderate"])
    def archive_selected(self, request, queryset):
        self._bulk(request, queryset, WorkflowAction.ARCHIVE)

    def _action_tag(self, request):
        name = (request.POST.get("tag") or "").strip()
        if not name:
            self.message_user(request, "Type the tag’s name in the “Tag” box next to the action.", messages.ERROR)
            return None
        tag = Tag.objects.filter(Q(name__iexact=name) | Q(slug=name)).first()
        if tag is None:
            self.message_user(
                request, f"There is no tag “{name}”. Moderators create tags under “Tags”.", messages.ERROR
            )
        return tag

    @admin.action(description="Add tag to selected", permissions=["moderate"])
    def add_tag(self, request, queryset):
        tag = self._action_tag(request)
        if tag is not None:
            count = tag_operations.bulk_add_tag(queryset, tag, user=request.user)
            self.message_user(request, f"Tag “{tag.name}” added to {count}.", messages.SUCCESS)

    @admin.action(description="Remove tag from selected", permissions=["moderate"])
    def remove_tag(self, request, queryset):
        tag = self._action_tag(request)
        if tag is not None:
            count = tag_operations.bulk_remove_tag(queryset, tag, user=request.user)
            self.message_user(request, f"Tag “{tag.name}” removed from {count}.", messages.SUCCESS)
