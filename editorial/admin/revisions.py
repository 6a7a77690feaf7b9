"""What the change and history pages say about an entry: its workflow log,
its schedule, a diff between revisions, and why a stale save was refused."""

import difflib

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.html import format_html

from catalog.models import Status, Tag, Transition
from common.admin_urls import admin_url
from editorial.models import PendingRevision
from editorial.revisions import to_json


def stale_message(model, pk, edited_version, current_version):
    """Why a save based on an old version was refused, with links to the
    other change and to the current version."""
    opts = model._meta
    history = model.history.filter(id=pk)
    theirs = history.order_by("-history_date", "-history_id").first()
    yours = history.filter(version=edited_version).order_by("-history_date", "-history_id").first()
    who = theirs.history_user if theirs and theirs.history_user else "someone else"
    when = timezone.localtime(theirs.history_date).strftime("%H:%M on %d %b %Y") if theirs else "meanwhile"
    compare = admin_url(model, "compare", pk)
    if yours and theirs:
        compare += f"?old={yours.history_id}&new={theirs.history_id}"
    return format_html(
        "Not saved: {} changed this {} at {} while you were editing it. Your changes are still in the "
        'form below (a file you chose must be chosen again). <a href="{}" target="_blank">See what they changed</a>. '
        'Save again to replace their version with yours (theirs stays in the history), or <a href="{}">reload</a> '
        "to start from theirs.",
        who,
        opts.verbose_name,
        when,
        compare,
        admin_url(model, "change", pk),
    )


def short_time(moment):
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M")


def transitions_of(obj):
    """The workflow log of one article or study, newest first."""
    return Transition.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("actor")


def schedule_note(obj):
    if obj.status != Status.PUBLISHED:
        return ""
    now = timezone.now()
    if obj.publish_at and obj.publish_at > now:
        return f"Scheduled: visible from {short_time(obj.publish_at)} (UTC)."
    if obj.expire_at and obj.expire_at <= now:
        return f"Expired on {short_time(obj.expire_at)} (UTC): hidden from visitors."
    if obj.expire_at:
        return f"Visible until {short_time(obj.expire_at)} (UTC)."
    return "Visible to visitors."


def revision_changes(model, old, new):
    """[(label, old text, new text, diff lines or None)] for the fields that
    differ between two historical records; long texts get a line diff."""
    delta = new.diff_against(old, foreign_keys_are_objs=False)
    return change_rows(model, [(change.field, change.old, change.new) for change in delta.changes])


def pending_changes(model, entry, revision):
    """The same rows for a pending revision against the live ``entry``,
    tags and relations included (as names)."""
    changed = []
    for name, value in revision.changes.items():
        field = model._meta.get_field(name)
        live = field.value_from_object(entry)
        if to_json(field, live) != value:
            changed.append((name, to_json(field, live), value))
    rows = change_rows(model, changed)
    for name, ids in revision.relations.items():
        related = model._meta.get_field(name).related_model
        live = sorted(str(item) for item in getattr(entry, name).all())
        proposed = sorted(str(item) for item in related._default_manager.filter(pk__in=ids))
        if live != proposed:
            rows.append((model._meta.get_field(name).verbose_name, ", ".join(live), ", ".join(proposed), None))
    return rows


def change_rows(model, changes):
    """[(label, old text, new text, diff lines or None)] for [(field, old, new)]."""
    rows = []
    for name, old, new in changes:
        field = model._meta.get_field(name)
        old_text, new_text = _display(field, old), _display(field, new)
        lines = None
        if "\n" in old_text or "\n" in new_text or len(old_text) + len(new_text) > 200:
            lines = [
                (line[:1], line[2:])
                for line in difflib.ndiff(old_text.splitlines(), new_text.splitlines())
                if not line.startswith("?")
            ]
        rows.append((field.verbose_name, old_text, new_text, lines))
    return rows


def _display(field, value):
    if value is None or value == "":
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def proposals_of(entry, limit=50):
    """The changes proposed for review on ``entry``, newest first, each with
    ``tag_names``: the tag set it proposed, when it changed the tags (the
    entry's history records fields; tags live in these proposals and in the
    workflow log)."""
    proposals = list(PendingRevision.objects.of(entry).select_related("author", "decided_by")[:limit])
    ids = {pk for proposal in proposals for pk in proposal.relations.get("tags", [])}
    names = dict(Tag.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    for proposal in proposals:
        tags = proposal.relations.get("tags")
        proposal.tag_names = None if tags is None else sorted(names.get(pk, "(deleted tag)") for pk in tags)
        proposal.field_names = sorted(proposal.changes)
    return proposals
