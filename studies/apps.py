from django.apps import AppConfig


class StudiesConfig(AppConfig):
    """Studies: one published paper each, with its citation, exports, filters
    and the reference-file importer."""

    name = "studies"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from catalog import registry
        from catalog.models import EntryKind

        from . import pdf
        from .models import Study, StudyType, study_type_label

        labels = {str(value): study_type_label(value) for value in StudyType.values}
        registry.register(Study, kind=EntryKind.STUDY, type_labels=labels, type_choices=StudyType.choices)
        # Signals, so every write path (admin, shell, revert) drops old files.
        post_save.connect(pdf.pdf_replaced, sender=Study, dispatch_uid="studies.pdf_replaced")
        post_delete.connect(pdf.study_deleted, sender=Study, dispatch_uid="studies.pdf_deleted")
