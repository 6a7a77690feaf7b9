"""Emails about workflow steps: moderators when something is submitted,
authors about everything else (with the reason when rejected). Sent after
the transaction commits; a mail failure is logged, never raised."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.mail import get_connection, send_mass_mail
from django.db import transaction
from django.db.models import Q

from catalog.models import Status, Transition, WorkflowAction
from common.admin_urls import absolute, admin_url

from .roles import MODERATORS

logger = logging.getLogger(__name__)


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
    author_email = dict(users.filter(pk__in={pk for pk in author_ids.values() if pk}).values_list("pk", "email"))
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
        if step.action == WorkflowAction.WITHDRAW:
            continue  # taking one's own submission back tells nobody
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
        body += f"Open it: {absolute(admin_url(entry))}\n"
        if to:
            messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, to))
    if messages:
        transaction.on_commit(lambda: _send(messages))


def _send(messages):
    try:
        send_mass_mail(messages, connection=get_connection())
    except Exception:
        logger.exception("Could not send workflow notifications")


def notify_revision(revision, outcome):
    """Email about a change to a published entry (editorial.revisions):
    moderators when it is proposed, its author when it is approved or rejected."""
    model = revision.content_type.model_class()
    link = absolute(admin_url(model, "revision", revision.object_id))
    author = revision.author
    if outcome == "proposed":
        to = sorted(set(moderator_emails()) - {author.email if author else ""})
        subject = f"Changes to review: {revision.title}"
        body = f"{author or 'An import'} changed the published “{revision.title}”. Visitors see the live version "
        body += "until a moderator approves the change.\n\n"
    else:
        to = [author.email] if author and author.email and author.is_active else []
        verb = "approved: they are live now" if outcome == "approved" else "not accepted"
        subject = f"Changes {outcome}: {revision.title}"
        body = f"{revision.decided_by or 'A moderator'} reviewed your changes to “{revision.title}”: {verb}.\n\n"
        if revision.reason:
            body += f"{'Reason' if outcome == 'rejected' else 'Comment'}:\n{revision.reason}\n\n"
    body += f"Open it: {link}\n"
    if to:
        messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, to)]
        transaction.on_commit(lambda: _send(messages))
