"""Reads on listeners: current preferences, the personal-data export."""

from typing import Any

from django.db.models import OuterRef, Subquery
from django.forms.models import model_to_dict

from accounts import personal_data
from accounts.models import PreferenceVersion, User


def preferences_current(*, user: User) -> PreferenceVersion | None:
    return user.preference_versions.order_by("-version").first()


def preferences_current_id(user_ref: OuterRef | None = None) -> Subquery:
    """``preferences_current``'s primary key as a subquery, for the user ``user_ref`` names in
    the outer query (``OuterRef("user")`` by default): one query instead of two on hot reads."""
    latest = PreferenceVersion.objects.filter(user=user_ref or OuterRef("user")).order_by("-version")
    return Subquery(latest.values("pk")[:1])


def preferences_snapshot(*, version: PreferenceVersion | None) -> dict[str, Any]:
    """A preference version as plain values (what a generation request was planned from)."""
    from accounts.services import PREFERENCE_FIELDS

    if version is None:
        return {}
    return {"version": version.version} | {name: getattr(version, name) for name in PREFERENCE_FIELDS}


def user_export(*, user: User) -> dict[str, Any]:
    """Every personal row of a listener, as JSON-ready values: accounts' own, then each app's."""
    document: dict[str, Any] = {
        "user": {
            "id": user.pk,
            "public_id": str(user.public_id),
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "preference_versions": [
            {**model_to_dict(version, exclude=("user",)), "created_at": version.created_at.isoformat()}
            for version in user.preference_versions.order_by("version")
        ],
    }
    for contributor in personal_data.contributors():
        rows = contributor.export(user)
        clash = set(rows) & set(document)
        if clash:
            raise RuntimeError(f"{contributor.app} exports keys already taken: {sorted(clash)}")
        document.update(rows)
    return document
