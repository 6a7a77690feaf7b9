"""The two messages: the confirmation mail of a sign-up and a digest.

Both are plain text with an HTML alternative, through Django's mail settings
(EMAIL_BACKEND …), from DEFAULT_FROM_EMAIL, and both carry the one-click
unsubscribe of RFC 8058: ``List-Unsubscribe: <https://…/follow/unsubscribe/TOKEN/>``
and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (mail clients
POST to it; ``following.views.unsubscribe`` unsubscribes at once), besides
the link in the text. Links are absolute: SITE_URL, or, for a mail sent
while answering a request, the request's own scheme and host when SITE_URL
is empty (development).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse


def site_root(request=None):
    """ "https://k2.example.org": SITE_URL, else the request's."""
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    raise ImproperlyConfigured("SITE_URL must be set: messages sent outside a request carry absolute links.")


def unsubscribe_url(root, subscription):
    return root + reverse("following:unsubscribe", kwargs={"token": subscription.unsubscribe_token})


def _message(*, subject, to, template, context, root, subscription, connection=None):
    link = unsubscribe_url(root, subscription)
    context = {**context, "SITE_NAME": settings.SITE_NAME, "root": root, "unsubscribe_url": link}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"following/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # RFC 3834: sent by a program; auto-responders should not answer.
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(f"following/email/{template}.html", context), "text/html")
    return message


def confirmation_message(subscription, topic, frequency, *, root):
    """ "Confirm: follow Bone and Vitamin K2 on K2 Site", with the link that confirms."""
    confirm = root + reverse("following:confirm", kwargs={"token": subscription.confirm_token, "frequency": frequency})
    return _message(
        subject=f"Confirm: follow {topic.label} on {settings.SITE_NAME}",
        to=subscription.email,
        template="confirm",
        context={
            "topic": topic,
            "topic_url": root + topic.path,
            "frequency": frequency,
            "confirm_url": confirm,
            "days": 7,
        },
        root=root,
        subscription=subscription,
    )


def digest_message(subscription, topic, entries, *, more, since, root, connection=None):
    """ "New on K2 Site: Bone and Vitamin K2 (3)": each new entry's title,
    kind or study type, date and link."""
    count = f"{len(entries)}+" if more else str(len(entries))
    rows = [
        {
            "title": entry.title,
            "url": root + entry.get_absolute_url(),
            "kind": entry.kind_label,
            "date": entry.date_label,
        }
        for entry in entries
    ]
    return _message(
        subject=f"New on {settings.SITE_NAME}: {topic.label} ({count})",
        to=subscription.email,
        template="digest",
        context={
            "topic": topic,
            "topic_url": root + topic.path,
            "entries": rows,
            "more": more,
            "since": since,
            "frequency": subscription.get_frequency_display().lower(),
        },
        root=root,
        subscription=subscription,
        connection=connection,
    )
