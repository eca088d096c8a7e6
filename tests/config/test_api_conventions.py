"""API conventions: schema, docs, error shape, health and readiness."""

from unittest import mock


def test_it_serves_an_openapi_3_schema(anon_client):
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/preferences" in schema["paths"]


def test_it_serves_swagger_ui(anon_client):
    response = anon_client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_an_unknown_url_answers_404_in_the_error_shape(db, anon_client):
    response = anon_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_health_answers(anon_client):
    assert anon_client.get("/api/v1/health").json() == {"status": "ok"}


def test_ready_checks_database_storage_and_broker(db, anon_client):
    body = anon_client.get("/api/v1/ready").json()
    assert body["checks"] == {"database": "ok", "storage": "ok", "broker": "ok"}


def test_ready_names_the_part_that_is_down(db, anon_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = anon_client.get("/api/v1/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")
    assert "broker" in response.json()["error"]["message"]


def test_ready_reaches_a_real_redis_broker(db, anon_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    assert anon_client.get("/api/v1/ready").status_code == 200


def test_ready_answers_503_when_storage_fails(db, anon_client):
    with mock.patch("config.readiness.default_storage.exists", side_effect=OSError("disk gone")):
        response = anon_client.get("/api/v1/ready")
    assert response.status_code == 503
    assert "storage" in response.json()["error"]["message"]
