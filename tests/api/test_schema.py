"""The OpenAPI schema and its Swagger UI, served without any CDN."""

import yaml
from django.core.management import call_command

EXPECTED_PATHS = [
    "/api/v1/auth/token/",
    "/api/v1/auth/tokens/",
    "/api/v1/auth/tokens/{id}/",
    "/api/v1/auth/tokens/revoke-all/",
    "/api/v1/categories/",
    "/api/v1/products/",
    "/api/v1/products/{id}/",
    "/api/v1/products/{id}/images/",
    "/api/v1/images/{id}/",
    "/api/v1/images/{id}/reclassify/",
    "/api/v1/classify/",
    "/api/v1/predictions/",
    "/api/v1/predictions/{id}/review/",
    "/api/v1/predictions/review/",
    "/api/v1/models/",
    "/api/v1/models/train/",
    "/api/v1/models/{id}/activate/",
    "/api/v1/models/rollback/",
    "/api/v1/models/reclassify/",
    "/api/v1/jobs/{id}/",
    "/api/v1/stats/",
    "/api/v1/webhooks/",
    "/api/v1/webhooks/{id}/deliveries/",
]


def test_the_schema_validates_and_documents_every_endpoint_and_error(tmp_path, db):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert set(EXPECTED_PATHS) <= set(schema["paths"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code in ("400", "401", "403", "404", "429", "500"):
                assert code in operation["responses"], (method, path, code)
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]


def test_the_schema_is_served_as_json(client, db):
    response = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Vitrine API"


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    )
    assert "cdn" not in html.lower()
    assert "<script>" not in html  # the set-up script is a file of its own
