"""The sitemap: every published entry, every tag page in use, and the
two-tag intersections with at least SITEMAP_MIN_INTERSECTION_ENTRIES entries."""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse

from catalog.models import Entry, EntryTag, Tag, TagPair, published_q


class EntrySitemap(Sitemap):
    """Every published article and study, split into pages of 50,000."""

    def items(self):
        return Entry.objects.published().only("kind", "slug", "updated_at").order_by("id")

    def location(self, entry):
        return entry.get_absolute_url()

    def lastmod(self, entry):
        return entry.updated_at


def tags_with_last_change():
    """Tags in use, each annotated ``last_change``: the latest change among
    the entries on its first page."""
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


class TagSitemap(Sitemap):
    """Every tag page in use. Its lastmod is the latest change (edit or
    publication) among the entries on its first page: one query, reading at
    most a page of postings per tag instead of all 400,000 of a popular one."""

    def items(self):
        return tags_with_last_change()

    def lastmod(self, tag):
        return tag.last_change


class IntersectionSitemap(Sitemap):
    """Every pair of tags sharing at least SITEMAP_MIN_INTERSECTION_ENTRIES
    published entries, at its canonical address. Its lastmod is the earlier
    of its two tags' (an entry changing in both changes both, so the pair
    changed no later than that): two queries whatever the number of pairs."""

    def items(self):
        last_change = {tag.pk: (tag.slug, tag.last_change) for tag in tags_with_last_change()}
        pairs = TagPair.objects.filter(
            tag_id__lt=F("other_id"), entry_count__gte=settings.SITEMAP_MIN_INTERSECTION_ENTRIES
        ).order_by("tag_id", "other_id")
        items = []
        for tag_id, other_id in pairs.values_list("tag_id", "other_id").iterator(chunk_size=10000):
            if tag_id in last_change and other_id in last_change:
                (slug, changed), (other_slug, other_changed) = last_change[tag_id], last_change[other_id]
                dates = [date for date in (changed, other_changed) if date is not None]
                items.append(("+".join(sorted((slug, other_slug))), min(dates) if dates else None))
        return items

    def location(self, item):
        return reverse("tags:detail", kwargs={"slugs": item[0]})

    def lastmod(self, item):
        return item[1]


SITEMAPS = {"entries": EntrySitemap, "tags": TagSitemap, "intersections": IntersectionSitemap}
