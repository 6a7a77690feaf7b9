"""The admin, split by concern: entries (the article and study admins' base),
tags, the moderation queue and log; Django's autodiscovery imports this."""

from django.conf import settings
from django.contrib import admin
from taggit.models import Tag as TaggitTag

from . import queue, tags  # noqa: F401  (register their admins)

# The site's name on every admin page.
admin.site.site_header = f"{settings.SITE_NAME} admin"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.index_title = "Editing and moderation"
# No app sidebar beside every page: the change lists need the width (the
# index and the breadcrumbs lead everywhere it did).
admin.site.enable_nav_sidebar = False

# taggit registers its own Tag model, which this site never uses (its tags are
# catalog.Tag): one "Tags" entry in the admin, not an always empty second one.
if admin.site.is_registered(TaggitTag):
    admin.site.unregister(TaggitTag)
