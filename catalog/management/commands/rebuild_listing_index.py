"""Rebuild the public listing index (entries, postings under the category
tree, tag and pair counts) from the articles and studies: after an upgrade
that adds a column to the listing rows, or to repair drift."""

from django.core.management.base import BaseCommand

from catalog import registry
from catalog.indexing import recount_tags, sync_entries

BATCH = 2000


class Command(BaseCommand):
    help = "Resync every article and study into the listing index, then recount the tags."

    def handle(self, *args, **options):
        for model in registry.models():
            ids = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(ids), BATCH):
                sync_entries(list(model._default_manager.filter(pk__in=ids[start : start + BATCH])))
            self.stdout.write(f"{model._meta.verbose_name_plural}: {len(ids)} synced")
        recount_tags()
        self.stdout.write("Tag and pair counts recounted.")
