"""Moderators keep tag aliases (they already keep tags); editors may view them.
Frozen lists, as in 0004; editorial.roles holds the live ones."""

from django.db import migrations

from common.permissions import create_all_permissions, grant

ADDED = {
    "Editors": ["k2site.view_tagalias"],
    "Moderators": [
        "k2site.view_tagalias",
        "k2site.add_tagalias",
        "k2site.change_tagalias",
        "k2site.delete_tagalias",
    ],
}


def grant_alias_permissions(apps, schema_editor):
    using = schema_editor.connection.alias
    create_all_permissions(apps, using=using)
    grant(apps, ADDED, using=using)


class Migration(migrations.Migration):
    dependencies = [("k2site", "0007_category_tree_aliases_listing_rows")]

    operations = [migrations.RunPython(grant_alias_permissions, migrations.RunPython.noop)]
