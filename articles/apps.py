from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    """Articles: long-form explainers with headed sections that link to studies."""

    name = "articles"

    def ready(self):
        from catalog import registry
        from catalog.models import EntryKind

        from .models import Article

        registry.register(Article, kind=EntryKind.ARTICLE)
