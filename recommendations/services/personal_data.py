"""Erasure of recommendations' personal rows (export is in selectors.personal_rows)."""

from django.db import transaction

from accounts.models import User
from recommendations.models import ListeningEvent, PersonalPlaylist, SavedPlaylist, TasteProfile


@transaction.atomic
def personal_rows_erase(*, user: User) -> None:
    """Delete everything recommendations keeps about the listener (before their tracks go)."""
    SavedPlaylist.objects.filter(owner=user).delete()
    PersonalPlaylist.objects.filter(user=user).delete()
    TasteProfile.objects.filter(user=user).delete()
    ListeningEvent.objects.filter(user=user).delete()
