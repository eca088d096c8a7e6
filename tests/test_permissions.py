"""The permission matrix: every API route, every kind of caller.

Routes are read from the URL configuration, so a new route without a rule here fails the suite.
Callers: anonymous, the owner (alice), another listener (bob) and staff (charlie). Object routes are
asked for alice's object: bob and charlie get 404, never a hint that it exists.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import PublishedTrackFactory, job_for

ANON, OWNER, OTHER, STAFF = "anon", "owner", "other", "staff"

# name → {method: {caller: expected status}}; "body" requests send an empty JSON object.
OPEN = {ANON: 200, OWNER: 200, OTHER: 200, STAFF: 200}
SIGNED_IN = {ANON: 401, OWNER: 200, OTHER: 200, STAFF: 200}
SIGNED_IN_BAD_BODY = {ANON: 401, OWNER: 400, OTHER: 400, STAFF: 400}
OPEN_BAD_BODY = {ANON: 400, OWNER: 400, OTHER: 400, STAFF: 400}
OWNER_ONLY = {ANON: 401, OWNER: 200, OTHER: 404, STAFF: 404}

RULES: dict[str, dict[str, dict[str, int]]] = {
    "schema": {"GET": OPEN},
    "swagger-ui": {"GET": OPEN},
    "auth-register": {"POST": OPEN_BAD_BODY},
    "auth-token": {"POST": OPEN_BAD_BODY},
    "auth-token-refresh": {"POST": OPEN_BAD_BODY},
    "auth-logout": {"POST": SIGNED_IN_BAD_BODY},
    "auth-password-reset": {"POST": OPEN_BAD_BODY},
    "auth-password-reset-confirm": {"POST": OPEN_BAD_BODY},
    "me": {"GET": SIGNED_IN, "PATCH": SIGNED_IN_BAD_BODY, "DELETE": {ANON: 401}},
    "me-password": {"POST": SIGNED_IN_BAD_BODY},
    "me-quota": {"GET": SIGNED_IN},
    "me-export": {"GET": SIGNED_IN},
    "me-preferences": {"GET": SIGNED_IN, "PUT": SIGNED_IN_BAD_BODY, "PATCH": {**SIGNED_IN, ANON: 401}},
    "me-events": {"GET": SIGNED_IN, "POST": SIGNED_IN_BAD_BODY},
    "styles": {"GET": OPEN},
    "health": {"GET": OPEN},
    "ready": {"GET": OPEN},
    "generations": {"GET": SIGNED_IN, "POST": {ANON: 401, OWNER: 202, OTHER: 202, STAFF: 202}},
    "generation-detail": {"GET": OWNER_ONLY},
    "tracks": {"GET": SIGNED_IN},
    "track-detail": {"GET": OWNER_ONLY},
    "track-midi": {"GET": {ANON: 401, OWNER: 302, OTHER: 404, STAFF: 404}},
    "track-provenance": {"GET": OWNER_ONLY},
    "track-licence": {"GET": OWNER_ONLY},
    "track-report": {"POST": {ANON: 401, OWNER: 400, OTHER: 404, STAFF: 404}},
    "licence-verify": {"POST": OPEN_BAD_BODY},
    "licence-key": {"GET": OPEN},
    "me-playlist": {"GET": SIGNED_IN},
    "me-playlist-refresh": {"POST": SIGNED_IN},
    "me-taste": {"GET": SIGNED_IN, "DELETE": SIGNED_IN},
    "track-radio": {"GET": OWNER_ONLY},
    "catalog": {"GET": SIGNED_IN},
    "saved-playlists": {"GET": SIGNED_IN, "POST": SIGNED_IN_BAD_BODY},
    "saved-playlist-detail": {
        "GET": OWNER_ONLY,
        "PATCH": {ANON: 401, OWNER: 400, OTHER: 404, STAFF: 404},
        "DELETE": {ANON: 401, OWNER: 204, OTHER: 404, STAFF: 404},
    },
    "saved-playlist-items": {"POST": {ANON: 401, OWNER: 400, OTHER: 404, STAFF: 404}},
    "saved-playlist-item": {"DELETE": OWNER_ONLY},
    "saved-playlist-order": {"PUT": {ANON: 401, OWNER: 400, OTHER: 404, STAFF: 404}},
}

def _saved_playlist(owner):
    from recommendations.services.saved import saved_playlist_create

    return saved_playlist_create(owner=owner, name="Mine", track_ids=[PublishedTrackFactory(owner=owner).id])


# Route names whose URL takes an object id, and how to make alice's object for them (the object,
# whose pk the URL takes, or the URL's keyword arguments).
OBJECT_ROUTES: dict[str, callable] = {
    "generation-detail": lambda owner: job_for(owner),
    "track-detail": lambda owner: PublishedTrackFactory(owner=owner),
    "track-midi": lambda owner: PublishedTrackFactory(owner=owner),
    "track-provenance": lambda owner: PublishedTrackFactory(owner=owner),
    "track-licence": lambda owner: PublishedTrackFactory(owner=owner),
    "track-report": lambda owner: PublishedTrackFactory(owner=owner),
    "track-radio": lambda owner: PublishedTrackFactory(owner=owner),
    "saved-playlist-detail": _saved_playlist,
    "saved-playlist-items": _saved_playlist,
    "saved-playlist-item": lambda owner: {"pk": _saved_playlist(owner).pk, "position": 0},
    "saved-playlist-order": _saved_playlist,
}


def api_route_names(resolver=None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            names |= api_route_names(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith(("api/", ".well-known/")):
            names.add(pattern.name)
    return names


def test_every_api_route_has_a_rule():
    assert api_route_names() == set(RULES), "add the new route to RULES in tests/test_permissions.py"


CASES = [(name, method, caller) for name, methods in RULES.items() for method, by in methods.items() for caller in by]


@pytest.mark.parametrize(("name", "method", "caller"), CASES)
def test_the_matrix(name, method, caller, alice, bob, charlie, client_for):
    from django.urls import reverse

    made = OBJECT_ROUTES[name](alice) if name in OBJECT_ROUTES else None
    kwargs = made if isinstance(made, dict) else ({"pk": made.pk} if made is not None else {})
    url = reverse(name, kwargs=kwargs)
    client = client_for({ANON: None, OWNER: alice, OTHER: bob, STAFF: charlie}[caller])
    body = {} if method in {"POST", "PUT", "PATCH"} else None
    response = getattr(client, method.lower())(url, body, format="json") if body is not None else getattr(client, method.lower())(url)
    assert response.status_code == RULES[name][method][caller], (response.status_code, getattr(response, "data", None))

