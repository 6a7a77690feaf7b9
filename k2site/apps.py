from django.apps import AppConfig
from django.db.models.signals import post_migrate


class K2SiteConfig(AppConfig):
    name = "k2site"
    verbose_name = "K2 Site"

    def ready(self):
        from . import signals  # noqa: F401  (connects the listing-index receivers)
        from .roles import restore_missing_groups

        post_migrate.connect(restore_missing_groups, dispatch_uid="k2site.restore_missing_groups")
