"""The ``reviewer`` group: decide on tracks and read what a decision needs, nothing else.

No user, licence or provenance permission: a reviewer cannot edit accounts, licences or the
provenance record. Superusers keep every permission.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "reviewer"
PERMISSIONS = (
    ("generation", "review_track"),
    ("generation", "view_track"),
    ("generation", "view_generationjob"),
    ("generation", "view_jobtransition"),
    ("generation", "view_reviewevent"),
)


def _ensure_permissions(apps, using: str) -> None:
    """Permissions are normally made after every migration; this migration needs them now."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None


def group_create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    _ensure_permissions(apps, schema_editor.connection.alias)
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def group_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("generation", "0003_track_review_permission"),
    ]

    operations = [migrations.RunPython(group_create, group_delete)]
