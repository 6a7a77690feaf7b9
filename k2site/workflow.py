"""The editorial workflow: the one place that moves an article or study
between states, checks who may, records it and tells the people concerned.

    draft ──submit──▶ in review ──approve──▶ published ──archive──▶ archived
      ▲                  │                      │                      │
      └──── reject ──────┘                      │                      │
      └────────────── unpublish ────────────────┴──────────────────────┘

Moderators may also publish or archive from any state. Every path that
changes a status ends here — the transition buttons, the admin change form,
bulk actions — so the server refuses what a role may not do (PermissionDenied,
a 403) whatever the buttons showed. Each step is a ``Transition`` row, a
simple_history revision, and an email (console backend unless configured).

Scheduled publishing needs nothing here: a published entry whose
``publish_at`` is in the future is invisible until then (``published_q``), and
``k2site.middleware`` catches the counts up when the time comes.

Tag operations for moderators (bulk add/remove, merge, delete unused) live
here too, because they change what visitors see and must resync the listing
index (bulk writes skip the signals that usually do).
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.mail import get_connection, send_mass_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from .models import Status, Tag, Transition, WorkflowAction
from .roles import MODERATORS
from .services import announce_change, sync_entries

logger = logging.getLogger(__name__)

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
    WorkflowAction.PUBLISH: Rule(
        frozenset({Status.DRAFT, Status.IN_REVIEW, Status.ARCHIVED}), Status.PUBLISHED, MODERATE_PERMISSION
    ),
    WorkflowAction.UNPUBLISH: Rule(frozenset({Status.PUBLISHED, Status.ARCHIVED}), Status.DRAFT, MODERATE_PERMISSION),
    WorkflowAction.ARCHIVE: Rule(
        frozenset({Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED}), Status.ARCHIVED, MODERATE_PERMISSION
    ),
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


def action_between(from_status, to_status):
    """The action a change of status amounts to (approve rather than publish
    from review, since the author is waiting for it), or None."""
    for action, rule in RULES.items():
        if from_status in rule.sources and rule.target == to_status:
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
        raise TransitionError(
            f"Cannot {action.label.lower()} an entry that is {Status(from_status).label.lower()}."
        )
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
    claimed = type(entry)._default_manager.filter(pk=entry.pk, version=expected_version).update(
        version=F("version") + 1
    )
    if not claimed:
        raise StaleVersion(f"{entry} was changed by someone else.")
    entry.version = expected_version + 1


def record(entry, action, *, from_status, user, comment=""):
    """Log a transition that has been saved, and notify (after commit)."""
    transition = Transition.objects.create(
        content_type=ContentType.objects.get_for_model(entry),
        object_id=entry.pk,
        title=entry.title[:500],
        action=action,
        from_status=from_status,
        to_status=entry.status,
        comment=comment.strip(),
        actor=user if user and user.is_authenticated else None,
    )
    notify([(entry, transition)])
    return transition


def record_many(entries, action, *, from_status, user, comment=""):
    """Log the same step for many entries of one model in one INSERT, without
    emails (an import that publishes a whole file)."""
    content_type = ContentType.objects.get_for_model(type(entries[0]))
    actor = user if user and user.is_authenticated else None
    Transition.objects.bulk_create(
        [
            Transition(
                content_type=content_type,
                object_id=entry.pk,
                title=entry.title[:500],
                action=action,
                from_status=from_status,
                to_status=entry.status,
                comment=comment,
                actor=actor,
            )
            for entry in entries
        ],
        batch_size=1000,
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
    current._change_reason = _change_reason(action, comment)
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
        eligible, model, fields, default_user=user, default_change_reason=_change_reason(action, comment)
    )
    content_type = ContentType.objects.get_for_model(model)
    transitions = Transition.objects.bulk_create(
        [
            Transition(
                content_type=content_type,
                object_id=entry.pk,
                title=entry.title[:500],
                action=action,
                from_status=from_statuses[entry.pk],
                to_status=entry.status,
                comment=comment.strip(),
                actor=user,
                created_at=now,
            )
            for entry in eligible
        ]
    )
    sync_entries(eligible)
    notify(list(zip(eligible, transitions)))
    return eligible, len(entries) - len(eligible)


def _change_reason(action, comment):
    reason = WorkflowAction(action).label
    return f"{reason}: {comment.strip()}"[:100] if comment.strip() else reason


# --- notifications ---------------------------------------------------------


def _absolute(path):
    return f"{getattr(settings, 'SITE_URL', '').rstrip('/')}{path}"


def _admin_url(entry):
    opts = entry._meta
    return _absolute(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[entry.pk]))


def moderator_emails():
    users = get_user_model()._default_manager.filter(is_active=True).exclude(email="")
    return list(
        users.filter(Q(groups__name=MODERATORS) | Q(is_superuser=True)).values_list("email", flat=True).distinct()
    )


def author_emails(entries):
    """{entry key: emails} of who wrote each entry: an article's author and
    whoever submitted it for review (a query per kind, one for authors)."""
    users = get_user_model()._default_manager.filter(is_active=True).exclude(email="")
    author_ids = {_key(entry): getattr(entry, "author_id", None) for entry in entries}
    author_email = dict(
        users.filter(pk__in={pk for pk in author_ids.values() if pk}).values_list("pk", "email")
    )
    recipients = {key: {author_email[pk]} if pk in author_email else set() for key, pk in author_ids.items()}
    by_type = {}
    for entry in entries:
        by_type.setdefault(type(entry), []).append(entry.pk)
    for model, ids in by_type.items():
        submitters = Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=ids,
            action=WorkflowAction.SUBMIT,
            actor__in=users,
        ).values_list("object_id", "actor__email")
        for object_id, email in submitters:
            recipients[(model, object_id)].add(email)
    return recipients


def _key(entry):
    return (type(entry), entry.pk)


def notify(steps):
    """Email about [(entry, transition)] once the transaction commits:
    moderators when something is submitted, authors about everything else
    (with the reason when rejected). Mail failures are logged, never raised:
    the transition has happened."""
    if not steps:
        return
    moderators = None
    authors = None
    messages = []
    for entry, step in steps:
        actor_email = step.actor.email if step.actor else ""
        if step.action == WorkflowAction.SUBMIT:
            if moderators is None:
                moderators = moderator_emails()
            to = sorted(set(moderators) - {actor_email})
            subject = f"For review: {entry.title}"
            body = f"{step.actor or 'Someone'} submitted “{entry.title}” for review.\n\n"
        else:
            if authors is None:
                authors = author_emails([entry for entry, _ in steps])
            to = sorted(authors[_key(entry)] - {actor_email})
            verb = {
                WorkflowAction.APPROVE: "approved and published",
                WorkflowAction.REJECT: "sent back to draft",
                WorkflowAction.PUBLISH: "published",
                WorkflowAction.UNPUBLISH: "unpublished",
                WorkflowAction.ARCHIVE: "archived",
            }[step.action]
            subject = f"{step.get_action_display()}: {entry.title}"
            body = f"{step.actor or 'A moderator'} {verb} “{entry.title}”.\n\n"
            if step.to_status == Status.PUBLISHED and entry.publish_at and entry.publish_at > step.created_at:
                body += f"It becomes visible on {entry.publish_at:%d %b %Y at %H:%M} UTC.\n\n"
        if step.comment:
            label = "Reason" if step.action == WorkflowAction.REJECT else "Comment"
            body += f"{label}:\n{step.comment}\n\n"
        body += f"Open it: {_admin_url(entry)}\n"
        if to:
            messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, to))
    if messages:
        transaction.on_commit(lambda: _send(messages))


def _send(messages):
    try:
        send_mass_mail(messages, connection=get_connection())
    except Exception:  # noqa: BLE001 — a mail server outage must not undo a transition
        logger.exception("Could not send workflow notifications")


# --- tags ------------------------------------------------------------------


def _require_moderator(user):
    if not may_moderate(user):
        raise PermissionDenied("Only moderators change tags this way.")


def _through_models():
    from articles.models import Article
    from studies.models import Study

    return [(Study, Study.tags.through), (Article, Article.tags.through)]


def _log(user, objects, message):
    if user is not None and objects:
        LogEntry.objects.log_actions(user_id=user.pk, queryset=objects, action_flag=CHANGE, change_message=message)


@transaction.atomic
def bulk_add_tag(queryset, tag, *, user):
    """Add ``tag`` to every entry of ``queryset``; returns how many gained it."""
    _require_moderator(user)
    model = queryset.model
    through = model.tags.through
    ids = list(queryset.values_list("pk", flat=True))
    having = set(through.objects.filter(tag=tag, content_object_id__in=ids).values_list("content_object_id", flat=True))
    gaining = [pk for pk in ids if pk not in having]
    through.objects.bulk_create([through(tag=tag, content_object_id=pk) for pk in gaining], ignore_conflicts=True)
    return _after_tag_change(model, gaining, user, f"Added tag “{tag.name}”.")


@transaction.atomic
def bulk_remove_tag(queryset, tag, *, user):
    """Take ``tag`` off every entry of ``queryset``; returns how many lost it."""
    _require_moderator(user)
    model = queryset.model
    through = model.tags.through
    links = through.objects.filter(tag=tag, content_object_id__in=queryset.values("pk"))
    losing = list(links.values_list("content_object_id", flat=True))
    links.delete()
    return _after_tag_change(model, losing, user, f"Removed tag “{tag.name}”.")


def _after_tag_change(model, ids, user, message):
    if not ids:
        return 0
    # Bump the version so an editor's open form (with the old tags) cannot
    # silently put them back.
    model._default_manager.filter(pk__in=ids).update(version=F("version") + 1)
    entries = list(model._default_manager.filter(pk__in=ids))
    sync_entries(entries)
    _log(user, model._default_manager.filter(pk__in=ids), message)
    return len(ids)


@transaction.atomic
def merge_tags(sources, into, *, user):
    """Move every article and study from each tag in ``sources`` to ``into``,
    then delete the sources. Nothing is lost: an entry carrying both keeps
    one link. The listing index and counts follow (sync_entries). Returns the
    number of entries that changed."""
    _require_moderator(user)
    sources = [tag for tag in sources if tag.pk != into.pk]
    if not sources:
        return 0
    source_ids = [tag.pk for tag in sources]
    changed = 0
    for model, through in _through_models():
        affected = list(
            through.objects.filter(tag_id__in=source_ids).values_list("content_object_id", flat=True).distinct()
        )
        if not affected:
            continue
        having = set(
            through.objects.filter(tag=into, content_object_id__in=affected).values_list("content_object_id", flat=True)
        )
        through.objects.bulk_create(
            [through(tag=into, content_object_id=pk) for pk in affected if pk not in having], ignore_conflicts=True
        )
        through.objects.filter(tag_id__in=source_ids).delete()
        model._default_manager.filter(pk__in=affected).update(version=F("version") + 1)
        for start in range(0, len(affected), 2000):
            sync_entries(list(model._default_manager.filter(pk__in=affected[start : start + 2000])))
        changed += len(affected)
    if not into.description:
        into.description = next((tag.description for tag in sources if tag.description), "")
        into.save(update_fields=["description"])
    names = ", ".join(f"“{tag.name}”" for tag in sources)
    Tag.objects.filter(pk__in=source_ids).delete()
    _log(user, Tag.objects.filter(pk=into.pk), f"Merged {names} into this tag ({changed} entries).")
    announce_change()
    return changed


def tags_in_use(tag_ids):
    """The ids among ``tag_ids`` that some article or study (any state) carries."""
    used = set()
    for _, through in _through_models():
        used.update(through.objects.filter(tag_id__in=tag_ids).values_list("tag_id", flat=True).distinct())
    return used


@transaction.atomic
def delete_unused_tags(queryset, *, user):
    """Delete the tags of ``queryset`` that no entry carries; returns (deleted, kept) names."""
    _require_moderator(user)
    tags = list(queryset)
    used = tags_in_use([tag.pk for tag in tags])
    unused = [tag for tag in tags if tag.pk not in used]
    Tag.objects.filter(pk__in=[tag.pk for tag in unused]).delete()
    if unused:
        announce_change()
    return [tag.name for tag in unused], [tag.name for tag in tags if tag.pk in used]
