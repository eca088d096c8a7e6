"""ListeningEvent now belongs to recommendations (see its 0001): drop it from accounts' state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ListeningEvent")],
            database_operations=[],
        ),
    ]
