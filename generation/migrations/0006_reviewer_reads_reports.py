"""The reviewer group may read listeners' reports (a decision resolves them; nobody edits them)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def reports_grant(apps, schema_editor):
    generation = apps.get_app_config("generation")
    generation.models_module = True  # make the new model's permissions now, not after migrate
    create_permissions(generation, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    generation.models_module = None
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="reviewer")
    group.permissions.add(Permission.objects.get(content_type__app_label="generation", codename="view_trackreport"))


def reports_revoke(apps, schema_editor):
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="reviewer"):
        group.permissions.remove(*Permission.objects.filter(codename="view_trackreport"))


class Migration(migrations.Migration):

    dependencies = [
        ("generation", "0005_review_decisions_and_reports"),
    ]

    operations = [migrations.RunPython(reports_grant, reports_revoke)]
