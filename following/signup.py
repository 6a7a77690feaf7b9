"""Signing up, confirming and unsubscribing: the rules the pages call.

Double opt-in: a sign-up creates an unconfirmed subscription and mails a
link; only the inbox's owner can use it, and only then do digests start.
Whatever happened — a new address, a known one, one already confirmed, a
limit reached, a mail that failed — the visitor sees the same page, so the
form tells nobody whether an address follows anything. (One difference
remains measurable: a sign-up that sends a mail answers after the mail
server did, a few milliseconds on a local relay. It tells at most that no
confirmation for that address and topic went out within the hour, and the
limits bound how often anyone can ask.) Rate limits: ``following.limits``.
"""

import logging

from django.contrib.auth.base_user import BaseUserManager
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import limits
from .mail import confirmation_message
from .models import CONFIRM_WITHIN, Subscription
from .schedule import next_slot

logger = logging.getLogger(__name__)

# One confirmation mail per address and topic per this long, whoever asks.
RESEND_AFTER = limits.HOUR


class TooManySignUps(Exception):
    """This client signed up too often (the per-client limit)."""


def normalize_email(email):
    """Trimmed, with the domain in lower case (the local part is the mailbox's own)."""
    return BaseUserManager.normalize_email(email.strip())


def sign_up(*, email, topic, frequency, client_ip, root, now=None):
    """Record that ``email`` asks for a ``frequency`` digest of ``topic``
    and, within the limits, mail it the confirmation link. Returns nothing
    the caller could show; raises TooManySignUps past the per-client limit."""
    if not limits.client_may_sign_up(client_ip):
        raise TooManySignUps
    now = now or timezone.now()
    email = normalize_email(email)
    subscription = _find_or_create(email, topic, frequency)
    if not subscription.is_confirmed and subscription.frequency != frequency:
        # Until confirmed, the latest wish counts (the link also says it).
        Subscription.objects.filter(pk=subscription.pk).update(frequency=frequency)
    previous = subscription.confirmation_sent_at
    if previous is not None and (now - previous).total_seconds() < RESEND_AFTER:
        return
    if not limits.address_may_receive(email):
        logger.info("Confirmation for subscription %s not sent: address limit or cache unavailable.", subscription.pk)
        return
    # Of two simultaneous sign-ups, the one that moves the time on sends.
    if not Subscription.objects.filter(pk=subscription.pk, confirmation_sent_at=previous).update(
        confirmation_sent_at=now
    ):
        return
    try:
        confirmation_message(subscription, topic, frequency, root=root).send()
    except Exception:
        # Not sent: the visitor may ask again at once.
        Subscription.objects.filter(pk=subscription.pk, confirmation_sent_at=now).update(confirmation_sent_at=previous)
        logger.exception("Confirmation mail for subscription %s failed.", subscription.pk)


def _find_or_create(email, topic, frequency):
    found = Subscription.objects.for_address(email).filter(slugs=topic.slugs, filters=topic.filters).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Subscription.objects.create(
                email=email, slugs=topic.slugs, filters=topic.filters, frequency=frequency
            )
    except IntegrityError:
        # The same sign-up, a moment earlier, from another request.
        return Subscription.objects.for_address(email).get(slugs=topic.slugs, filters=topic.filters)


def subscription_to_confirm(token, now=None):
    """The subscription a confirmation link names, or None (unknown, or
    never confirmed within CONFIRM_WITHIN)."""
    now = now or timezone.now()
    subscription = Subscription.objects.filter(confirm_token=token).first()
    if subscription is None or (not subscription.is_confirmed and subscription.created_at < now - CONFIRM_WITHIN):
        return None
    return subscription


@transaction.atomic
def confirm(subscription, frequency, now=None):
    """Start (or switch to ``frequency``) the digests. Idempotent: the same
    link used again changes nothing. The first digest lists what is
    published from now on."""
    now = now or timezone.now()
    current = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if current.is_confirmed and current.frequency == frequency:
        return current
    if not current.is_confirmed:
        current.confirmed_at = now
        current.cutoff = now
    current.frequency = frequency
    current.next_due_at = next_slot(frequency, now)
    current.save(update_fields=["confirmed_at", "cutoff", "frequency", "next_due_at"])
    return current


def unsubscribe(token):
    """Forget the subscription (its address with it). Idempotent: an unknown
    or used link is a no-op. Its digests waiting to be sent go with it."""
    Subscription.objects.filter(unsubscribe_token=token).delete()
