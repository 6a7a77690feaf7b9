"""Sending the digests: what ``manage.py send_digests`` does, safe to run
from cron or a timer every few minutes, twice at once, or again after a crash.

Each run has two phases, then housekeeping.

**Claim.** In one transaction per batch of due subscriptions
(``next_due_at`` ≤ now), each subscription's new entries are looked up and,
if there are any, one ``Delivery`` row (the outbox) is written for it and
the current period ("daily:2025-03-14"), holding the entry ids; in the same
transaction the subscription's ``cutoff`` moves to the end of the window
and ``next_due_at`` to the next digest time. Either all of that commits or
none of it: a crash here leaves the subscriptions due, to be claimed again.
Claiming twice is impossible: the rows are locked ``SELECT … FOR UPDATE
SKIP LOCKED`` on PostgreSQL (a second run takes other rows, or none), SQLite
serialises writers, and ``Delivery`` is unique per (subscription, period),
so even a subscription claimed again in the same period gets no second row.
Nothing new in the window: no row, no mail; the times move on all the same.

**Send.** Each pending delivery is rendered, then taken by a conditional
``UPDATE … SET state='sending' WHERE state='pending'`` (only one run can
win it, on any database), committed, sent, then marked ``sent``. A crash
between those steps:

- before the update: still ``pending``, sent by the next run;
- after the update, before or during the send, or after the send and
  before ``sent`` is written: ``sending`` stays. Whether the mail left
  cannot be known (the server may have accepted it just before the crash),
  so it is **never sent again**: a later run marks it ``abandoned`` after
  ``STALE_AFTER``, and staff see the count. A missed digest is the price of
  never sending one twice; the next digest covers the following period.

A send that fails with an exception (the server refused it or could not be
reached) is known not to have been accepted: it goes back to ``pending``
for the next run, and after ``MAX_ATTEMPTS`` to ``failed``. (The one gap:
a connection lost after the server took the message but before its reply
arrived reads as a failure and is retried. SMTP cannot close that gap.)
After ``STOP_AFTER_FAILURES`` failures in a row the run stops: the mail
server is down, and the rest wait for the next run.

**What is new.** An entry is new in a digest when its publication moment
(``publish_at``: set when it is published, or the scheduled time) lies in
the window (cutoff, now − ``SETTLE``] and it is visible now. So a draft or
a scheduled entry is never listed before it is public, and an entry shows
up in exactly one digest per subscription. The window stops ``SETTLE``
short of now because ``publish_at`` is set before the publishing
transaction commits (an import commits minutes later): an entry published
at 06:59:59 and committed at 07:00:05 would otherwise fall behind a digest
cut off at 07:00:00, unseen by it and before the next one's window. An
entry whose ``publish_at`` an editor sets to a past time before an earlier
digest's cut-off (or one republished after being withdrawn) is not new: it
was, or would have been, in that digest. The entries are read once per
topic and run, however many follow it (``Topic.new_entries``), at most
``FOLLOW_DIGEST_MAX_ENTRIES`` of them, newest first ("and more" links the page).
"""

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Entry

from .mail import digest_message, site_root
from .models import Delivery, DeliveryState, Subscription
from .schedule import next_slot, period_key
from .topics import Topic

logger = logging.getLogger(__name__)

SETTLE = datetime.timedelta(minutes=15)
STALE_AFTER = datetime.timedelta(hours=1)
MAX_ATTEMPTS = 5
STOP_AFTER_FAILURES = 3
CLAIM_BATCH = 200
# Finished deliveries are kept this long (the admin's recent counts), then deleted.
KEEP_DELIVERIES = datetime.timedelta(days=90)


@dataclass
class Report:
    """What a run did, for the command's output (no addresses)."""

    claimed: int = 0
    nothing_new: int = 0
    sent: list = field(default_factory=list)  # lines
    skipped: int = 0
    failed: int = 0
    abandoned: int = 0
    stopped: bool = False
    forgotten: int = 0


def run(*, now=None, root=None):
    """One run: abandon stale sends, claim what is due, send what is pending, tidy up."""
    now = now or timezone.now()
    root = root or site_root()
    report = Report()
    report.abandoned = abandon_stale(now)
    claim_due(now, report)
    send_pending(now, root, report)
    report.forgotten = tidy(now)
    return report


def abandon_stale(now):
    """``sending`` for longer than a send can take: the run died mid-send.
    Never resent (see the module docstring), only marked."""
    return Delivery.objects.filter(state=DeliveryState.SENDING, sending_since__lt=now - STALE_AFTER).update(
        state=DeliveryState.ABANDONED
    )


