"""The participation endpoints are in the OpenAPI schema, which validates cleanly."""

import pytest

FEEDBACK_PATHS = {
    "/api/v1/ratings/": {"post"},
    "/api/v1/comments/": {"get", "post"},
    "/api/v1/survey-responses/": {"post"},
    "/api/v1/me/": {"get", "delete"},
    "/api/v1/aggregates/indicators/{id}/": {"get"},
    "/api/v1/aggregates/stories/{id}/": {"get"},
    "/api/v1/aggregates/chapters/{id}/": {"get"},
    "/api/v1/aggregates/surveys/{id}/": {"get"},
    "/api/v1/aggregates/districts/": {"get"},
    "/api/v1/aggregates/districts/{id}/": {"get"},
}


@pytest.mark.django_db
def test_schema_holds_every_participation_endpoint_and_validates(openapi_schema):
    schema = openapi_schema
    for path, methods in FEEDBACK_PATHS.items():
        assert methods <= set(schema["paths"][path]), path
    rating = schema["paths"]["/api/v1/ratings/"]["post"]
    assert {"201", "400", "413", "429"} <= set(rating["responses"])
    assert any(p["in"] == "cookie" and p["name"] == "resident" for p in rating["parameters"])
