"""API errors of the simulated Kubernetes API server.

Each error carries the HTTP status code and the Kubernetes ``reason`` and renders
itself as a ``Status`` object, which is what the server answers failed requests with.
The errors know nothing of resource types; the resource catalogue (:mod:`simulator.resources`)
builds the ones that name a type, such as :func:`~simulator.resources.not_found`.
"""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """An API error carrying the HTTP status code and Kubernetes ``reason``."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """This error as a Kubernetes ``Status`` object."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            status["details"] = self.details
        return status


class BadRequest(StoreError):
    code, reason = 400, "BadRequest"


class Forbidden(StoreError):
    code, reason = 403, "Forbidden"


class NotFound(StoreError):
    code, reason = 404, "NotFound"


class MethodNotAllowed(StoreError):
    code, reason = 405, "MethodNotAllowed"


class AlreadyExists(StoreError):
    code, reason = 409, "AlreadyExists"


class Conflict(StoreError):
    code, reason = 409, "Conflict"


class Expired(StoreError):
    code, reason = 410, "Expired"


class UnsupportedMediaType(StoreError):
    code, reason = 415, "UnsupportedMediaType"


class Invalid(StoreError):
    code, reason = 422, "Invalid"


class NotAcceptable(StoreError):
    code, reason = 406, "NotAcceptable"
