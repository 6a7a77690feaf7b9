from django.apps import AppConfig


class K2SiteConfig(AppConfig):
    name = "k2site"
    verbose_name = "K2 Site"

    def ready(self):
        from . import signals  # noqa: F401  (connects the listing-index receivers)
