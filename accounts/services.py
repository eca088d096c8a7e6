"""Writes on listeners: registration, preferences, erasure."""

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from accounts import mail, personal_data
from accounts.models import PreferenceVersion, User
from accounts.selectors import preferences_current

PREFERENCE_FIELDS = (
    "styles",
    "moods",
    "tempo_min",
    "tempo_max",
    "energy",
    "preferred_instruments",
    "avoided_instruments",
    "mode",
    "length_min_s",
    "length_max_s",
    "exploration",
)


class PasswordRejected(ValueError):
    """The password fails the configured validators; ``messages`` says why."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise PasswordRejected(list(error.messages)) from None


@transaction.atomic
def user_register(*, email: str, password: str, display_name: str = "") -> User:
    """A new listener with the default preferences as version 1."""
    user = User(email=email.lower(), display_name=display_name)
    _check_password(password, user)
    user.set_password(password)
    user.save()
    PreferenceVersion.objects.create(user=user, version=1)
    return user


def registration_request(*, email: str, password: str, display_name: str = "") -> None:
    """Register ``email`` without telling the caller whether it already had an account (OWASP
    ASVS): a new address gets its account and a welcome e-mail; a taken one gets nothing but an
    e-mail to its owner saying someone tried. Both answer the same; a weak password is refused
    in both (it is judged before the address is looked at)."""
    email = email.lower()
    _check_password(password, User(email=email, display_name=display_name))
    if not User.objects.filter(email__iexact=email).exists():
        try:
            user_register(email=email, password=password, display_name=display_name)
        except IntegrityError:  # the same address registered a moment ago by a concurrent request
            pass
        else:
            mail.registration_welcome(email=email)
            return
    mail.registration_attempt_on_existing(email=email)


@transaction.atomic
def preferences_update(*, user: User, changes: dict[str, Any]) -> PreferenceVersion:
    """Write the next preference version: the current one with ``changes`` applied."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one writer per user at a time
    current = preferences_current(user=user)
    values = {name: getattr(current, name) for name in PREFERENCE_FIELDS} if current else {}
    if current and all(values[name] == value for name, value in changes.items()):
        return current  # nothing changed: no new version
    values.update(changes)
    last = user.preference_versions.aggregate(last=Max("version"))["last"] or 0
    return PreferenceVersion.objects.create(user=user, version=last + 1, **values)


@transaction.atomic
def user_erase(*, user: User) -> None:
    """Erase a listener: every app erases its own personal rows and private objects (licence
    records keep an opaque id), then the account and its preferences go."""
    for contributor in reversed(personal_data.contributors()):
        contributor.erase(user)
    user.delete()
