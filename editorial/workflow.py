"""The editorial workflow: the one place that moves an article or study
between states, checks who may, records it and tells the people concerned.

    draft ──submit──▶ in review ──approve──▶ published ──archive──▶ archived
      ▲                  │                      │                      │
      └─ reject/withdraw ┘                      │                      │
      └────────────── unpublish ────────────────┴──────────────────────┘

Moderators may also publish or archive from any state. Every path that
changes a status ends here — the transition buttons, the admin change form,
bulk actions, imports — so the server refuses what a role may not do (PermissionDenied,
a 403) whatever the buttons showed. Each step is a ``Transition`` row, a
simple_history revision, and an email (console backend unless configured).

Scheduled publishing needs nothing here: a published entry whose
``publish_at`` is in the future is invisible until then (``published_q``), and
``k2site.middleware`` catches the counts up when the time comes.

Emails are ``editorial.notifications``; tag operations for moderators are
``editorial.tag_operations``.
"""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from catalog.indexing import sync_entries
from catalog.models import Status, Transition, WorkflowAction

from .notifications import notify

SUBMIT_PERMISSION = "k2site.submit_entry"
MODERATE_PERMISSION = "k2site.moderate_entry"


class TransitionError(Exception):
    """The entry is not in a state the action starts from, or a reason is missing."""


class StaleVersion(Exception):
    """Someone saved the entry after the version this change was based on."""


@dataclass(frozen=True)
class Rule:
    sources: frozenset
    target: str
    permission: str


RULES = {
    WorkflowAction.SUBMIT: Rule(frozenset({Status.DRAFT}), Status.IN_REVIEW, SUBMIT_PERMISSION),
    WorkflowAction.APPROVE: Rule(frozenset({Status.IN_REVIEW}), Status.PUBLISHED, MODERATE_PERMISSION),
    WorkflowAction.REJECT: Rule(frozenset({Status.IN_REVIEW}), Status.DRAFT, MODERATE_PERMISSION),
    # Not from review: there "Approve and publish" is the one button for it.
    WorkflowAction.PUBLISH: Rule(frozenset({Status.DRAFT, Status.ARCHIVED}), Status.PUBLISHED, MODERATE_PERMISSION),
    WorkflowAction.UNPUBLISH: Rule(frozenset({Status.PUBLISHED, Status.ARCHIVED}), Status.DRAFT, MODERATE_PERMISSION),
    WorkflowAction.ARCHIVE: Rule(
        frozenset({Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED}), Status.ARCHIVED, MODERATE_PERMISSION
    ),
    # An editor takes a submission back to keep working on it (after reject:
    # from review to draft, a moderator's form means a rejection).
    WorkflowAction.WITHDRAW: Rule(frozenset({Status.IN_REVIEW}), Status.DRAFT, SUBMIT_PERMISSION),
}


# --- who may do what -------------------------------------------------------


def may(user, action):
    """Whether ``user``'s role allows ``action`` at all (superusers: always)."""
    return bool(user and user.is_active and user.has_perm(RULES[WorkflowAction(action)].permission))


def may_moderate(user):
    return bool(user and user.is_active and user.has_perm(MODERATE_PERMISSION))


def available_actions(user, status):
    """The actions ``user`` may take on an entry in ``status``, in display order."""
    return [action for action, rule in RULES.items() if status in rule.sources and may(user, action)]


def action_between(from_status, to_status, user=None):
    """The action a change of status amounts to, or None: the first in RULES
    (approve rather than publish from review; reject rather than withdraw)
    that ``user``, when given, may take."""
    for action, rule in RULES.items():
        if from_status in rule.sources and rule.target == to_status and (user is None or may(user, action)):
            return action
    return None


def status_choices(user, current_status):
    """The statuses ``user`` may choose in a form for an entry now in ``current_status``."""
    reachable = {RULES[action].target for action in available_actions(user, current_status)}
    return [(value, label) for value, label in Status.choices if value == current_status or value in reachable]


