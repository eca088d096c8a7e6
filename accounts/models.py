"""Listeners and their versioned preferences (what they listened to lives in recommendations)."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models import Q

from accounts import vocabulary


class UserManager(BaseUserManager):
    """Users are identified by e-mail address."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A listener or a member of staff; ``public_id`` is the opaque id other records may keep."""

    username = None
    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=80, blank=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class Mode(models.TextChoices):
    MAJOR = "major"
    MINOR = "minor"
    ANY = "any"


class PreferenceVersion(models.Model):
    """One version of a listener's stated taste; never edited, a change writes the next version."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference_versions"
    )
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    styles = models.JSONField(default=list)
    moods = models.JSONField(default=list)
    tempo_min = models.PositiveSmallIntegerField(default=vocabulary.DEFAULT_TEMPO[0])
    tempo_max = models.PositiveSmallIntegerField(default=vocabulary.DEFAULT_TEMPO[1])
    energy = models.FloatField(default=0.5)
    preferred_instruments = models.JSONField(default=list)
    avoided_instruments = models.JSONField(default=list)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.ANY)
    length_min_s = models.PositiveSmallIntegerField(default=vocabulary.DEFAULT_LENGTH_S[0])
    length_max_s = models.PositiveSmallIntegerField(default=vocabulary.DEFAULT_LENGTH_S[1])
    exploration = models.FloatField(default=0.3)

    class Meta:
        ordering = ("user", "-version")
        constraints = [
            models.UniqueConstraint(fields=("user", "version"), name="preference_version_unique"),
            models.CheckConstraint(
                condition=Q(tempo_min__gte=vocabulary.TEMPO_RANGE[0])
                & Q(tempo_max__lte=vocabulary.TEMPO_RANGE[1])
                & Q(tempo_min__lte=models.F("tempo_max")),
                name="preference_tempo_range",
            ),
            models.CheckConstraint(
                condition=Q(length_min_s__gte=vocabulary.LENGTH_RANGE_S[0])
                & Q(length_max_s__lte=vocabulary.LENGTH_RANGE_S[1])
                & Q(length_min_s__lte=models.F("length_max_s")),
                name="preference_length_range",
            ),
            models.CheckConstraint(
                condition=Q(energy__gte=0) & Q(energy__lte=1) & Q(exploration__gte=0) & Q(exploration__lte=1),
                name="preference_unit_ranges",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} preferences v{self.version}"
