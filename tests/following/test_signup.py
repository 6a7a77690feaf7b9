"""Signing up on a tag or intersection page: double opt-in, one-click
unsubscribe, rate limits, and never an address on a page."""

import datetime

import pytest
from bs4 import BeautifulSoup
from django.core import mail
from django.test import Client
from django.utils import timezone

from following.models import Frequency, Subscription
from tests.following.helpers import (
    client_from,
    confirm_link,
    follow,
    sign_up,
    unsubscribe_link,
)

pytestmark = pytest.mark.django_db

PAGE = "/tags/vitamin-k2+bone/follow/"
ADDRESS = "Reader.One@Example.org"


def main_buttons(response):
    return [button.get_text() for button in BeautifulSoup(response.content, "html.parser").select("main button")]


def test_the_tag_page_offers_following_with_its_filters_and_stays_cacheable(client, site):
    response = client.get("/tags/vitamin-k2+bone/?type=rct&year_min=2010&sort=title&direct=1")
    form = BeautifulSoup(response.content, "html.parser").select_one("form.follow-form")
    assert form["method"] == "get" and form["action"] == "follow/"
    hidden = sorted((field["name"], field["value"]) for field in form.select("input[type=hidden]"))
    assert hidden == [("direct", "1"), ("type", "rct"), ("year_min", "2010")]
    assert form.button.get_text() == "Follow by email"
    # No CSRF token, so no cookie: the page cache may keep the page.
    assert not response.cookies


def test_the_follow_page_names_the_topic_and_its_filters(client, site):
    response = client.get(PAGE + "?type=rct&year_min=2010&sort=title")
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.h1.get_text() == "Follow Bone and Vitamin K2 by email"
    assert [item.get_text() for item in soup.select(".follow-conditions li")] == ["Study type: RCT", "From 2010"]
    assert soup.select_one('meta[name="robots"]')["content"] == "noindex"
    assert soup.select_one("form.follow-signup input[name=csrfmiddlewaretoken]")
    assert "no-store" in response["Cache-Control"]


def test_the_follow_page_of_an_alias_or_repeated_slug_redirects_and_unknown_is_404(client, site):
    response = client.get("/tags/bone+bone/follow/?type=rct")
    assert response.status_code == 301 and response["Location"] == "/tags/bone/follow/?type=rct"
    assert client.get("/tags/no-such-tag/follow/").status_code == 404


def test_sign_up_mails_a_confirmation_link_and_nothing_starts_before_it_is_used(site):
    response = sign_up(PAGE + "?type=rct", ADDRESS, "weekly")
    assert response.status_code == 302 and response["Location"] == "/follow/sent/"
    (message,) = mail.outbox
    assert message.to == ["Reader.One@example.org"]
    assert message.subject == "Confirm: follow Bone and Vitamin K2 on K2 Site"
    assert message.extra_headers["List-Unsubscribe"].startswith("<https://k2.example.org/follow/unsubscribe/")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/follow/confirm/" in message.body and "/weekly/" in message.body
    subscription = Subscription.objects.get()
    assert (subscription.slugs, subscription.filters) == ("bone+vitamin-k2", "type=rct")
    assert not subscription.is_confirmed and subscription.next_due_at is None

    # Opening the link (as a mail scanner does) confirms nothing: the page has a button.
    link = confirm_link(message)
    page = Client().get(link)
    assert page.status_code == 200 and main_buttons(page) == ["Confirm"]
    subscription.refresh_from_db()
    assert not subscription.is_confirmed

    assert Client().post(link).status_code == 302
    subscription.refresh_from_db()
    assert subscription.is_confirmed and subscription.frequency == Frequency.WEEKLY
    assert subscription.next_due_at.weekday() == 0 and subscription.next_due_at.hour == 6
    confirmed_at = subscription.confirmed_at

    # Idempotent: used again, nothing changes; the page says it is done.
    assert Client().post(link).status_code == 302
    subscription.refresh_from_db()
    assert subscription.confirmed_at == confirmed_at
    done = Client().get(link)
    assert "You follow" in done.content.decode() and main_buttons(done) == []


def test_the_sent_page_is_the_same_whatever_happened(site, settings):
    follow(PAGE, "known@example.org")  # already confirmed
    sign_up(PAGE, "pending@example.org")  # unconfirmed, mailed a minute ago
    mail.outbox.clear()
    pages = set()
    for email in ("new@example.org", "known@example.org", "pending@example.org"):
        response = sign_up(PAGE, email, client=client_from())
        assert response.status_code == 302
        pages.add(response["Location"])
    assert pages == {"/follow/sent/"}
    sent = Client().get("/follow/sent/")
    assert sent.status_code == 200 and "Check your inbox" in sent.content.decode()
    # Only the new address was mailed: the other two were mailed within the hour.
    assert [message.to for message in mail.outbox] == [["new@example.org"]]


def test_a_repeated_sign_up_is_not_mailed_again_within_the_hour(site):
    for _ in range(3):
        sign_up(PAGE, ADDRESS, client=client_from())
    assert len(mail.outbox) == 1
    subscription = Subscription.objects.get()
    Subscription.objects.filter(pk=subscription.pk).update(
        confirmation_sent_at=timezone.now() - datetime.timedelta(hours=2)
    )
    sign_up(PAGE, ADDRESS.lower(), client=client_from())
    assert len(mail.outbox) == 2
    assert Subscription.objects.count() == 1  # the same address in another case is the same subscription


def test_an_address_gets_at_most_three_confirmations_a_day_whatever_the_topic(site):
    pages = ["/tags/bone/follow/", "/tags/vitamin-k2/follow/", "/tags/calcium/follow/", PAGE, PAGE + "?type=rct"]
    responses = [sign_up(page, ADDRESS, client=client_from()) for page in pages]
    assert [response["Location"] for response in responses] == ["/follow/sent/"] * 5
    assert len(mail.outbox) == 3
    assert Subscription.objects.count() == 5  # recorded, not mailed


