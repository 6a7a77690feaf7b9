"""Groups with permissions, created from data migrations and after ``migrate``."""

from django.contrib.auth.management import create_permissions


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
            for permission in Permission.objects.using(using)
            .filter(codename__in=[codename for _, codename in wanted])
            .select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
        if missing:
            raise LookupError(f"Permissions for group {name} not found: {sorted(missing)}")
        group.permissions.add(*found)
