"""HTTP conventions shared by every endpoint of the API: pagination, ordering, ``ETag``/``If-None-Match``.

- Lists are paged by ``limit`` (1 to :data:`MAX_LIMIT`, default :data:`DEFAULT_LIMIT`) and ``offset``; a value out
  of bounds is a ``400`` naming it, never silently another page.
- ``ordering`` takes fields of the endpoint's list (``-`` for descending, comma-separated); an unknown field is a
  ``400`` listing the valid ones.
- Every successful ``GET`` under ``/api/`` carries a strong ``ETag`` (a hash of the body, Django's
  ``ConditionalGetMiddleware``); a request whose ``If-None-Match`` matches gets ``304`` without a body. Answers are
  per user, so they are marked ``Cache-Control: private, no-cache`` and vary on ``Authorization`` and ``Cookie``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from django.middleware.http import ConditionalGetMiddleware
from django.utils.cache import patch_cache_control, patch_vary_headers
from rest_framework import serializers
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from mesh_ui.api_errors import is_api_request

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: Deep enough for any inventory; far below what the database's integers (SQLite: 64-bit) would overflow on.
MAX_OFFSET = 1_000_000_000


class PageQuery(serializers.Serializer):
    """``limit`` and ``offset`` of a list request."""

    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset pages, with both parameters validated (a bad one is a ``400``, not the first page)."""

    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def paginate_queryset(self, queryset: Any, request: Request, view: APIView | None = None) -> list[Any] | None:
        query = PageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        self._page = query.validated_data
        return super().paginate_queryset(queryset, request, view)

    def get_limit(self, request: Request) -> int:
        page = getattr(self, "_page", None)
        return int(page["limit"]) if page else DEFAULT_LIMIT

    def get_offset(self, request: Request) -> int:
        page = getattr(self, "_page", None)
        return int(page["offset"]) if page else 0

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class ValidatedOrderingFilter(OrderingFilter):
    """DRF's ``ordering``, refusing unknown fields with a ``400`` instead of ignoring them."""

    def remove_invalid_fields(
        self, queryset: QuerySet[Any], fields: Iterable[str], view: APIView, request: Request
    ) -> list[str]:
        # A view's ordering_map names the public fields and the columns they sort by (camelCase → column).
        mapping: dict[str, str] | None = getattr(view, "ordering_map", None)
        if mapping is None:
            mapping = {item[0]: item[0] for item in self.get_valid_fields(queryset, view, {"request": request})}
        fields = list(fields)
        unknown = [term for term in fields if term.removeprefix("-") not in mapping]
        if unknown:
            valid = ", ".join(mapping)
            raise serializers.ValidationError(
                {self.ordering_param: [f"unknown field {unknown[0]!r}; use {valid} (- for descending)"]}
            )
        return [("-" if term.startswith("-") else "") + mapping[term.removeprefix("-")] for term in fields]

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_map", None) or getattr(view, "ordering_fields", None)
        if isinstance(fields, dict | list | tuple):
            choices = ", ".join(fields)
            for parameter in parameters:
                parameter["description"] = f"Comma-separated fields to sort by ({choices}); - for descending."
        return parameters


class ApiConditionalGetMiddleware(ConditionalGetMiddleware):
    """``ETag`` and ``304 Not Modified`` for reads under ``/api/`` (pages keep their own caching)."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not is_api_request(request) or request.method != "GET" or response.status_code != 200:
            return response
        patch_cache_control(response, private=True, no_cache=True)
        patch_vary_headers(response, ("Authorization", "Cookie"))
        return super().process_response(request, response)
