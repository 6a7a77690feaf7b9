"""send_digests: what is new, when, once; and what a crash leaves behind."""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Status
from following import digests
from following.models import Delivery, DeliveryState, Frequency, Subscription
from following.schedule import next_slot, period_key
from tests.factories import ArticleFactory, StudyFactory
from tests.following.helpers import follow, next_run_after, send_digests

pytestmark = pytest.mark.django_db

PAGE = "/tags/vitamin-k2+bone/follow/"


def titles(message, *, scheduled=False):
    """The entries a digest lists; without the site fixture's scheduled study
    (public three days from now, so in some digest of a long enough test)."""
    listed = [line[2:] for line in message.body.splitlines() if line.startswith("- ")]
    return listed if scheduled else [title for title in listed if title != "Secret scheduled study"]


@pytest.fixture
def k2_bone(tags):
    k2, bone, _calcium = tags
    return [k2, bone]


def test_a_new_entry_is_sent_once_in_the_next_daily_digest(site, k2_bone):
    subscription = follow(PAGE, "reader@example.org")
    published = subscription.confirmed_at + datetime.timedelta(hours=1)
    StudyFactory(title="New MK-7 trial", slug="new-mk7", tags=k2_bone, publish_at=published, year=2024, month=2)
    ArticleFactory(title="New explainer", tags=k2_bone, publish_at=published + datetime.timedelta(minutes=5))
    StudyFactory(title="Only about bone", tags=k2_bone[1:], publish_at=published)
    StudyFactory(title="Draft trial", tags=k2_bone, status=Status.DRAFT, publish_at=published)
    run = next_run_after(subscription.confirmed_at)

    output = send_digests(run)
    (message,) = mail.outbox
    assert message.to == ["reader@example.org"]
    assert message.subject == "New on K2 Site: Bone and Vitamin K2 (2)"
    assert titles(message) == ["New explainer", "New MK-7 trial"]  # newest publication first
    assert "RCT · Feb 2024" in message.body and "https://k2.example.org/studies/new-mk7/" in message.body
    assert "Draft trial" not in message.body and "Only about bone" not in message.body
    assert "reader@example.org" not in output and f"subscription {subscription.pk}" in output

    # Run twice, send once: the same time, and later the same day.
    send_digests(run)
    send_digests(run + datetime.timedelta(hours=3))
    assert len(mail.outbox) == 1
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.SENT and delivery.period_key == f"daily:{run.date().isoformat()}"


def test_nothing_new_sends_nothing_and_the_next_digest_has_only_what_is_newer(site, k2_bone):
    subscription = follow(PAGE, "reader@example.org")
    first = next_run_after(subscription.confirmed_at)
    send_digests(first)
    assert mail.outbox == [] and not Delivery.objects.exists()
    subscription.refresh_from_db()
    assert subscription.next_due_at == first.replace(minute=0) + datetime.timedelta(days=1)

    StudyFactory(title="Tuesday's trial", tags=k2_bone, publish_at=first + datetime.timedelta(hours=2))
    send_digests(first + datetime.timedelta(days=1))
    assert [titles(message) for message in mail.outbox] == [["Tuesday's trial"]]
    StudyFactory(title="Wednesday's trial", tags=k2_bone, publish_at=first + datetime.timedelta(days=1, hours=2))
    send_digests(first + datetime.timedelta(days=2))
    assert [titles(message) for message in mail.outbox] == [["Tuesday's trial"], ["Wednesday's trial"]]


def test_a_scheduled_entry_appears_only_in_the_digest_after_it_is_public(site, k2_bone):
    subscription = follow(PAGE, "reader@example.org")
    first = next_run_after(subscription.confirmed_at)
    # Scheduled for the day after the first digest.
    StudyFactory(title="Embargoed trial", tags=k2_bone, publish_at=first + datetime.timedelta(hours=12))
    StudyFactory(title="Public trial", tags=k2_bone, publish_at=first - datetime.timedelta(hours=1))
    send_digests(first)
    assert [titles(message) for message in mail.outbox] == [["Public trial"]]
    send_digests(first + datetime.timedelta(days=1))
    assert [titles(message) for message in mail.outbox] == [["Public trial"], ["Embargoed trial"]]


def test_an_entry_published_in_the_last_minutes_waits_for_the_next_digest(site, k2_bone):
    # Its publishing transaction may not have committed yet (digests.SETTLE).
    subscription = follow(PAGE, "reader@example.org")
    first = next_run_after(subscription.confirmed_at)
    StudyFactory(title="Just published", tags=k2_bone, publish_at=first - datetime.timedelta(minutes=2))
    send_digests(first)
    assert mail.outbox == []
    send_digests(first + datetime.timedelta(days=1))
    assert [titles(message) for message in mail.outbox] == [["Just published"]]


