"""End to end through a real SMTP server on loopback (aiosmtpd): the
confirmation mail and a digest leave through Django's SMTP backend, and
what arrives is parsed with the standard library as a mail client would:
headers, a multipart/alternative of text/plain and text/html, the links."""

import datetime
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup
from django.test import Client

from following.models import Subscription
from tests.factories import StudyFactory
from tests.following.helpers import CONFIRM_LINK, SITE_URL, next_run_after, send_digests

pytestmark = pytest.mark.django_db


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content, policy=email.policy.default),
            )
        )
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "K2 Site <digests@k2.example.org>"
    yield inbox
    controller.stop()


def parts(message):
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def assert_well_formed(message, *, to, subject):
    assert message["From"] == "K2 Site <digests@k2.example.org>"
    assert message["To"] == to
    assert message["Subject"] == subject
    assert message["Message-ID"] and message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    # Long enough to be folded after the colon (legal: RFC 5322 folding),
    # which leaves a leading space once unfolded.
    unsubscribe = message["List-Unsubscribe"].strip()
    assert unsubscribe.startswith(f"<{SITE_URL}/follow/unsubscribe/") and unsubscribe.endswith("/>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return unsubscribe[1:-1]


def links(html):
    return [anchor["href"] for anchor in BeautifulSoup(html, "html.parser").find_all("a")]


def test_confirmation_and_digest_through_a_real_smtp_server(site, tags, smtp_server):
    k2, bone, _calcium = tags
    response = Client(REMOTE_ADDR="192.0.2.10").post(
        "/tags/vitamin-k2+bone/follow/", {"email": "reader@example.org", "frequency": "daily"}
    )
    assert response.status_code == 302

    (sender, recipients, confirmation) = smtp_server.received[0]
    assert sender == "digests@k2.example.org" and recipients == ["reader@example.org"]
    assert_well_formed(confirmation, to="reader@example.org", subject="Confirm: follow Bone and Vitamin K2 on K2 Site")
    text, html = parts(confirmation)
    confirm = CONFIRM_LINK.search(text)
    assert f"{SITE_URL}{confirm.group(1)}" in links(html)
    assert Client().post(confirm.group(1)).status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.is_confirmed

    StudyFactory(
        title="Menaquinone-7 & arterial stiffness <2024>",
        slug="mk7-arteries",
        tags=[k2, bone],
        publish_at=subscription.confirmed_at + datetime.timedelta(hours=1),
        year=2024,
        month=5,
    )
    output = send_digests(next_run_after(subscription.confirmed_at))
    assert "reader@example.org" not in output

    assert len(smtp_server.received) == 2
    _sender, recipients, digest = smtp_server.received[1]
    assert recipients == ["reader@example.org"]
    unsubscribe = assert_well_formed(digest, to="reader@example.org", subject="New on K2 Site: Bone and Vitamin K2 (1)")
    text, html = parts(digest)
    assert "Menaquinone-7 & arterial stiffness <2024>" in text and "RCT · May 2024" in text
    assert f"{SITE_URL}/studies/mk7-arteries/" in text
    # Escaped in the HTML part, and every link absolute.
    assert "Menaquinone-7 &amp; arterial stiffness &lt;2024&gt;" in html
    assert links(html) == [
        f"{SITE_URL}/tags/bone+vitamin-k2/",
        f"{SITE_URL}/studies/mk7-arteries/",
        f"{SITE_URL}/tags/bone+vitamin-k2/",
        unsubscribe,
    ]

    # Once only, and the header's one-click POST ends it.
    send_digests(next_run_after(subscription.confirmed_at))
    assert len(smtp_server.received) == 2
    assert Client(enforce_csrf_checks=True).post(unsubscribe.removeprefix(SITE_URL)).status_code == 200
    assert not Subscription.objects.exists()
