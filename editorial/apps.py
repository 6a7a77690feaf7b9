from django.apps import AppConfig
from django.db.models.signals import post_migrate


class EditorialConfig(AppConfig):
    """How entries reach the public: the workflow, roles, notifications, tag
    operations and the admin that offers them. No models of its own: the
    workflow log lives with the catalog."""

    name = "editorial"
    verbose_name = "Editorial"

    def ready(self):
        from .roles import restore_missing_groups

        post_migrate.connect(restore_missing_groups, dispatch_uid="editorial.restore_missing_groups")
