"""Keep the listing index in step with every write to an article or study.

Signals, against the house habit, because the index must follow *every* write
path — admin forms and inlines, taggit's managers, the shell, data
migrations — and a missed one would show a visitor a stale or unpublished
entry. Bulk paths skip signals (bulk_create) and call ``sync_entries`` once.
"""

from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver

from articles.models import Article, TaggedArticle
from studies.models import Study, TaggedStudy

from .services import forget_entry, sync_entries


@receiver(post_save, sender=Study)
@receiver(post_save, sender=Article)
def entry_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        sync_entries([instance])


@receiver(m2m_changed, sender=TaggedStudy)
@receiver(m2m_changed, sender=TaggedArticle)
def entry_tags_changed(sender, instance, action, **kwargs):
    # taggit sends these with the tagged object as the instance.
    if action in {"post_add", "post_remove", "post_clear"} and isinstance(instance, (Study, Article)):
        sync_entries([instance])


@receiver(pre_delete, sender=Study)
@receiver(pre_delete, sender=Article)
def entry_deleted(sender, instance, **kwargs):
    forget_entry(instance)