def test_an_entry_withdrawn_before_its_digest_is_sent_is_left_out(site, k2_bone):
    subscription = follow(PAGE, "reader@example.org")
    study = StudyFactory(
        title="Withdrawn", tags=k2_bone, publish_at=subscription.confirmed_at + datetime.timedelta(hours=1)
    )
    run = next_run_after(subscription.confirmed_at)
    digests.claim_due(run, digests.Report())
    study.status = Status.DRAFT
    study.save()
    send_digests(run)
    assert mail.outbox == []
    assert Delivery.objects.get().state == DeliveryState.SKIPPED


def test_weekly_digests_go_out_on_mondays_and_cover_the_whole_week(site, k2_bone):
    daily = follow(PAGE, "daily@example.org", "daily")
    weekly = follow(PAGE, "weekly@example.org", "weekly")
    assert weekly.next_due_at.weekday() == 0 and weekly.next_due_at.hour == 6
    runs = [next_run_after(daily.confirmed_at, days=day) for day in range(1, 15)]
    for day, run in enumerate(runs, start=1):
        # Published an hour before each run, so each daily digest has one.
        StudyFactory(title=f"Trial of day {day}", tags=k2_bone, publish_at=run - datetime.timedelta(hours=1))
        send_digests(run)

    to_daily = [message for message in mail.outbox if message.to == ["daily@example.org"]]
    assert [titles(message) for message in to_daily] == [[f"Trial of day {day}"] for day in range(1, 15)]
    # The site's scheduled study becomes public on day 3: in exactly one digest.
    assert sum("Secret scheduled study" in titles(message, scheduled=True) for message in to_daily) == 1

    # Weekly: the first run from each Monday 06:00 on, with everything since the last one.
    sent_on, due = [], weekly.next_due_at
    for day, run in enumerate(runs, start=1):
        if run >= due:
            sent_on.append(day)
            due = next_slot(Frequency.WEEKLY, run)
    to_weekly = [message for message in mail.outbox if message.to == ["weekly@example.org"]]
    # Two Mondays in 14 days (three when signed up on a Monday before 06:00).
    assert len(to_weekly) == len(sent_on) >= 2
    assert all(runs[day - 1].weekday() == 0 for day in sent_on[1:])
    for message, first, last in zip(to_weekly, [1] + [day + 1 for day in sent_on], sent_on, strict=False):
        assert sorted(titles(message)) == sorted(f"Trial of day {day}" for day in range(first, last + 1))
    assert list(Delivery.objects.filter(subscription=weekly).values_list("period_key", flat=True)) == [
        period_key(Frequency.WEEKLY, runs[day - 1]) for day in reversed(sent_on)
    ]


def test_a_topic_with_filters_sends_only_matching_entries(site, k2_bone):
    subscription = follow(PAGE + "?type=review&year_min=2020", "reader@example.org")
    published = subscription.confirmed_at + datetime.timedelta(hours=1)
    StudyFactory(title="A recent review", tags=k2_bone, study_type="review", year=2023, publish_at=published)
    StudyFactory(title="An old review", tags=k2_bone, study_type="review", year=2001, publish_at=published)
    StudyFactory(title="A recent trial", tags=k2_bone, study_type="rct", year=2023, publish_at=published)
    send_digests(next_run_after(subscription.confirmed_at))
    (message,) = mail.outbox
    assert titles(message) == ["A recent review"]
    assert "Study type: Review; From 2020" in message.body
    assert "https://k2.example.org/tags/bone+vitamin-k2/?type=review&year_min=2020" in message.body


def test_a_digest_lists_at_most_the_newest_fifty(site, k2_bone, settings):
    settings.FOLLOW_DIGEST_MAX_ENTRIES = 3
    subscription = follow(PAGE, "reader@example.org")
    for number in range(5):
        StudyFactory(
            title=f"Trial {number}",
            tags=k2_bone,
            publish_at=subscription.confirmed_at + datetime.timedelta(minutes=number + 1),
        )
    send_digests(next_run_after(subscription.confirmed_at))
    (message,) = mail.outbox
    assert message.subject == "New on K2 Site: Bone and Vitamin K2 (3+)"
    assert titles(message) == ["Trial 4", "Trial 3", "Trial 2"]
    assert "And more" in message.body


