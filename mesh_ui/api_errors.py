"""One error format for the whole API: ``{"code", "message", "details"}``, never an HTML page or a traceback.

- ``code`` is stable and machine-readable: DRF's code of the exception (``invalid``, ``not_authenticated``,
  ``authentication_failed``, ``permission_denied``, ``not_found``, ``method_not_allowed``, ``throttled``, ...) or
  ``server_error``;
- ``message`` is one human line (for a ``400``: each invalid field named, ``"duration: ..."``);
- ``details`` maps each invalid field to its messages (empty for errors not about fields).

``error`` repeats ``message``: the graph page and scripts written before this format read it.

:func:`handle_api_exception` is DRF's ``EXCEPTION_HANDLER``; :class:`ApiErrorMiddleware` turns everything else
under ``/api/`` (unknown paths, exceptions DRF does not handle, errors raised by other middleware) into the same
format.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger("mesh_ui.api")

API_PREFIX = "/api/"

#: The ``code`` of an error response that no exception named, by HTTP status.
CODE_BY_STATUS = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
}
SERVER_ERROR = "server_error"


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer of the API (documents it in the OpenAPI schema)."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. invalid, not_found, permission_denied.")
    message = serializers.CharField(help_text="One line for humans; names each invalid field.")
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field (query parameter or body field); empty when the error is not about a field.",
    )
    error = serializers.CharField(help_text="Same as message (kept for clients of the first API version).")


def flatten_details(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as ``{"field" or "field.sub": [messages]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            flat.update(flatten_details(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list | tuple):
        messages = [m for m in errors if not isinstance(m, Mapping | list | tuple)]
        if messages:
            flat[prefix or "non_field_errors"] = [str(m) for m in messages]
        for index, nested in enumerate(m for m in errors if isinstance(m, Mapping | list | tuple)):
            flat.update(flatten_details(nested, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "non_field_errors"] = [str(errors)]
    return flat


def summarize_details(details: Mapping[str, list[str]]) -> str:
    """``"field: message; other: message"``; messages not about a field stand alone."""
    parts = []
    for name, messages in details.items():
        text = "; ".join(messages)
        parts.append(text if name == "non_field_errors" else f"{name}: {text}")
    return "; ".join(parts)


def error_body(code: str, message: str, details: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": dict(details or {}), "error": message}


def validation_error_body(errors: Any) -> dict[str, Any]:
    """The body of a ``400`` for a serializer's or FilterSet's ``errors``."""
    details = flatten_details(errors)
    return error_body("invalid", summarize_details(details) or "invalid request", details)


def handle_api_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status, headers such as ``WWW-Authenticate`` and ``Retry-After``), our body."""
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API exception: ApiErrorMiddleware answers 500
    if isinstance(exc, exceptions.ValidationError):
        response.data = validation_error_body(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        response.data = error_body(code if isinstance(code, str) else exc.default_code, _text(exc.detail))
    else:  # Http404 and PermissionDenied from Django, which DRF maps itself
        response.data = error_body(CODE_BY_STATUS.get(response.status_code, "error"), _text(response.data))
    return response


def _text(detail: Any) -> str:
    if isinstance(detail, Mapping):
        return str(detail.get("detail", "")) or summarize_details(flatten_details(detail))
    if isinstance(detail, list):
        return "; ".join(str(d) for d in detail)
    return str(detail)


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class ApiErrorMiddleware:
    """Under ``/api/``: JSON for exceptions no one handled (500) and for Django's HTML error pages (404, 405...)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not is_api_request(request) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        data = getattr(response, "data", None)
        if isinstance(data, dict) and "code" in data:
            body = data  # DRF's answer rendered in another format (the schema's YAML): the same body, as JSON
        else:
            code = CODE_BY_STATUS.get(status, SERVER_ERROR if status >= 500 else "error")
            body = error_body(code, "internal server error" if status >= 500 else _status_message(request, status))
        answer = JsonResponse(body, status=status)
        for header in ("WWW-Authenticate", "Allow", "Retry-After"):
            if response.has_header(header):
                answer[header] = response[header]
        return answer

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_request(request):
            return None
        # The traceback goes to the log only; the client learns nothing of the code that failed.
        logger.error("unhandled error answering %s %s", request.method, request.path, exc_info=exception)
        return JsonResponse(error_body(SERVER_ERROR, "internal server error"), status=500)


def _status_message(request: HttpRequest, status: int) -> str:
    if status == 404:
        return f"no API endpoint at {request.path}"
    if status == 405:
        return f"method {request.method} not allowed"
    return f"request refused ({status})"
