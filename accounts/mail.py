"""E-mails to listeners, through Django's e-mail backend (EMAIL_BACKEND; console by default)."""

import logging

from django.conf import settings
from django.core.mail import send_mail

log = logging.getLogger(__name__)


def _send(email: str, subject: str, body: str) -> None:
    """Send, or log that it could not be sent: the request that asked answers the same either way."""
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=False)
    except Exception:  # noqa: BLE001 - a mail server's failure must not change what the API answers
        log.exception("could not send %r", subject)


def registration_welcome(*, email: str) -> None:
    _send(email, "Welcome to Cadenza", "Your Cadenza account is ready: sign in with this address and your password.")


def registration_attempt_on_existing(*, email: str) -> None:
    _send(
        email,
        "Someone tried to register your address at Cadenza",
        "Somebody asked to open a Cadenza account with this address, which already has one. Nothing "
        "was changed. If it was you, sign in with your password; if not, you can ignore this e-mail.",
    )


def password_reset(*, email: str, token: str) -> None:
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    _send(
        email,
        "Reset your Cadenza password",
        "Somebody (we hope you) asked to reset the password of the Cadenza account with this address.\n\n"
        f"Your reset code: {token}\n\n"
        f"Enter it in the app with a new password within {minutes} minutes; it works once. If you did not "
        "ask, ignore this e-mail: your password stays as it is.",
    )
