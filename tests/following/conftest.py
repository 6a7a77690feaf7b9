"""Following a topic: the site's mail settings for these tests (locmem)."""

import pytest

from tests.following.helpers import SITE_URL


@pytest.fixture(autouse=True)
def following_settings(settings):
    settings.SITE_URL = SITE_URL
    settings.FOLLOW_DIGEST_HOUR = 6
    settings.FOLLOW_SIGNUPS_PER_IP_PER_HOUR = 10
    settings.FOLLOW_MAILS_PER_ADDRESS_PER_DAY = 3
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings
