"""The two editorial roles, as Django groups with permissions.

Editors write and submit; moderators also tag, approve or reject, publish,
unpublish and archive (k2site.workflow enforces it). Migration
k2site 0004 creates the groups; ``restore_missing_groups`` puts back a group
that is missing after ``migrate`` or ``flush`` (tests flush the database
between transactional tests) without touching groups someone has edited.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

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
ROLES = {EDITORS: EDITOR_PERMISSIONS, MODERATORS: MODERATOR_PERMISSIONS}


def create_all_permissions(apps, using="default"):
    """Make sure every model's permissions exist now: Django creates them in
    post_migrate, after all migrations, too late for a data migration that
    hands them to groups."""
    for app_config in apps.get_app_configs():
        # Historical app configs carry no models module; create_permissions
        # skips apps without one.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = models_module


def grant(apps, roles, *, only_new_groups=False, using="default"):
    """Create the groups in ``roles`` ({name: ["app.codename", …]}) and give
    them their permissions; with ``only_new_groups`` existing groups stay as they are."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in roles.items():
        group, created = Group.objects.using(using).get_or_create(name=name)
        if only_new_groups and not created:
            continue
        wanted = {tuple(perm.split(".", 1)) for perm in perms}
        found = [
            permission
            for permission in Permission.objects.using(using).filter(
                codename__in=[codename for _, codename in wanted]
            ).select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
        if missing:
            raise LookupError(f"Permissions for group {name} not found: {sorted(missing)}")
        group.permissions.add(*found)


def restore_missing_groups(sender, using="default", apps=global_apps, **kwargs):
    """post_migrate receiver (k2site.apps): recreate a missing role group."""
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