def test_unsubscribed_or_unconfirmed_addresses_get_no_digest(site, k2_bone):
    gone = follow(PAGE, "gone@example.org")
    Client().post(f"/follow/unsubscribe/{gone.unsubscribe_token}/")
    Client().post(PAGE, {"email": "unconfirmed@example.org", "frequency": "daily"})
    mail.outbox.clear()
    StudyFactory(title="New trial", tags=k2_bone, publish_at=timezone.now() + datetime.timedelta(minutes=1))
    send_digests(next_run_after(timezone.now()))
    assert mail.outbox == []


class FailingOnSecond(EmailBackend):
    """The locmem backend, but the server refuses the 2nd message of the run."""

    sent = 0

    def send_messages(self, messages):
        FailingOnSecond.sent += 1
        if FailingOnSecond.sent == 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def three_followers_with_news(k2_bone):
    subscriptions = [follow(PAGE, f"reader{number}@example.org") for number in range(3)]
    StudyFactory(title="New trial", tags=k2_bone, publish_at=timezone.now() + datetime.timedelta(minutes=1))
    return subscriptions, next_run_after(timezone.now())


def test_a_failed_send_is_retried_and_every_follower_gets_exactly_one_digest(site, k2_bone, settings):
    subscriptions, run = three_followers_with_news(k2_bone)
    settings.EMAIL_BACKEND = "tests.following.test_digests.FailingOnSecond"
    FailingOnSecond.sent = 0
    with pytest.raises(CommandError, match="1 digest"):
        send_digests(run)
    assert len(mail.outbox) == 2
    assert Delivery.objects.filter(state=DeliveryState.PENDING).count() == 1

    send_digests(run + datetime.timedelta(minutes=5))
    send_digests(run + datetime.timedelta(minutes=10))
    assert sorted(message.to[0] for message in mail.outbox) == sorted(s.email for s in subscriptions)
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_a_crash_after_sending_never_sends_the_same_digest_again(site, k2_bone, monkeypatch):
    subscriptions, run = three_followers_with_news(k2_bone)

    def die(*args, **kwargs):
        raise SystemExit("killed between the send and marking it sent")

    with monkeypatch.context() as patched:
        patched.setattr(digests, "mark_sent", die)
        with pytest.raises(SystemExit):
            send_digests(run)
    assert len(mail.outbox) == 1  # sent, then the process died
    assert Delivery.objects.filter(state=DeliveryState.SENDING).count() == 1

    send_digests(run + datetime.timedelta(minutes=5))
    assert sorted(message.to[0] for message in mail.outbox) == sorted(s.email for s in subscriptions)
    # The one left "sending" is never sent again; later it is marked abandoned.
    send_digests(run + datetime.timedelta(hours=2))
    assert len(mail.outbox) == 3
    assert Delivery.objects.filter(state=DeliveryState.ABANDONED).count() == 1


def test_a_crash_after_claiming_leaves_the_digests_to_the_next_run(site, k2_bone, monkeypatch):
    subscriptions, run = three_followers_with_news(k2_bone)

    def die(*args, **kwargs):
        raise SystemExit("killed after claiming")

    with monkeypatch.context() as patched:
        patched.setattr(digests, "send_pending", die)
        with pytest.raises(SystemExit):
            send_digests(run)
    assert mail.outbox == [] and Delivery.objects.filter(state=DeliveryState.PENDING).count() == 3
    send_digests(run + datetime.timedelta(minutes=5))
    assert sorted(message.to[0] for message in mail.outbox) == sorted(s.email for s in subscriptions)


def test_a_crash_while_claiming_changes_nothing(site, k2_bone, monkeypatch):
    _subscriptions, run = three_followers_with_news(k2_bone)

    def die(*args, **kwargs):
        raise SystemExit("killed while claiming")

    with monkeypatch.context() as patched:
        patched.setattr(Subscription.objects, "bulk_update", die)
        with pytest.raises(SystemExit):
            send_digests(run)
    assert not Delivery.objects.exists()
    assert Subscription.objects.filter(next_due_at__lte=run).count() == 3
    send_digests(run)
    assert len(mail.outbox) == 3


def test_the_entries_of_a_topic_are_read_once_however_many_follow_it(site, k2_bone):
    def claim_queries(count):
        for number in range(count):
            follow(PAGE, f"reader{count}-{number}@example.org")
        StudyFactory(tags=k2_bone, publish_at=timezone.now() + datetime.timedelta(minutes=1))
        with CaptureQueriesContext(connection) as queries:
            digests.claim_due(next_run_after(timezone.now()), digests.Report())
        Delivery.objects.all().delete()
        Subscription.objects.all().delete()
        return len(queries)

    assert claim_queries(2) == claim_queries(6)


def test_send_digests_needs_site_url(site, settings):
    settings.SITE_URL = ""
    with pytest.raises(CommandError, match="SITE_URL"):
        send_digests(timezone.now())