def test_one_client_gets_at_most_ten_sign_ups_an_hour(site):
    client = client_from("203.0.113.7")
    for number in range(10):
        assert sign_up(PAGE, f"reader{number}@example.org", client=client).status_code == 302
    refused = sign_up(PAGE, "reader10@example.org", client=client)
    assert refused.status_code == 429 and "Too many sign-ups" in refused.content.decode()
    assert len(mail.outbox) == 10
    # Another client is not affected.
    assert sign_up(PAGE, "reader11@example.org", client=client_from("203.0.113.8")).status_code == 302


def test_ipv6_clients_are_counted_per_64(site):
    for number in range(10):
        client = client_from(f"2001:db8:1:2::{number + 1:x}")
        assert sign_up(PAGE, f"reader{number}@example.org", client=client).status_code == 302
    assert sign_up(PAGE, "other@example.org", client=client_from("2001:db8:1:2:ffff::1")).status_code == 429
    assert sign_up(PAGE, "other@example.org", client=client_from("2001:db8:1:3::1")).status_code == 302


def test_without_a_cache_no_confirmation_is_sent_but_the_page_is_the_same(site, settings):
    # A cache that cannot count (Redis down reads like this): the address
    # limit fails closed, the client limit open.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    responses = [
        sign_up(PAGE, f"reader{number}@example.org", client=client_from("203.0.113.9")) for number in range(12)
    ]
    assert {response.status_code for response in responses} == {302}
    assert mail.outbox == []
    # Nothing was marked sent: once the cache is back, asking again sends.
    assert not Subscription.objects.filter(confirmation_sent_at__isnull=False).exists()


def test_an_invalid_address_is_refused_without_echoing_it(client, site):
    response = client.post(PAGE, {"email": "not-an-address<b>", "frequency": "daily"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address" in page and "not-an-address" not in page
    assert not Subscription.objects.exists() and mail.outbox == []


def test_the_sign_up_form_needs_its_csrf_token(site):
    client = Client(enforce_csrf_checks=True)
    assert client.post(PAGE, {"email": ADDRESS, "frequency": "daily"}).status_code == 403
    page = client.get(PAGE)
    token = BeautifulSoup(page.content, "html.parser").select_one("input[name=csrfmiddlewaretoken]")["value"]
    response = client.post(PAGE, {"email": ADDRESS, "frequency": "daily", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and len(mail.outbox) == 1


def test_a_confirmed_follower_asking_again_can_switch_to_weekly(site):
    subscription = follow(PAGE, ADDRESS, "daily")
    # Past the hour in which no second confirmation goes to the same address and topic.
    Subscription.objects.update(confirmation_sent_at=timezone.now() - datetime.timedelta(hours=2))
    sign_up(PAGE, ADDRESS, "weekly", client=client_from())
    (message,) = mail.outbox
    link = confirm_link(message)
    assert link.endswith("/weekly/")
    assert main_buttons(Client().get(link)) == ["Switch to weekly"]
    subscription.refresh_from_db()
    assert subscription.frequency == Frequency.DAILY  # not before the link is used
    Client().post(link)
    subscription.refresh_from_db()
    assert subscription.frequency == Frequency.WEEKLY and subscription.next_due_at.weekday() == 0


def test_an_unconfirmed_sign_up_expires_after_a_week(site):
    sign_up(PAGE, ADDRESS)
    link = confirm_link(mail.outbox[0])
    Subscription.objects.update(created_at=timezone.now() - datetime.timedelta(days=8))
    response = Client().post(link)
    assert response.status_code == 404 and "no longer works" in response.content.decode()
    assert not Subscription.objects.get().is_confirmed


def test_unsubscribe_by_the_button_on_the_page(site):
    sign_up(PAGE, ADDRESS)
    link = unsubscribe_link(mail.outbox[0])
    page = Client().get(link)
    assert page.status_code == 200
    form = BeautifulSoup(page.content, "html.parser").select_one("main form")
    assert form["method"] == "post" and form.button.get_text() == "Unsubscribe"
    assert Subscription.objects.exists()  # opening the link did nothing
    done = Client(enforce_csrf_checks=True).post(link)
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert not Subscription.objects.exists()
    # Used again: nothing to do, and the page still says so.
    assert Client().post(link).status_code == 200
    assert Client().get(link).status_code == 404


def test_one_click_unsubscribe_as_mail_clients_post_it(site):
    subscription = follow(PAGE, ADDRESS)
    link = f"/follow/unsubscribe/{subscription.unsubscribe_token}/"
    # RFC 8058: a POST with this body, no cookies, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not Subscription.objects.exists()


def test_no_page_ever_shows_an_address(site, superuser, login):
    pages = [
        lambda: Client().get(PAGE),
        lambda: sign_up(PAGE, ADDRESS, client=client_from()),
        lambda: Client().post(PAGE, {"email": ADDRESS, "frequency": "often"}),
        lambda: Client().get("/follow/sent/"),
        lambda: Client().get(confirm_link(mail.outbox[0])),
        lambda: Client().post(confirm_link(mail.outbox[0]), follow=True),
        lambda: Client().get(confirm_link(mail.outbox[0])),
        lambda: Client().get(unsubscribe_link(mail.outbox[0])),
        lambda: Client().get("/tags/vitamin-k2+bone/"),
        lambda: Client().post(unsubscribe_link(mail.outbox[0])),
    ]
    for page in pages:
        response = page()
        text = response.content.decode().lower()
        assert ADDRESS.lower() not in text and "reader.one" not in text, response.request["PATH_INFO"]
