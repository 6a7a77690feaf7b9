from django.apps import AppConfig


class StudiesConfig(AppConfig):
    """Studies: one published paper each, with its citation, exports, filters
    and the reference-file importer."""

    name = "studies"

    def ready(self):
        from catalog import registry
        from catalog.models import EntryKind

        from .models import Study

        registry.register(Study, kind=EntryKind.STUDY)
