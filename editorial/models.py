"""Changes to live entries that wait for a moderator (editorial.revisions)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class RevisionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a moderator"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUPERSEDED = "superseded", "Replaced by a newer revision"


class PendingRevisionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=RevisionStatus.PENDING)

    def of(self, entry):
        from django.contrib.contenttypes.models import ContentType

        return self.filter(content_type=ContentType.objects.get_for_model(entry), object_id=entry.pk)


class PendingRevision(models.Model):
    """An editor's change to a published article or study (its fields, tags
    and relations, as the form or an import gave them). Visitors keep seeing
    the live entry until a moderator approves the revision; then it is
    applied as one save, with a revision in the entry's history.

    A generic reference, like the workflow log, so one table serves both kinds."""

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=500, help_text="The entry's title when the revision was made.")
    # {field name: value, JSON-ready}; a file field holds its stored name.
    changes = models.JSONField(default=dict)
    # The whole new tag set and relations, when they change: {"tags": [ids], "related_studies": [ids]}.
    relations = models.JSONField(default=dict)
    # The entry's version the change was based on (a later live change is shown).
    base_version = models.PositiveIntegerField()
    source = models.CharField(max_length=16, default="admin")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=RevisionStatus.choices, default=RevisionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    objects = PendingRevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(status="pending"),
                name="one_pending_revision_per_entry",
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"], name="revision_entry_idx")]

    def __str__(self):
        return f"{self.title}: {self.get_status_display()}"

    @property
    def entry(self):
        return self.content_type.get_object_for_this_type(pk=self.object_id)
