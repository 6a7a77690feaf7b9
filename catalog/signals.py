"""Keep the listing index in step with every write to an article or study.

Signals, against the house habit, because the index must follow *every* write
path — admin forms and inlines, taggit's managers, the shell, data
migrations — and a missed one would show a visitor a stale or unpublished
entry. Bulk paths skip signals (bulk_create) and call ``sync_entries`` once.
The receivers are connected for each model that joins the registry
(catalog.registry.register).
"""

from django.db.models.signals import m2m_changed, post_save, pre_delete

from . import registry
from .indexing import entry_changed, forget_entry


def entry_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        entry_changed(instance)


def entry_tags_changed(sender, instance, action, **kwargs):
    # taggit sends these with the tagged object as the instance.
    if action in {"post_add", "post_remove", "post_clear"} and isinstance(instance, tuple(registry.models())):
        entry_changed(instance)


def entry_deleted(sender, instance, **kwargs):
    forget_entry(instance)


def connect(model):
    uid = f"catalog.index.{model._meta.label_lower}"
    post_save.connect(entry_saved, sender=model, dispatch_uid=f"{uid}.saved")
    m2m_changed.connect(entry_tags_changed, sender=model.tags.through, dispatch_uid=f"{uid}.tags")
    pre_delete.connect(entry_deleted, sender=model, dispatch_uid=f"{uid}.deleted")
