"""Moderators see the followers per topic (counts, not addresses: the admin
shows those to superusers only). A frozen list, as in k2site 0004;
editorial.roles holds the live ones."""

from django.db import migrations

from common.permissions import create_all_permissions, grant

ADDED = {"Moderators": ["following.view_subscription"]}


def grant_view(apps, schema_editor):
    using = schema_editor.connection.alias
    create_all_permissions(apps, using=using)
    grant(apps, ADDED, using=using)


class Migration(migrations.Migration):
    dependencies = [
        ("following", "0001_initial"),
        # The Moderators group.
        ("k2site", "0004_editorial_groups"),
    ]

    operations = [migrations.RunPython(grant_view, migrations.RunPython.noop)]
