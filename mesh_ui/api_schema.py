"""OpenAPI schema generation for the API: every operation documents its error answers.

:class:`ApiAutoSchema` is drf-spectacular's ``AutoSchema`` plus the error responses every endpoint can give, all
with the body of ``mesh_ui.api_errors.ErrorSerializer``: ``401`` (no or bad credentials), ``403`` (not allowed)
and ``429`` (throttled) everywhere, ``400`` where the operation takes parameters or a body, ``404`` where the path
names an object.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from mesh_ui.api_errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid request: each invalid parameter or field is named in `details`.",
    "401": "No credentials, or a token or session that is not valid.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "No such object, or not one the user may see (or, with `format`, no such format).",
    "429": "Too many refused credentials from this address: wait for `Retry-After` seconds.",
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                error = OpenApiResponse(response=ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        return responses

    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        query = {p["name"] for p in self._get_parameters() if p.get("in") == "query"}
        if query or self.method in {"POST", "PUT", "PATCH"}:
            codes.insert(0, "400")
        # DRF answers 404 for a ``format`` it cannot render (the schema's own endpoint takes one).
        if "{" in self.path or "format" in query:
            codes.append("404")
        return codes


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``accounts.authentication.BearerTokenAuthentication`` as an HTTP bearer scheme."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    match_subclasses = True  # mesh_ui.throttling's throttled subclass is the one in the settings
    name = "bearerToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "mui_<id>_<secret> (an API token made in mesh-ui)",
        }
