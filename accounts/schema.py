"""How the OpenAPI schema (drf-spectacular) describes accounts.authentication.ApiTokenAuthentication.

Imported when a schema is generated (the preprocessing hook below is named in SPECTACULAR_SETTINGS),
not when the app is ready: drf-spectacular and the parts of DRF and Django's test tools it imports
take about a third of a second, which every `manage.py` command and worker would pay at start.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'A personal API token (people/me/tokens/), sent as "Token <key>".',
        }


def token_scheme_registered(endpoints: list) -> list:
    """drf-spectacular preprocessing hook: the endpoints unchanged. Naming it imports this module, and
    so registers ApiTokenScheme, before the schema's operations are built."""
    return endpoints
