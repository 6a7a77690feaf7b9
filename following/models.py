"""Who follows which topic, and the digests sent to them.

A topic is what a tag or intersection page shows: its tags (``slugs``,
canonical: sorted, "+"-joined) and its filters (``filters``, a canonical
query string: ``direct``, ``type``, ``year_min``, ``year_max``; the sort
order and page number say nothing about what is new). The address is never
rendered on a page, in a message to anyone else or in the command's output;
superusers alone see it, in the admin.

How sending stays idempotent and crash-safe is ``following.digests``.
"""

import datetime
import secrets

from django.db import models
from django.db.models import Count, F, Q
from django.db.models.functions import Lower
from django.urls import reverse

# An unconfirmed sign-up is forgotten (and its link stops working) after this.
CONFIRM_WITHIN = datetime.timedelta(days=7)


def new_token():
    # 256 random bits, URL-safe: unguessable, so holding it proves the address's inbox.
    return secrets.token_urlsafe(32)


class Frequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


class SubscriptionQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False)

    def due(self, now):
        """Confirmed subscriptions whose next digest time has come, oldest first."""
        return self.confirmed().filter(next_due_at__lte=now).order_by("next_due_at", "id")

    def expired_unconfirmed(self, now):
        return self.filter(confirmed_at__isnull=True, created_at__lt=now - CONFIRM_WITHIN)

    def for_address(self, email):
        return self.filter(email__iexact=email)

    def topic_counts(self):
        """One row per topic: {"slugs", "filters", "daily", "weekly",
        "unconfirmed", "followers"}, most followers first. Counts only: this
        is what staff see (the admin), never who."""
        confirmed = Q(confirmed_at__isnull=False)
        return (
            self.values("slugs", "filters")
            .annotate(
                daily=Count("id", filter=confirmed & Q(frequency=Frequency.DAILY)),
                weekly=Count("id", filter=confirmed & Q(frequency=Frequency.WEEKLY)),
                unconfirmed=Count("id", filter=Q(confirmed_at__isnull=True)),
            )
            .annotate(followers=F("daily") + F("weekly"))
            .order_by("-followers", "-unconfirmed", "slugs", "filters")
        )


class Subscription(models.Model):
    """One address following one topic (tags and filters), daily or weekly.

    Created unconfirmed by the sign-up form; ``confirmed_at`` is set when the
    link in the confirmation mail is used. Deleted on unsubscribe (nothing
    about the address is kept), or a week after sign-up if never confirmed.
    A digest covers the entries published after ``cutoff``; each one moves
    it on (``following.digests``)."""

    # Never rendered on a page; superusers see it in the admin.
    email = models.EmailField(max_length=254)
    slugs = models.CharField(max_length=700, help_text="The topic's tags: slugs, sorted, joined by '+'.")
    filters = models.CharField(max_length=300, blank=True, help_text="The topic's filters, as a query string.")
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.DAILY)
    confirm_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    unsubscribe_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # The last confirmation mail: another is not sent within
    # following.signup.RESEND_AFTER, whoever asks.
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Digests list entries published after this (set at confirmation).
    cutoff = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), "slugs", "filters", name="following_one_per_address_topic"),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(cutoff__isnull=False, next_due_at__isnull=False),
                name="following_confirmed_is_scheduled",
            ),
        ]
        indexes = [
            # send_digests: the due ones, from a small index.
            models.Index(fields=["next_due_at"], name="following_due_idx", condition=Q(confirmed_at__isnull=False)),
            # The admin's counts per topic.
            models.Index(fields=["slugs", "filters"], name="following_topic_idx"),
            # Forgetting unconfirmed sign-ups.
            models.Index(
                fields=["created_at"], name="following_unconfirmed_idx", condition=Q(confirmed_at__isnull=True)
            ),
        ]

    def __str__(self):
        # No address: __str__ shows in admin breadcrumbs and logs.
        return f"{self.topic_path} · {self.get_frequency_display().lower()}"

    @property
    def topic_path(self):
        path = reverse("tags:detail", kwargs={"slugs": self.slugs})
        return f"{path}?{self.filters}" if self.filters else path

    def get_absolute_url(self):
        return self.topic_path

    @property
    def is_confirmed(self):
        return self.confirmed_at is not None


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent: nothing left to send"
    FAILED = "failed", "Failed (gave up after retries)"
    ABANDONED = "abandoned", "Not resent after a crash while sending"


class Delivery(models.Model):
    """One digest for one subscription and period: its outbox row.

    Written in the transaction that claims the period for the subscription
    (unique per subscription and period), then sent, then marked sent; see
    ``following.digests`` for why a crash never sends it twice."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    period_key = models.CharField(max_length=24)
    state = models.CharField(max_length=12, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    # The listing rows (catalog Entry ids) it lists, newest publication first;
    # ``more``: the topic had more new entries than a digest lists.
    entry_ids = models.JSONField(default=list)
    more = models.BooleanField(default=False)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period_key"], name="following_one_digest_per_period")
        ]
        indexes = [
            models.Index(
                fields=["state", "id"],
                name="following_delivery_open_idx",
                condition=Q(state__in=["pending", "sending"]),
            ),
            models.Index(fields=["created_at"], name="following_delivery_age_idx"),
        ]

    def __str__(self):
        return f"Digest {self.period_key} for subscription {self.subscription_id}: {self.get_state_display()}"

    def get_absolute_url(self):
        return self.subscription.topic_path
