"""The admin: staff see followers per topic, never who; superusers see the
subscriptions, addresses included."""

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from editorial.roles import MODERATOR_PERMISSIONS, MODERATORS
from following.models import Subscription
from tests.following.helpers import follow, sign_up

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/following/subscription/"


@pytest.fixture
def followers(site):
    follow("/tags/vitamin-k2+bone/follow/", "one@example.org", "daily")
    follow("/tags/bone+vitamin-k2/follow/", "two@example.org", "weekly")
    follow("/tags/vitamin-k2+bone/follow/?type=rct", "three@example.org")
    follow("/tags/calcium/follow/", "four@example.org")
    sign_up("/tags/calcium/follow/", "unconfirmed@example.org")
    return Subscription.objects.all()


def table_rows(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return [
        [cell.get_text(strip=True) for cell in row.find_all("td")]
        for row in soup.select("#content-main table")[0].tbody.find_all("tr")
    ]


def test_moderators_may_see_the_counts(db):
    group = Group.objects.get(name=MODERATORS)
    assert group.permissions.filter(content_type__app_label="following", codename="view_subscription").exists()
    assert "following.view_subscription" in MODERATOR_PERMISSIONS


def test_a_moderator_sees_followers_per_topic_and_no_address(followers, moderator, login):
    client = login(moderator)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert table_rows(response) == [
        ["Bone and Vitamin K2", "–", "1", "1", "2", "0"],
        ["Calcium", "–", "1", "0", "1", "1"],
        ["Bone and Vitamin K2", "Study type: RCT", "1", "0", "1", "0"],
    ]
    page = response.content.decode()
    assert "@example.org" not in page
    # Nor one at a time.
    subscription = followers.first()
    assert client.get(f"{CHANGELIST}{subscription.pk}/change/").status_code == 403
    assert client.get(f"{CHANGELIST}{subscription.pk}/history/").status_code == 403
    assert client.get(f"{CHANGELIST}{subscription.pk}/delete/").status_code == 403
    assert client.get(f"{CHANGELIST}?q=one").content.decode().count("@example.org") == 0
    assert "Following by email" in client.get("/admin/").content.decode()


def test_the_counts_page_costs_the_same_however_many_topics(site, moderator, login):
    client = login(moderator)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGELIST).status_code == 200
        return len(captured)

    follow("/tags/bone/follow/", "a@example.org")
    few = queries()
    for number, page in enumerate(["/tags/calcium/follow/", "/tags/vitamin-k2/follow/", "/tags/bone+calcium/follow/"]):
        follow(page, f"b{number}@example.org")
    assert queries() == few


def test_an_editor_without_the_permission_sees_nothing(followers, editor, login):
    assert login(editor).get(CHANGELIST).status_code == 403


def test_a_superuser_sees_the_addresses_and_may_delete_one(followers, superuser, login):
    client = login(superuser)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "one@example.org" in page and "unconfirmed@example.org" in page
    assert "Followers per topic" in page
    assert client.get(f"{CHANGELIST}?q=two%40example").content.decode().count("two@example.org") >= 1
    topics = client.get(f"{CHANGELIST}topics/")
    assert topics.status_code == 200 and "The subscriptions themselves" in topics.content.decode()
    subscription = Subscription.objects.get(email="one@example.org")
    assert client.get(f"{CHANGELIST}{subscription.pk}/change/").status_code == 200
    client.post(f"{CHANGELIST}{subscription.pk}/delete/", {"post": "yes"})
    assert not Subscription.objects.filter(pk=subscription.pk).exists()
