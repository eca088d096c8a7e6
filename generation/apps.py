from django.apps import AppConfig


class GenerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "generation"
    verbose_name = "Generation"

    def ready(self) -> None:
        """Give accounts what it cannot import: the styles and instruments a listener may name,
        and generation's part of a listener's data export and erasure."""
        from accounts import personal_data, vocabulary
        from generation import selectors
        from generation.audio.styles import style_names
        from generation.gm import ALL_FAMILIES
        from generation.services import tracks_erase_for_user

        vocabulary.provide(styles=tuple(style_names()), instrument_families=ALL_FAMILIES)
        personal_data.register(personal_data.Contributor(
            app="generation",
            export=lambda user: selectors.personal_rows(user=user),
            erase=lambda user: tracks_erase_for_user(user=user),
        ))
