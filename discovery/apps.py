from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    """Search, feeds and sitemaps over published articles and studies."""

    name = "discovery"
