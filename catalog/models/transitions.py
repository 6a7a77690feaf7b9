"""The editorial workflow's log and the moderation queue. The rules live in
``editorial.workflow``; these models keep the app label "k2site" with the
rest of the catalog, so their tables and permission codenames
(``k2site.submit_entry``, ``k2site.moderate_entry``) stay as they were."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .listing import Entry
from .publishing import Status


class WorkflowAction(models.TextChoices):
    SUBMIT = "submit", "Submit for review"
    WITHDRAW = "withdraw", "Withdraw from review"
    APPROVE = "approve", "Approve and publish"
    REJECT = "reject", "Reject"
    PUBLISH = "publish", "Publish"
    UNPUBLISH = "unpublish", "Unpublish"
    ARCHIVE = "archive", "Archive"


class Transition(models.Model):
    """One step of an article or study through the editorial workflow: who
    moved it from which state to which, when, and why (editorial.workflow writes it).

    A generic reference (like Django's own admin log) so one log covers both
    kinds and outlives a deleted entry; ``title`` keeps it readable then."""

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=500)
    action = models.CharField(max_length=16, choices=WorkflowAction.choices)
    from_status = models.CharField(max_length=16, choices=Status.choices)
    to_status = models.CharField(max_length=16, choices=Status.choices)
    comment = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="workflow_transitions"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"], name="transition_entry_idx")]
        # The workflow's own permissions; the Editors and Moderators groups
        # (migration k2site 0004) carry them.
        permissions = [
            ("submit_entry", "Can submit entries for review"),
            ("moderate_entry", "Can approve, reject, publish, unpublish and archive entries, and tag published ones"),
        ]

    def __str__(self):
        return f"{self.title}: {self.get_from_status_display()} → {self.get_to_status_display()}"


class ReviewQueueEntry(Entry):
    """The moderation queue: entries in review, oldest submission first (an
    admin view over the listing index, which holds both kinds in one table)."""

    class Meta:
        proxy = True
        verbose_name = "entry awaiting review"
        verbose_name_plural = "moderation queue"
