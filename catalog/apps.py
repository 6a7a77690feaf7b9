from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """What articles and studies share: publishing state, tags, the listing
    index and its upkeep, and the tag and intersection pages.

    The label stays "k2site" (the app's name before it was split out of the
    project package), so tables, migrations, permission codenames and
    /admin/k2site/… addresses are unchanged."""

    name = "catalog"
    label = "k2site"
    verbose_name = "K2 Site"
