"""seed_bench writes what the site's own write path would: the listing index
and the tag counts agree with sync_entries and recount_tags (COPY on
PostgreSQL, the ORM on SQLite)."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.models import Article
from catalog.indexing import recount_tags, sync_entries
from catalog.models import Entry, EntryKind, EntryTag, Tag, TagPair
from studies.models import Study, TaggedStudy

pytestmark = pytest.mark.django_db

ENTRY_FIELDS = [
    "kind",
    "study_id",
    "article_id",
    "title",
    "slug",
    "type_label",
    "year",
    "month",
    "sort_date",
    "status",
    "publish_at",
    "expire_at",
    "counted",
]


def seed(**options):
    call_command(
        "seed_bench",
        **{"studies": 300, "articles": 20, "tags": 25, "seed": 7, "jobs": 0, **options},
        stdout=StringIO(),
    )


def index_snapshot():
    entries = {
        (entry["kind"], entry["study_id"] or entry["article_id"]): entry
        for entry in Entry.objects.values(*ENTRY_FIELDS)
    }
    postings = Counter(
        (kind, study_id or article_id, tag_id, sort_date)
        for kind, study_id, article_id, tag_id, sort_date in EntryTag.objects.values_list(
            "entry__kind", "entry__study_id", "entry__article_id", "tag_id", "sort_date"
        )
    )
    return entries, postings


def counts_snapshot():
    return (
        dict(Tag.objects.values_list("pk", "entry_count")),
        {
            (a, b): n
            for a, b, n in TagPair.objects.filter(entry_count__gt=0).values_list("tag_id", "other_id", "entry_count")
        },
    )


def test_seeds_realistic_entries():
    seed()
    assert Study.objects.count() == 300 and Article.objects.count() == 20
    assert Entry.objects.filter(kind=EntryKind.STUDY).count() == 300
    assert Entry.objects.filter(kind=EntryKind.ARTICLE).count() == 20
    assert Tag.objects.count() == 25
    per_study = Counter(TaggedStudy.objects.values_list("content_object_id", flat=True))
    assert set(per_study.values()) <= {3, 4, 5, 6} and len(per_study) == 300
    hidden = Entry.objects.exclude(pk__in=Entry.objects.published()).count()
    assert 3 <= hidden <= 40  # about 5%
    # Long tail: the most used tag is on several times more entries than the median one.
    used = sorted(Tag.objects.values_list("entry_count", flat=True), reverse=True)
    assert used[0] > 3 * used[len(used) // 2]
    years = set(Study.objects.exclude(year=None).values_list("year", flat=True))
    assert max(years) - min(years) >= 20
    study = Study.objects.exclude(abstract="").first()
    assert len(study.abstract.split()) > 20 and study.authors and study.journal and study.slug
    assert Entry.objects.published().filter(kind=EntryKind.STUDY).exists()


def test_listing_index_and_counts_match_what_the_site_writes():
    seed()
    entries, postings = index_snapshot()
    tag_counts, pair_counts = counts_snapshot()
    assert sum(tag_counts.values()) == EntryTag.objects.filter(entry__counted=True).count()

    recount_tags()
    assert counts_snapshot() == (tag_counts, pair_counts)

    # Rewriting the index through the site's own service changes nothing.
    now = timezone.now()
    sync_entries(list(Study.objects.all()), now=now)
    sync_entries(list(Article.objects.all()), now=now)
    assert index_snapshot() == (entries, postings)
    assert counts_snapshot() == (tag_counts, pair_counts)
    for entry in Entry.objects.all():
        assert entry.counted == Entry.objects.published(at=now).filter(pk=entry.pk).exists()


def test_same_seed_same_data():
    seed(studies=40, articles=5)
    first = list(Study.objects.order_by("pk").values_list("title", "year", "journal"))
    Study.objects.all().delete()
    Article.objects.all().delete()
    seed(studies=40, articles=5)
    assert list(Study.objects.order_by("pk").values_list("title", "year", "journal")) == first


def test_refuses_a_database_with_entries_unless_appending():
    seed(studies=30, articles=3)
    with pytest.raises(CommandError, match="--append"):
        seed(studies=30, articles=3)
    assert Study.objects.count() == 30
    seed(studies=30, articles=3, append=True, seed=8)
    assert Study.objects.count() == 60 and Entry.objects.count() == 66
    tag_counts, pair_counts = counts_snapshot()
    recount_tags()
    assert counts_snapshot() == (tag_counts, pair_counts)


@pytest.mark.parametrize("options", [{"studies": -1}, {"tags": 2}, {"jobs": -1}])
def test_bad_sizes_are_refused(options):
    with pytest.raises(CommandError):
        seed(**options)
    assert not Study.objects.exists()
