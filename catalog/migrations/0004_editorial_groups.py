"""The Editors and Moderators groups with their permissions.

The lists are frozen here, as a migration must be; editorial.roles holds the
same lists for the post_migrate receiver that restores a missing group.
"""

from django.db import migrations

from common.permissions import create_all_permissions, grant

EDITOR_PERMISSIONS = [
    "studies.add_study",
    "studies.change_study",
    "studies.view_study",
    "articles.add_article",
    "articles.change_article",
    "articles.view_article",
    "k2site.view_tag",
    "k2site.view_transition",
    "k2site.submit_entry",
]
MODERATOR_PERMISSIONS = [
    *EDITOR_PERMISSIONS,
    "studies.delete_study",
    "articles.delete_article",
    "k2site.add_tag",
    "k2site.change_tag",
    "k2site.delete_tag",
    "k2site.view_reviewqueueentry",
    "k2site.moderate_entry",
]


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    create_all_permissions(apps, using=using)
    grant(apps, {"Editors": EDITOR_PERMISSIONS, "Moderators": MODERATOR_PERMISSIONS}, using=using)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(
        name__in=["Editors", "Moderators"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("k2site", "0003_workflow"),
        ("studies", "0001_initial"),
        ("articles", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
