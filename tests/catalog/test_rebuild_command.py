"""`rebuild_listing_index` fills what an upgrade adds to the listing rows
and repairs drift in the counts."""

import pytest
from django.core.management import call_command

from catalog.models import Entry, Tag
from tests.factories import StudyFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_rebuild_fills_the_listing_rows_and_repairs_the_counts():
    bone = TagFactory(name="Bone", slug="bone")
    study = StudyFactory(
        tags=[bone], journal="Nutrients", authors=[{"family": "Mandatori", "given": "Domitilla"}, {"family": "X"}]
    )
    # As after a migration that added the columns, and with a drifted count.
    Entry.objects.update(byline="", venue="")
    Tag.objects.update(entry_count=99, direct_count=0)
    call_command("rebuild_listing_index")
    entry = Entry.objects.get(study=study)
    assert (entry.byline, entry.venue) == ("Mandatori D et al.", "Nutrients")
    bone.refresh_from_db()
    assert (bone.entry_count, bone.direct_count) == (1, 1)
