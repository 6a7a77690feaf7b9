"""Publishing state shared by articles and studies, and the one definition of
"published": status published, publish time reached, not expired."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


def published_q(at=None, prefix=""):
    """ "Published" as a filter. ``prefix`` applies it across a relation
    (``"entry__"``). Every public read goes through it."""
    now = at or timezone.now()
    return Q(**{f"{prefix}status": Status.PUBLISHED, f"{prefix}publish_at__lte": now}) & (
        Q(**{f"{prefix}expire_at__isnull": True}) | Q(**{f"{prefix}expire_at__gt": now})
    )


def is_published(status, publish_at, expire_at, at=None):
    """ "Published" for values in hand (a row being written, a generated
    one): the same rule as ``published_q``."""
    now = at or timezone.now()
    return (
        status == Status.PUBLISHED
        and publish_at is not None
        and publish_at <= now
        and (expire_at is None or expire_at > now)
    )


class PublishableQuerySet(models.QuerySet):
    def published(self, at=None):
        """Visible to visitors now (or at ``at``)."""
        return self.filter(published_q(at))


class Publishable(models.Model):
    """Publishing state shared by articles and studies."""

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        "publish time",
        null=True,
        blank=True,
        help_text="When the entry becomes visible. Leave empty to publish now.",
    )
    expire_at = models.DateTimeField(
        "expiry time", null=True, blank=True, help_text="Optional: hide the entry again after this time."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_published(self):
        return is_published(self.status, self.publish_at, self.expire_at)