def _locked(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset.select_for_update()


def claim_due(now, report):
    """Write a delivery for every due subscription with something new, and
    move every due subscription's window on, in batches."""
    until = now - SETTLE
    limit = settings.FOLLOW_DIGEST_MAX_ENTRIES
    topics = {}
    while True:
        with transaction.atomic():
            batch = list(_locked(Subscription.objects.due(now))[:CLAIM_BATCH])
            if not batch:
                return
            by_topic = defaultdict(list)
            for subscription in batch:
                by_topic[subscription.slugs, subscription.filters].append(subscription)
            deliveries = []
            for (slugs, filters), subscriptions in by_topic.items():
                if (slugs, filters) not in topics:
                    topics[slugs, filters] = Topic.load(slugs, filters)
                topic = topics[slugs, filters]
                after = min(subscription.cutoff for subscription in subscriptions)
                # One read for every follower: each one's entries are a
                # prefix of these (newest first), cut at its own cutoff.
                entries = (
                    topic.new_entries(after=after, until=until, at=now, limit=limit + 1)
                    if topic is not None and after < until
                    else []
                )
                for subscription in subscriptions:
                    own = [entry for entry in entries if entry.publish_at > subscription.cutoff]
                    if own:
                        deliveries.append(
                            Delivery(
                                subscription=subscription,
                                period_key=period_key(subscription.frequency, now),
                                entry_ids=[entry.pk for entry in own[:limit]],
                                more=len(own) > limit,
                                window_start=subscription.cutoff,
                                window_end=until,
                            )
                        )
                    else:
                        report.nothing_new += 1
                    subscription.cutoff = max(subscription.cutoff, until)
                    subscription.next_due_at = next_slot(subscription.frequency, now)
            # One delivery per subscription and period, whatever happened
            # before: an existing one (which moving next_due_at on in this
            # same transaction should make impossible) is kept as it is.
            Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            Subscription.objects.bulk_update(batch, ["cutoff", "next_due_at"])
            report.claimed += len(deliveries)


def send_pending(now, root, report):
    """Send every pending delivery once (see the module docstring)."""
    pending = list(Delivery.objects.filter(state=DeliveryState.PENDING).order_by("id").values_list("id", flat=True))
    if not pending:
        return
    topics = {}
    failures_in_a_row = 0
    with get_connection() as mail_connection:
        for delivery_id in pending:
            outcome, line = send_one(delivery_id, now=now, root=root, topics=topics, mail_connection=mail_connection)
            if outcome == DeliveryState.SENT:
                report.sent.append(line)
                failures_in_a_row = 0
            elif outcome == DeliveryState.SKIPPED:
                report.skipped += 1
            elif outcome is not None:
                report.failed += 1
                failures_in_a_row += 1
                if failures_in_a_row >= STOP_AFTER_FAILURES:
                    report.stopped = True
                    return


def send_one(delivery_id, *, now, root, topics, mail_connection):
    """Render, take, send and mark one delivery. Returns (the state it ended
    in, or None if another run had it; a line saying what was sent)."""
    delivery = (
        Delivery.objects.select_related("subscription").filter(pk=delivery_id, state=DeliveryState.PENDING).first()
    )
    if delivery is None:
        return None, ""
    subscription = delivery.subscription
    key = (subscription.slugs, subscription.filters)
    if key not in topics:
        topics[key] = Topic.load(*key)
    topic = topics[key]
    # Still public now: an entry withdrawn since the claim is left out.
    by_id = Entry.objects.published(now).in_bulk(delivery.entry_ids)
    entries = [by_id[pk] for pk in delivery.entry_ids if pk in by_id]
    if topic is None or not entries:
        taken = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(state=DeliveryState.SKIPPED)
        return (DeliveryState.SKIPPED if taken else None), ""
    message = digest_message(
        subscription,
        topic,
        entries,
        more=delivery.more,
        since=delivery.window_start,
        root=root,
        connection=mail_connection,
    )
    # Taken: from here on it is never sent by anyone else, nor again by us.
    taken = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, sending_since=timezone.now(), attempts=F("attempts") + 1
    )
    if not taken:
        return None, ""
    try:
        message.send()
    except Exception as error:
        # Refused or unreachable: not accepted, so it may be tried again.
        state = DeliveryState.FAILED if delivery.attempts + 1 >= MAX_ATTEMPTS else DeliveryState.PENDING
        Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING).update(
            state=state, sending_since=None, error=f"{type(error).__name__}: {error}"[:200]
        )
        logger.warning("Digest %s not sent (%s); state %s.", delivery.pk, type(error).__name__, state)
        _reset(mail_connection)
        return state, ""
    mark_sent(delivery, subscription)
    more = "+" if delivery.more else ""
    return DeliveryState.SENT, (
        f"sent {delivery.period_key} digest to subscription {subscription.pk} "
        f"({topic.label}{': ' + '; '.join(topic.conditions) if topic.conditions else ''}): {len(entries)}{more} new"
    )


def mark_sent(delivery, subscription):
    sent_at = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.SENDING).update(
        state=DeliveryState.SENT, sent_at=sent_at, error=""
    )
    Subscription.objects.filter(pk=subscription.pk).update(last_sent_at=sent_at)


def _reset(mail_connection):
    """After a failure the SMTP session may be broken: the next send opens a new one."""
    try:
        mail_connection.close()
    except Exception:
        logger.debug("Closing the mail connection failed.", exc_info=True)


def tidy(now):
    """Forget sign-ups never confirmed, and finished deliveries past KEEP_DELIVERIES."""
    _, deleted = Subscription.objects.expired_unconfirmed(now).delete()
    Delivery.objects.filter(created_at__lt=now - KEEP_DELIVERIES).exclude(
        state__in=[DeliveryState.PENDING, DeliveryState.SENDING]
    ).delete()
    return deleted.get(Subscription._meta.label, 0)
