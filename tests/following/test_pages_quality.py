"""The follow pages and messages are valid HTML (W3C Nu checker), and a
visitor with JavaScript off follows a topic in Chromium from the tag page
to the confirmed subscription, every page passing axe-core."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from following.mail import digest_message
from following.models import Subscription
from following.topics import Topic
from tests.browser import browser  # noqa: F401  (fixture)
from tests.checkers import AXE_JS, require_node_module, vnu_messages
from tests.factories import StudyFactory
from tests.following.helpers import SITE_URL, confirm_link, sign_up, unsubscribe_link

PAGE = "/tags/vitamin-k2+bone/follow/"


@pytest.mark.django_db
def test_follow_pages_and_messages_are_valid_html(site, tags, tmp_path):
    documents = {
        "tag page": Client().get("/tags/vitamin-k2+bone/?type=rct&direct=1").content,
        "follow page": Client().get(PAGE + "?type=rct&year_min=2010").content,
        "follow page, invalid address": Client().post(PAGE, {"email": "nope", "frequency": "daily"}).content,
        "sent": Client().get("/follow/sent/").content,
    }
    sign_up(PAGE, "reader@example.org")
    (confirmation,) = mail.outbox
    documents["confirmation mail"] = confirmation.alternatives[0][0].encode()
    documents["confirm"] = Client().get(confirm_link(confirmation)).content
    documents["confirmed"] = Client().post(confirm_link(confirmation), follow=True).content
    documents["unsubscribe"] = Client().get(unsubscribe_link(confirmation)).content
    subscription = Subscription.objects.get()
    entry = StudyFactory(title="A <new> trial & more", tags=tags[:2]).entry
    digest = digest_message(
        subscription,
        Topic.load(subscription.slugs, subscription.filters),
        [entry],
        more=True,
        since=timezone.now() - datetime.timedelta(days=1),
        root=SITE_URL,
    )
    documents["digest mail"] = digest.alternatives[0][0].encode()
    documents["unsubscribed"] = Client().post(unsubscribe_link(confirmation)).content
    documents["link expired"] = Client().get(unsubscribe_link(confirmation)).content
    for number in range(11):
        too_many = sign_up(PAGE, f"r{number}@example.org", client=Client(REMOTE_ADDR="192.0.2.99"))
    assert too_many.status_code == 429
    documents["too many"] = too_many.content

    files = {}
    for index, (name, content) in enumerate(documents.items()):
        path = tmp_path / f"page{index}.html"
        path.write_bytes(content)
        files[f"file:{path}"] = name
    messages = vnu_messages([path.removeprefix("file:") for path in files])
    assert [f"{files.get(m.get('url'), m.get('url'))}: {m['message']}" for m in messages] == []


RUN_AXE = """async () => {
  const results = await axe.run(document);
  return results.violations.map((v) => v.id + " [" + v.impact + "] " + v.help);
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_visitor_without_javascript_follows_a_topic(live_server, browser, site):  # noqa: F811
    require_node_module(AXE_JS)
    # axe is injected as an inline script, which the site's CSP refuses; the
    # page's own behaviour is tested with JavaScript off.
    context = browser.new_context(java_script_enabled=False, bypass_csp=True)
    page = context.new_page()
    violations = []

    # axe runs in a second context with JavaScript on, on the same addresses.
    axe_context = browser.new_context(bypass_csp=True)
    axe_page = axe_context.new_page()

    def audit(name, url):
        axe_page.goto(url)
        axe_page.add_script_tag(path=str(AXE_JS))
        violations.extend(f"{name}: {violation}" for violation in axe_page.evaluate(RUN_AXE))

    page.goto(live_server.url + "/tags/vitamin-k2+bone/?type=rct")
    page.get_by_role("button", name="Follow by email").click()
    assert page.url == live_server.url + PAGE + "?type=rct"
    audit("follow page", page.url)
    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_label("Weekly").check()
    page.get_by_role("button", name="Send me a confirmation link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"
    audit("sent", page.url)

    (message,) = mail.outbox
    page.goto(live_server.url + confirm_link(message))
    audit("confirm", page.url)
    page.get_by_role("button", name="Confirm").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You follow Bone and Vitamin K2"
    audit("confirmed", page.url)
    subscription = Subscription.objects.get()
    assert subscription.is_confirmed and subscription.frequency == "weekly" and subscription.filters == "type=rct"

    page.goto(live_server.url + unsubscribe_link(message))
    audit("unsubscribe", page.url)
    page.get_by_role("button", name="Unsubscribe").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are unsubscribed"
    assert not Subscription.objects.exists()
    context.close()
    axe_context.close()
    assert not violations, "axe-core found:\n" + "\n".join(violations)
