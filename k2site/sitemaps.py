from django.contrib.sitemaps import Sitemap

from .models import Entry, Tag


class EntrySitemap(Sitemap):
    """Every published article and study, split into pages of 50,000."""

    def items(self):
        return Entry.objects.published().only("kind", "slug", "updated_at").order_by("id")

    def location(self, entry):
        return entry.get_absolute_url()

    def lastmod(self, entry):
        return entry.updated_at


class TagSitemap(Sitemap):
    def items(self):
        return Tag.objects.filter(entry_count__gt=0).only("slug").order_by("id")


SITEMAPS = {"entries": EntrySitemap, "tags": TagSitemap}
