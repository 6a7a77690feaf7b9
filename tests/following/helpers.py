"""Following a topic as a visitor does it, through the pages and the mailed
links, and a clock for the digests (``send_digests --now``)."""

import datetime
import itertools
import re
from io import StringIO

from django.core import mail
from django.core.management import call_command
from django.test import Client

from following.models import Subscription

SITE_URL = "https://k2.example.org"
CONFIRM_LINK = re.compile(r"https://k2\.example\.org(/follow/confirm/([\w-]+)/\w+/)")
UNSUBSCRIBE_LINK = re.compile(r"https://k2\.example\.org(/follow/unsubscribe/[\w-]+/)")


_addresses = itertools.count(1)


def client_from(ip=None):
    """A visitor's browser; from its own address unless ``ip`` is given."""
    return Client(REMOTE_ADDR=ip or f"198.51.100.{next(_addresses) % 250 + 1}")


def sign_up(page, email, frequency="daily", client=None):
    """POST the sign-up form of ``page`` ("/tags/a+b/follow/?type=rct")."""
    return (client or Client()).post(page, {"email": email, "frequency": frequency})


def confirm_link(message):
    return CONFIRM_LINK.search(message.body).group(1)


def unsubscribe_link(message):
    return UNSUBSCRIBE_LINK.search(message.body).group(1)


def follow(page, email, frequency="daily"):
    """Sign up on ``page`` and confirm through the mailed link, as a visitor
    would; returns the subscription. Clears the outbox."""
    mail.outbox.clear()
    sign_up(page, email, frequency, client=client_from())
    (message,) = mail.outbox
    response = Client().post(confirm_link(message))
    assert response.status_code == 302
    mail.outbox.clear()
    return Subscription.objects.get(confirm_token=CONFIRM_LINK.search(message.body).group(2))


def send_digests(at):
    """Run the command as if it were ``at``; returns its output."""
    out = StringIO()
    call_command("send_digests", now=at.isoformat(), stdout=out)
    return out.getvalue()


def next_run_after(moment, days=1, hour=6, minute=5):
    """A run a few minutes after the digest hour, ``days`` later."""
    day = (moment + datetime.timedelta(days=days)).astimezone(datetime.UTC)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)
