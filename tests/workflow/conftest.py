"""People for the workflow tests: an editor, a moderator, a superuser, each
a member of staff in the group the migration created."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

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