def check(user, action, *, from_status, comment=""):
    """Refuse what ``user`` may not do (PermissionDenied) and what the
    entry's state does not allow (TransitionError)."""
    action = WorkflowAction(action)
    if not may(user, action):
        raise PermissionDenied(f"You may not {action.label.lower()} entries.")
    if from_status not in RULES[action].sources:
        raise TransitionError(f"Cannot {action.label.lower()} an entry that is {Status(from_status).label.lower()}.")
    if action == WorkflowAction.REJECT and not comment.strip():
        raise TransitionError("Give a reason for the rejection: the author receives it.")


def apply(entry, action, *, now=None):
    """Set the fields ``action`` changes on ``entry`` (not saved)."""
    now = now or timezone.now()
    entry.status = RULES[WorkflowAction(action)].target
    if entry.status == Status.PUBLISHED:
        if entry.publish_at is None:
            entry.publish_at = now
        # An article's listing date is its first publication on the site.
        if hasattr(entry, "first_published_at") and entry.first_published_at is None:
            entry.first_published_at = entry.publish_at


def claim_version(entry, expected_version):
    """Optimistic lock: bump the stored version only if it is still the one
    the change was based on, else StaleVersion. One conditional UPDATE, so two
    concurrent saves cannot both pass; the caller saves in the same transaction."""
    claimed = (
        type(entry)._default_manager.filter(pk=entry.pk, version=expected_version).update(version=F("version") + 1)
    )
    if not claimed:
        raise StaleVersion(f"{entry} was changed by someone else.")
    entry.version = expected_version + 1


def log_rows(entries, action, *, from_status, user, comment="", at=None):
    """The Transition rows (unsaved) for ``entries`` (one model) taking
    ``action``; ``from_status`` is a status or {pk: status}."""
    content_type = ContentType.objects.get_for_model(type(entries[0])) if entries else None
    actor = user if user and user.is_authenticated else None
    return [
        Transition(
            content_type=content_type,
            object_id=entry.pk,
            title=entry.title[:500],
            action=action,
            from_status=from_status[entry.pk] if isinstance(from_status, dict) else from_status,
            to_status=entry.status,
            comment=comment.strip(),
            actor=actor,
            created_at=at or timezone.now(),
        )
        for entry in entries
    ]


def record(entry, action, *, from_status, user, comment=""):
    """Log a transition that has been saved, and notify (after commit)."""
    (transition,) = log_rows([entry], action, from_status=from_status, user=user, comment=comment)
    transition.save()
    notify([(entry, transition)])
    return transition


def record_many(entries, action, *, from_status, user, comment=""):
    """Log the same step for many entries of one model in one INSERT, without
    emails (an import that publishes a whole file)."""
    if entries:
        Transition.objects.bulk_create(
            log_rows(entries, action, from_status=from_status, user=user, comment=comment), batch_size=1000
        )


# --- the services ----------------------------------------------------------


@transaction.atomic
def transition(entry, action, *, user, comment="", expected_version=None, publish_at=None):
    """Move one article or study by ``action``; returns the Transition.

    ``expected_version``: refuse (StaleVersion) if the entry changed since the
    caller looked at it. ``publish_at`` (publish/approve): schedule instead of
    publishing now."""
    action = WorkflowAction(action)
    # Permission first, before even reading the row: a refused user learns nothing.
    if not may(user, action):
        raise PermissionDenied(f"You may not {action.label.lower()} entries.")
    model = type(entry)
    current = model._default_manager.select_for_update().get(pk=entry.pk)
    check(user, action, from_status=current.status, comment=comment)
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion(f"{current} was changed by someone else since you opened it.")
    from_status = current.status
    if publish_at is not None:
        current.publish_at = publish_at
    apply(current, action)
    current.version += 1
    current._history_user = user
    current._change_reason = change_reason(action, comment)
    current.save()
    # The caller's object now reflects the stored row.
    for field in ("status", "publish_at", "version", "updated_at", "first_published_at"):
        if hasattr(current, field):
            setattr(entry, field, getattr(current, field))
    return record(current, action, from_status=from_status, user=user, comment=comment)


