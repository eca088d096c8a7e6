"""A listener's personal data across apps: each app contributes its own rows.

accounts owns the user and their preferences and knows nothing of the apps above it. Each app
that keeps personal rows registers a ``Contributor`` in its AppConfig.ready(): ``export`` returns
its rows as JSON-ready lists under its own keys, ``erase`` deletes them (and any private objects).
Export merges the contributions; erasure runs them in reverse registration order (apps higher up
first: what refers to a track goes before the track), then deletes the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Contributor:
    app: str
    export: Callable[[User], dict[str, list[dict[str, Any]]]]
    erase: Callable[[User], None]


_CONTRIBUTORS: dict[str, Contributor] = {}


def register(contributor: Contributor) -> None:
    """Add (or replace, on a reload) an app's contribution."""
    _CONTRIBUTORS[contributor.app] = contributor


def contributors() -> list[Contributor]:
    return list(_CONTRIBUTORS.values())
