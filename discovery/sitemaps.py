"""The sitemap: every published entry and every tag page in use."""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest

from catalog.models import Entry, EntryTag, Tag, published_q


class EntrySitemap(Sitemap):
    """Every published article and study, split into pages of 50,000."""

    def items(self):
        return Entry.objects.published().only("kind", "slug", "updated_at").order_by("id")

    def location(self, entry):
        return entry.get_absolute_url()

    def lastmod(self, entry):
        return entry.updated_at


class TagSitemap(Sitemap):
    """Every tag page in use. Its lastmod is the latest change (edit or
    publication) among the entries on its first page: one query, reading at
    most a page of postings per tag instead of all 400,000 of a popular one."""

    def items(self):
        first_page = (
            EntryTag.objects.filter(published_q(prefix="entry__"), tag_id=OuterRef(OuterRef("pk")))
            .order_by("-sort_date", "-entry_id")
            .values("entry_id")[: settings.LISTING_PAGE_SIZE]
        )
        latest_change = (
            Entry.objects.filter(pk__in=first_page)
            .annotate(changed=Greatest(Coalesce("updated_at", "publish_at"), Coalesce("publish_at", "updated_at")))
            .order_by(F("changed").desc(nulls_last=True))
            .values("changed")[:1]
        )
        return Tag.objects.visible().only("slug").annotate(last_change=Subquery(latest_change)).order_by("id")

    def lastmod(self, tag):
        return tag.last_change


SITEMAPS = {"entries": EntrySitemap, "tags": TagSitemap}
