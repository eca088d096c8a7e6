"""Writes on listeners: registration, preferences, erasure."""

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

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


class PasswordWrong(ValueError):
    """The current password given is not the listener's."""


class ResetTokenInvalid(ValueError):
    """A password-reset token that is malformed, expired, already used or someone else's."""


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


def user_rename(*, user: User, display_name: str) -> User:
    """A new display name (accounts.names has judged it)."""
    user.display_name = display_name
    user.save(update_fields=["display_name"])
    return user


def refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every refresh token issued to ``user`` (rotated ones included): each stops
    working at once. Access tokens live out their short lifetime. Returns how many were live."""
    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _password_set(user: User, password: str) -> None:
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    refresh_tokens_revoke(user=user)


@transaction.atomic
def password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Change the password when ``current_password`` is right; every refresh token is revoked."""
    if not user.check_password(current_password):
        raise PasswordWrong("The current password is not right.")
    _password_set(user, new_password)


# A reset token is "<public id>.<Django's token>": Django's PasswordResetTokenGenerator hashes the
# password and the last sign-in into it, so it is single-use (setting the password spends it) and
# expires after PASSWORD_RESET_TIMEOUT; the public id is opaque (no database id, no address).
_RESET_SEPARATOR = "."


def password_reset_token(*, user: User) -> str:
    return f"{user.public_id.hex}{_RESET_SEPARATOR}{default_token_generator.make_token(user)}"


def password_reset_request(*, email: str) -> None:
    """E-mail a reset token to ``email`` if an active account has it; nothing otherwise. The
    caller answers the same either way (the address is not confirmed or denied)."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is not None and user.has_usable_password():
        mail.password_reset(email=user.email, token=password_reset_token(user=user))


def _reset_user(token: str) -> User:
    public_id, _, secret = token.partition(_RESET_SEPARATOR)
    try:
        user = User.objects.get(public_id=public_id, is_active=True) if secret else None
    except (User.DoesNotExist, DjangoValidationError, ValueError):
        user = None
    if user is None or not default_token_generator.check_token(user, secret):
        raise ResetTokenInvalid("The reset token is invalid, expired or already used.")
    return user


@transaction.atomic
def password_reset_confirm(*, token: str, new_password: str) -> User:
    """Set a new password with a reset token (spent by it); every refresh token is revoked."""
    user = _reset_user(token)
    _password_set(user, new_password)
    return user
