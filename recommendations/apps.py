from django.apps import AppConfig


class RecommendationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "recommendations"
    verbose_name = "Recommendations"

    def ready(self) -> None:
        """recommendations' part of a listener's data export and erasure, for accounts to ask."""
        from accounts import personal_data
        from recommendations import selectors
        from recommendations.services.personal_data import personal_rows_erase

        personal_data.register(personal_data.Contributor(
            app="recommendations",
            export=lambda user: selectors.personal_rows(user=user),
            erase=lambda user: personal_rows_erase(user=user),
        ))
