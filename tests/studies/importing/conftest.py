from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def sample():
    return lambda name: SAMPLES / name


@pytest.fixture
def write_file(tmp_path):
    """Write text (or bytes) to a file and return its path."""

    def write(name, content):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


def _staff(username, *perms):
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="studies", codename__in=perms))
    return user


@pytest.fixture
def viewer(db):
    return _staff("viewer", "view_study")
