"""The listing index (Entry, EntryTag, tag and pair counts) follows every write."""

import datetime

import pytest
from django.utils import timezone

from catalog.indexing import recount_tags, refresh_scheduled
from catalog.models import Entry, EntryTag, Status, TagPair
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def pair_count(a, b):
    return TagPair.objects.filter(tag=a, other=b).values_list("entry_count", flat=True).first() or 0


def test_published_study_is_indexed_with_its_tags_and_counts():
    bone, k2 = TagFactory(name="Bone"), TagFactory(name="Vitamin K2")
    study = StudyFactory(tags=[bone, k2], year=2019, month=2)

    entry = Entry.objects.get(study=study)
    assert (entry.kind, entry.title, entry.type_label, entry.date_label) == ("study", study.title, "RCT", "Feb 2019")
    assert set(EntryTag.objects.filter(entry=entry).values_list("tag__name", flat=True)) == {"Bone", "Vitamin K2"}
    bone.refresh_from_db()
    assert bone.entry_count == 1
    assert pair_count(bone, k2) == pair_count(k2, bone) == 1


def test_tag_changes_and_unpublishing_move_the_counts():
    bone, k2, calcium = TagFactory(name="Bone"), TagFactory(name="Vitamin K2"), TagFactory(name="Calcium")
    study = StudyFactory(tags=[bone, k2])

    study.tags.set([k2, calcium])
    for tag in (bone, k2, calcium):
        tag.refresh_from_db()
    assert (bone.entry_count, k2.entry_count, calcium.entry_count) == (0, 1, 1)
    assert pair_count(bone, k2) == 0 and pair_count(k2, calcium) == 1

    study.status = Status.DRAFT
    study.save()
    k2.refresh_from_db()
    assert k2.entry_count == 0 and pair_count(k2, calcium) == 0
    assert Entry.objects.get(study=study).status == Status.DRAFT


def test_deleting_an_entry_removes_it_from_index_and_counts():
    k2 = TagFactory(name="Vitamin K2")
    article = ArticleFactory(tags=[k2])
    article.delete()
    k2.refresh_from_db()
    assert k2.entry_count == 0
    assert not Entry.objects.exists()


def test_drafts_are_indexed_but_not_counted():
    k2 = TagFactory(name="Vitamin K2")
    StudyFactory(draft=True, tags=[k2])
    k2.refresh_from_db()
    assert k2.entry_count == 0
    assert not Entry.objects.published().exists()


def test_scheduled_entry_counts_once_its_time_comes_and_stops_when_it_expires():
    k2 = TagFactory(name="Vitamin K2")
    now = timezone.now()
    study = StudyFactory(
        tags=[k2], publish_at=now + datetime.timedelta(hours=1), expire_at=now + datetime.timedelta(hours=2)
    )
    k2.refresh_from_db()
    assert k2.entry_count == 0
    assert not Entry.objects.published().exists()

    assert refresh_scheduled(now + datetime.timedelta(minutes=61)) == 1
    k2.refresh_from_db()
    assert k2.entry_count == 1
    assert list(Entry.objects.published(at=now + datetime.timedelta(minutes=61))) == [Entry.objects.get(study=study)]

    assert refresh_scheduled(now + datetime.timedelta(minutes=121)) == 1
    k2.refresh_from_db()
    assert k2.entry_count == 0
    assert refresh_scheduled(now + datetime.timedelta(minutes=122)) == 0


def test_recount_rebuilds_counts_from_postings():
    bone, k2 = TagFactory(name="Bone"), TagFactory(name="Vitamin K2")
    StudyFactory(tags=[bone, k2])
    StudyFactory(tags=[k2])
    type(bone).objects.update(entry_count=99)
    TagPair.objects.all().delete()

    recount_tags()
    bone.refresh_from_db()
    k2.refresh_from_db()
    assert (bone.entry_count, k2.entry_count) == (1, 2)
    assert pair_count(bone, k2) == 1


def test_intersection_query_walks_the_rarest_tag_and_needs_all_tags():
    bone, k2, calcium = TagFactory(name="Bone"), TagFactory(name="Vitamin K2"), TagFactory(name="Calcium")
    both = StudyFactory(tags=[bone, k2], year=2021)
    StudyFactory(tags=[k2], year=2022)
    all_three = ArticleFactory(tags=[bone, k2, calcium])
    StudyFactory(tags=[bone, k2], draft=True)
    for tag in (bone, k2, calcium):
        tag.refresh_from_db()

    two = [posting.entry for posting in EntryTag.objects.published_with_all([k2, bone])]
    assert [entry.title for entry in two] == [all_three.title, both.title]
    three = [posting.entry.title for posting in EntryTag.objects.published_with_all([calcium, k2, bone])]
    assert three == [all_three.title]
