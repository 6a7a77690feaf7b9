"""seed_bench writes what the site's own write path would: the listing index
(with the tree's inherited postings) and the tag counts agree with
sync_entries and recount_tags (COPY on PostgreSQL, the ORM on SQLite)."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from articles.models import Article
from catalog.indexing import recount_tags, sync_entries
from catalog.models import Entry, EntryKind, EntryTag, Tag, TagPair, TagYearCount
from catalog.tree import ancestor_ids, parent_map
from studies.models import Study, TaggedStudy

pytestmark = pytest.mark.django_db

ENTRY_FIELDS = [
    "kind",
    "study_id",
    "article_id",
    "title",
    "slug",
    "type_label",
    "study_type",
    "byline",
    "venue",
    "lead",
    "year",
    "month",
    "sort_date",
    "status",
    "publish_at",
    "expire_at",
    "updated_at",
    "counted",
]
# --tree 3 needs "<topic> <qualifier>" tags: the 107 topics come first.
TREE = {"tree": 3, "tags": 150}


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
        (kind, study_id or article_id, tag_id, sort_date, inherited)
        for kind, study_id, article_id, tag_id, sort_date, inherited in EntryTag.objects.values_list(
            "entry__kind", "entry__study_id", "entry__article_id", "tag_id", "sort_date", "inherited"
        )
    )
    return entries, postings


def counts_snapshot():
    """Every precomputed count: per tag (all and direct), per pair, per tag × year × type."""
    return {
        "tags": {
            pk: (entry_count, direct_count)
            for pk, entry_count, direct_count in Tag.objects.values_list("pk", "entry_count", "direct_count")
        },
        "pairs": {
            (a, b): n
            for a, b, n in TagPair.objects.filter(entry_count__gt=0).values_list("tag_id", "other_id", "entry_count")
        },
        "years": {
            (tag_id, year, study_type): n
            for tag_id, year, study_type, n in TagYearCount.objects.filter(entry_count__gt=0).values_list(
                "tag_id", "year", "study_type", "entry_count"
            )
        },
    }


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


def resync_changes_nothing():
    """Rewriting the whole index through the site's own services leaves it
    and the counts as seed_bench wrote them."""
    entries, postings = index_snapshot()
    counts = counts_snapshot()
    now = timezone.now()
    sync_entries(list(Study.objects.all()), now=now)
    sync_entries(list(Article.objects.all()), now=now)
    assert index_snapshot() == (entries, postings)
    assert counts_snapshot() == counts
    recount_tags()
    assert counts_snapshot() == counts


@pytest.mark.parametrize("options", [{}, TREE], ids=["flat", "tree"])
def test_listing_index_and_counts_match_what_the_site_writes(options):
    seed(**options)
    counts = counts_snapshot()
    assert (
        sum(count for count, _direct in counts["tags"].values()) == EntryTag.objects.filter(entry__counted=True).count()
    )

    recount_tags()
    assert counts_snapshot() == counts
    assert Entry.objects.filter(kind=EntryKind.STUDY).exclude(byline="").exclude(venue="").exists()
    assert Entry.objects.filter(kind=EntryKind.ARTICLE).exclude(lead="").exists()

    resync_changes_nothing()
    now = timezone.now()
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
    counts = counts_snapshot()
    recount_tags()
    assert counts_snapshot() == counts


def test_tree_option_arranges_the_tags_and_posts_their_ancestors():
    seed(**TREE)
    parents = parent_map()
    depths = {tag_id: len(ancestor_ids(tag_id, parents)) for tag_id in Tag.objects.values_list("pk", flat=True)}
    assert max(depths.values()) == 2  # root, topic, "<topic> <qualifier>"
    bone = Tag.objects.get(name="Bone")
    assert bone.parent_id is None
    assert Tag.objects.get(name="Osteoporosis").parent_id == bone.pk
    assert Tag.objects.get(name="Osteoporosis in women").parent.parent_id == bone.pk
    # Every entry is posted under its own tags and each of their ancestors.
    direct, inherited = {}, {}
    for entry_id, tag_id, is_inherited in EntryTag.objects.values_list("entry_id", "tag_id", "inherited"):
        (inherited if is_inherited else direct).setdefault(entry_id, set()).add(tag_id)
    assert inherited
    for entry_id, own in direct.items():
        ancestors = {ancestor for tag_id in own for ancestor in ancestor_ids(tag_id, parents)}
        assert inherited.get(entry_id, set()) == ancestors - own
    bone.refresh_from_db()
    assert bone.entry_count > bone.direct_count > 0


def test_flat_by_default():
    seed()
    assert not Tag.objects.filter(parent__isnull=False).exists()
    assert not EntryTag.objects.filter(inherited=True).exists()


def test_tree_on_append_reposts_the_entries_already_there():
    seed(studies=60, articles=5, tags=150)
    assert not EntryTag.objects.filter(inherited=True).exists()
    seed(studies=60, articles=5, tags=150, tree=3, append=True, seed=8)
    assert Tag.objects.filter(parent__isnull=False).count() > 100
    first = Entry.objects.filter(study__in=Study.objects.order_by("pk")[:60])
    assert EntryTag.objects.filter(entry__in=first, inherited=True).exists()
    resync_changes_nothing()


@pytest.mark.parametrize("options", [{"studies": -1}, {"tags": 2}, {"jobs": -1}, {"tree": 4}])
def test_bad_sizes_are_refused(options):
    with pytest.raises(CommandError):
        seed(**options)
    assert not Study.objects.exists()
