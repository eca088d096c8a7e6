"""ListeningEvent moves from accounts to recommendations, keeping every stored event.

The state of the model is created here over the existing table (``accounts_listeningevent``),
then the table is renamed; accounts' 0003 drops the model from accounts' state only. No row is
copied or lost: the rows never leave their table, which only changes its name.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("accounts", "0002_initial"),
        ("generation", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    run_before = [("accounts", "0003_listening_events_to_recommendations")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ListeningEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("client_event_id", models.UUIDField()),
                        ("kind", models.CharField(choices=[("play", "Play"), ("progress", "Progress"), ("complete", "Complete"), ("skip", "Skip"), ("like", "Like"), ("dislike", "Dislike"), ("save", "Save")], max_length=10)),
                        ("position_ms", models.PositiveIntegerField(default=0)),
                        ("occurred_at", models.DateTimeField()),
                        ("received_at", models.DateTimeField(auto_now_add=True)),
                        ("track", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="events", to="generation.track")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="listening_events", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "accounts_listeningevent",
                        "indexes": [models.Index(fields=["user", "-occurred_at"], name="event_user_recent")],
                        "constraints": [models.UniqueConstraint(fields=("user", "client_event_id"), name="listening_event_idempotency")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="listeningevent", table=None),
    ]
