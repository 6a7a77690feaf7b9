"""Fixtures every test package shares: the cache, query counting, the
people of the workflow (editor, moderator, …) and a small published site
with hidden entries that must never show."""

import datetime
import os

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from k2site.middleware import SCHEDULE_CHECK_KEY
from tests.factories import ArticleFactory, StudyFactory, TagFactory


def pytest_sessionstart(session):
    # CI says which database it means to test; running on another one by
    # accident (PostgreSQL unreachable, DATABASE_URL lost) must fail loudly.
    expected = os.environ.get("K2_EXPECT_DB")
    if expected:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        if expected not in engine:
            pytest.exit(f"Expected the {expected} database, settings use {engine}.", returncode=3)


def reset_cache():
    """An empty cache, with the scheduled-publishing check already done, so
    query counts don't depend on test order."""
    cache.clear()
    cache.add(SCHEDULE_CHECK_KEY, 1, timeout=3600)


@pytest.fixture(autouse=True)
def fresh_cache():
    reset_cache()
    yield
    cache.clear()


@pytest.fixture
def count_queries(client):
    """GET a URL and return (response, number of queries it ran); with
    ``cold=True`` on an empty cache, as the first visitor after a change."""

    def get(url, cold=False, **kwargs):
        if cold:
            reset_cache()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, **kwargs)
        return response, len(queries)

    return get


def only_postgres():
    return pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


# --- people ------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


def make_user(username, group=None, password=None, **extra):
    # No password unless a test logs in through the login page: hashing one
    # costs a third of a second, and force_login does not need it.
    user = User.objects.create_user(
        username, email=f"{username}@example.org", password=password, is_staff=True, **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db):
    return make_user("edith", "Editors", first_name="Edith", last_name="Editor")


@pytest.fixture
def other_editor(db):
    return make_user("otto", "Editors")


@pytest.fixture
def moderator(db):
    return make_user("mona", "Moderators", first_name="Mona", last_name="Moderator")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", email="root@example.org", password=None)


@pytest.fixture
def login():
    """A test client logged in as ``user`` (anonymous for None)."""

    def client_for(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return client_for


# --- a small site ------------------------------------------------------------


@pytest.fixture
def tags():
    return (
        TagFactory(name="Vitamin K2", slug="vitamin-k2"),
        TagFactory(name="Bone", slug="bone"),
        TagFactory(name="Calcium", slug="calcium"),
    )


@pytest.fixture
def site(tags):
    """A few published entries of each kind, and drafts and a scheduled and
    an expired entry that must never show."""
    k2, bone, calcium = tags
    now = timezone.now()
    return {
        "rct": StudyFactory(
            title="Menaquinone-7 and bone density",
            slug="mk7-bone",
            tags=[k2, bone],
            year=2013,
            month=3,
            journal="Osteoporosis International",
            abstract="Low-dose menaquinone-7 improved bone mineral density in postmenopausal women.",
            authors=[{"family": "Knapen", "given": "Marjo H J"}, {"family": "Drummen", "given": "Nadja E"}],
        ),
        "review": StudyFactory(
            title="Vitamin K and calcium – a review",
            slug="k-calcium-review",
            tags=[k2, bone, calcium],
            year=2017,
            month=10,
            study_type="review",
            journal="Nutrients",
            abstract="Warfarin and vascular calcification: what vitamin K2 does to arteries.",
        ),
        "old": StudyFactory(
            title="Natto intake and hip fractures",
            slug="natto-fractures",
            tags=[bone],
            year=2001,
            month=None,
            study_type="cohort",
            journal="Nutrition",
            abstract="Fermented soybeans rich in menaquinone-7.",
        ),
        "undated": StudyFactory(
            title="An undated case report",
            slug="undated",
            tags=[k2],
            year=None,
            month=None,
            study_type="case_report",
            journal="",
            abstract="A single patient.",
        ),
        "article": ArticleFactory(
            title="Vitamin K2 and circulatory system",
            slug="k2-circulation",
            tags=[k2, calcium],
            lead="How menaquinone keeps calcium out of arteries.",
            body="## Arteries\n\nMatrix Gla protein needs vitamin K2.",
        ),
        "draft": StudyFactory(
            title="Secret draft study about bone",
            slug="secret-draft",
            tags=[k2, bone],
            draft=True,
            abstract="menaquinone bone warfarin",
        ),
        "draft_article": ArticleFactory(
            title="Secret draft article about bone",
            slug="secret-draft-article",
            tags=[k2, bone],
            draft=True,
            body="menaquinone bone",
        ),
        "scheduled": StudyFactory(
            title="Secret scheduled study",
            slug="secret-scheduled",
            tags=[k2, bone],
            publish_at=now + datetime.timedelta(days=3),
            abstract="menaquinone bone",
        ),
        "expired": ArticleFactory(
            title="Secret expired article",
            slug="secret-expired",
            tags=[k2, bone],
            expire_at=now - datetime.timedelta(hours=1),
            body="menaquinone bone",
        ),
    }


SECRETS = ["Secret", "secret-"]


def assert_no_secrets(content):
    text = content.decode() if isinstance(content, bytes) else content
    for marker in SECRETS:
        assert marker not in text
