"""How the token authentication appears in the OpenAPI schema.

Apart from the authentication class because DRF imports that while it loads, and
drf-spectacular imports DRF's views.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`, with a key from `POST /api/v1/auth/token/`.",
        }
