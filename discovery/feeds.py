"""Atom feeds: the whole site (/feed/) and each tag or intersection
(/tags/<slug>[+<slug>…]/feed/), newest first, published entries only.

A feed reads its entries from the listing index, then what the entries say
(abstracts, leads) and their tags in one query each: a fixed number of
queries whatever the number of items.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, prefetch_related_objects
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.text import Truncator

from articles.models import Article
from catalog.filters import ListingFilterForm
from catalog.models import Entry, EntryKind, EntryTag
from catalog.selectors import resolve_tags, tag_heading
from catalog.views import canonical_redirect
from common.fulltext import plain_text
from studies.models import Study

FEED_SIZE = 50
SUMMARY_WORDS = 60


def with_feed_details(entries):
    """Attach ``feed_summary`` and ``feed_tags`` to each entry (three queries)."""
    entries = list(entries)
    postings = Prefetch("postings", queryset=EntryTag.objects.select_related("tag").order_by("tag__name"))
    prefetch_related_objects(entries, postings)
    study_ids = [entry.study_id for entry in entries if entry.kind == EntryKind.STUDY]
    article_ids = [entry.article_id for entry in entries if entry.kind == EntryKind.ARTICLE]
    texts = {}
    if study_ids:
        for pk, summary, abstract, journal in Study.objects.filter(pk__in=study_ids).values_list(
            "pk", "summary", "abstract", "journal"
        ):
            texts[EntryKind.STUDY, pk] = (journal + ". " if journal else "") + plain_text(summary or abstract)
    if article_ids:
        for pk, lead in Article.objects.filter(pk__in=article_ids).values_list("pk", "lead"):
            texts[EntryKind.ARTICLE, pk] = plain_text(lead)
    for entry in entries:
        text = texts.get((entry.kind, entry.study_id or entry.article_id), "")
        entry.feed_summary = Truncator(text).words(SUMMARY_WORDS)
        entry.feed_tags = [posting.tag.name for posting in entry.postings.all()]
    return entries


class PlainTextAtomFeed(Atom1Feed):
    """Atom whose <summary> is type="text": a summary is plain text from
    staff (abstracts, highlights), so feed readers must show it as written —
    "p < 0.05" stays, and markup someone typed is never run as HTML."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


class EntryFeed(Feed):
    feed_type = PlainTextAtomFeed

    def author_name(self):
        return settings.SITE_NAME

    def item_title(self, entry):
        # "[Retracted] …": a feed reader shows the title, and little else.
        return f"[{entry.notice_label}] {entry.title}" if entry.notice else entry.title

    def item_link(self, entry):
        return entry.get_absolute_url()

    def item_description(self, entry):
        # Atom <summary>: plain text, escaped by the feed generator.
        return entry.feed_summary

    def item_pubdate(self, entry):
        return entry.publish_at

    def item_updateddate(self, entry):
        return max(filter(None, [entry.updated_at, entry.publish_at]), default=None)

    def item_categories(self, entry):
        return [entry.notice_label, *entry.feed_tags] if entry.notice else entry.feed_tags


class SiteFeed(EntryFeed):
    def title(self):
        return settings.SITE_NAME

    def subtitle(self):
        return "New articles and study summaries, newest first."

    def link(self):
        return reverse("home")

    def feed_url(self):
        return reverse("feed")

    def items(self):
        return with_feed_details(Entry.objects.published().listing()[:FEED_SIZE])


class TagFeed(EntryFeed):
    """Entries carrying every tag named in the address, with the tag page's
    filters (``?type=rct&year_min=2015``, ``direct=1``) when given."""

    def __call__(self, request, slugs):
        tags, canonical = resolve_tags(slugs)
        if canonical is not None:
            return canonical_redirect(request, "tags:feed", canonical)
        form = ListingFilterForm(request.GET)
        request.feed_listing = FeedListing(
            tags=tags,
            # A feed is newest first whatever the page's sort.
            filters={**form.values, "sort": "newest"},
            direct=request.GET.get("direct") == "1",
            applied=[f"{label}: {value}" for label, value, _url in form.applied() if label != "Sort"],
        )
        return super().__call__(request, slugs=slugs)

    def get_object(self, request, slugs):
        return request.feed_listing

    def title(self, listing):
        applied = f" ({', '.join(listing.applied)})" if listing.applied else ""
        return f"{tag_heading(listing.tags)}{applied} – {settings.SITE_NAME}"

    def subtitle(self, listing):
        return "Articles and study summaries, newest first."

    def link(self, listing):
        return reverse("tags:detail", kwargs={"slugs": "+".join(tag.slug for tag in listing.tags)})

    def feed_url(self, listing):
        return reverse("tags:feed", kwargs={"slugs": "+".join(tag.slug for tag in listing.tags)})

    def items(self, listing):
        postings = EntryTag.objects.published_with_all(listing.tags, direct=listing.direct, filters=listing.filters)
        return with_feed_details(posting.entry for posting in postings[:FEED_SIZE])


@dataclass
class FeedListing:
    tags: list
    filters: dict
    direct: bool
    applied: list
