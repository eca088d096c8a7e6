"""Erasure of recommendations' personal rows (export is in selectors.personal_rows)."""

from accounts.models import User
from recommendations.models import ListeningEvent


def personal_rows_erase(*, user: User) -> None:
    """Delete everything recommendations keeps about the listener."""
    ListeningEvent.objects.filter(user=user).delete()
