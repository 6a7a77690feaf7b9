from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The read-only JSON API (/api/v1/): published studies, articles and categories as data."""

    name = "api"
    verbose_name = "JSON API"
