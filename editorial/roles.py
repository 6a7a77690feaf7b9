"""The two editorial roles, as Django groups with permissions.

Editors write and submit; moderators also tag, approve or reject, publish,
unpublish and archive (editorial.workflow enforces it). Migration
k2site 0004 (catalog/migrations) creates the groups; ``restore_missing_groups`` puts back a group
that is missing after ``migrate`` or ``flush`` (tests flush the database
between transactional tests) without touching groups someone has edited.
"""

from django.apps import apps as global_apps
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from common.permissions import create_all_permissions, grant

ROLES_MIGRATION = "0004_editorial_groups"
EDITORS = "Editors"
MODERATORS = "Moderators"

EDITOR_PERMISSIONS = [
    "studies.add_study",
    "studies.change_study",
    "studies.view_study",
    "articles.add_article",
    "articles.change_article",
    "articles.view_article",
    "k2site.view_tag",
    "k2site.view_tagalias",
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
    "k2site.add_tagalias",
    "k2site.change_tagalias",
    "k2site.delete_tagalias",
    "k2site.view_reviewqueueentry",
    "k2site.moderate_entry",
    # Followers per topic (counts only; addresses are for superusers).
    "following.view_subscription",
]
ROLES = {EDITORS: EDITOR_PERMISSIONS, MODERATORS: MODERATOR_PERMISSIONS}


def restore_missing_groups(sender, using="default", apps=global_apps, **kwargs):
    """post_migrate receiver (editorial.apps): recreate a missing role group."""
    if sender.label != "k2site":
        return
    # Not before the migration that creates them has run (or after it was
    # unapplied on purpose).
    applied = MigrationRecorder(connections[using]).migration_qs.filter(app="k2site", name=ROLES_MIGRATION)
    if not applied.exists():
        return
    Group = apps.get_model("auth", "Group")
    if Group.objects.using(using).filter(name__in=ROLES).count() == len(ROLES):
        return
    create_all_permissions(apps, using=using)
    grant(apps, ROLES, only_new_groups=True, using=using)