def submit(entry, *, user, comment=""):
    return transition(entry, WorkflowAction.SUBMIT, user=user, comment=comment)


def approve(entry, *, user, comment="", publish_at=None):
    return transition(entry, WorkflowAction.APPROVE, user=user, comment=comment, publish_at=publish_at)


def reject(entry, *, user, reason):
    return transition(entry, WorkflowAction.REJECT, user=user, comment=reason)


def publish(entry, *, user, comment="", publish_at=None):
    return transition(entry, WorkflowAction.PUBLISH, user=user, comment=comment, publish_at=publish_at)


def unpublish(entry, *, user, comment=""):
    return transition(entry, WorkflowAction.UNPUBLISH, user=user, comment=comment)


def archive(entry, *, user, comment=""):
    return transition(entry, WorkflowAction.ARCHIVE, user=user, comment=comment)


@transaction.atomic
def bulk_transition(queryset, action, *, user, comment=""):
    """``action`` on every entry of ``queryset`` (one model) that is in a state
    it starts from. A few statements whatever the number: bulk update with
    history, bulk log, one listing-index sync. Returns (changed, skipped)."""
    action = WorkflowAction(action)
    if not may(user, action):
        raise PermissionDenied(f"You may not {action.label.lower()} entries.")
    if action == WorkflowAction.REJECT and not comment.strip():
        raise TransitionError("Give a reason for the rejection: the author receives it.")
    model = queryset.model
    entries = list(queryset.select_for_update().order_by("pk"))
    rule = RULES[action]
    eligible = [entry for entry in entries if entry.status in rule.sources]
    if not eligible:
        return [], len(entries)
    now = timezone.now()
    from_statuses = {}
    for entry in eligible:
        from_statuses[entry.pk] = entry.status
        apply(entry, action, now=now)
        entry.version += 1
        entry.updated_at = now
    fields = ["status", "publish_at", "version", "updated_at"]
    if hasattr(model, "first_published_at"):
        fields.append("first_published_at")
    bulk_update_with_history(
        eligible, model, fields, default_user=user, default_change_reason=change_reason(action, comment)
    )
    transitions = Transition.objects.bulk_create(
        log_rows(eligible, action, from_status=from_statuses, user=user, comment=comment, at=now)
    )
    sync_entries(eligible)
    notify(list(zip(eligible, transitions, strict=True)))
    return eligible, len(entries) - len(eligible)


def change_reason(action, comment):
    """The revision's change reason for a workflow step (simple_history)."""
    reason = WorkflowAction(action).label
    return f"{reason}: {comment.strip()}"[:100] if comment.strip() else reason


def save_with_status(entry, *, user, from_status, comment="", expected_version=None, save, reason=""):
    """Save an edited ``entry`` whose form may also change its status (the
    admin change form): check the step as ``transition`` does, claim the
    version (optimistic lock; None for a new entry), save through ``save()``,
    and log the step. ``reason``: the revision's change reason when the save
    is no workflow step (a restore). The caller runs it in a transaction."""
    action = None
    if reason:
        entry._change_reason = reason[:100]
    if entry.status != from_status:
        action = action_between(from_status, entry.status, user) or action_between(from_status, entry.status)
        if action is None:
            raise PermissionDenied("That change of status is not possible.")
        try:
            check(user, action, from_status=from_status, comment=comment)
        except TransitionError as error:
            raise PermissionDenied(str(error)) from error
        apply(entry, action)
        entry._change_reason = change_reason(action, comment)
    if entry.pk is None:
        entry.version = 1
    else:
        claim_version(entry, expected_version)
    save()
    if action is not None:
        record(entry, action, from_status=from_status, user=user, comment=comment)
