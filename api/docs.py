"""The API's browsable root, and the pages that read its OpenAPI schema (Swagger UI and ReDoc, served from npm).

Swagger UI is drf-spectacular's split view: its start-up script is a separate request (``?script=``), so the page
runs under a Content-Security-Policy of ``'self'`` only (checked in Chromium). ReDoc's page has no script or style
of its own, but ReDoc injects its styles at run time (styled-components): under such a policy its page needs
``style-src 'unsafe-inline'``, else it shows "Something went wrong".
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

#: What the root lists: every list endpoint of the API and its documentation, by URL name (namespace ``v1``).
ROOT_ENDPOINTS = {
    "clusters": "cluster-list",
    "syncStatus": "sync-status-list",
    "namespaces": "namespace-list",
    "services": "service-list",
    "workloads": "workload-list",
    "apps": "app-list",
    "pods": "pod-list",
    "graph": "graph",
    "graphDiff": "graph-diff",
    "health": "health",
    "snapshots": "snapshots",
    "metrics": "metrics",
    "schema": "schema",
    "swaggerUi": "swagger-ui",
    "redoc": "redoc",
}


class ApiRootSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {key: serializers.URLField() for key in ROOT_ENDPOINTS}


class ApiRootView(APIView):
    """The endpoints of API v1, each with its absolute URL (a login is enough: it names no mesh data)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ApiRootSerializer, tags=["root"])
    def get(self, request: Request) -> Response:
        namespace = request.resolver_match.namespace if request.resolver_match else "v1"
        links: dict[str, Any] = {
            key: reverse(f"{namespace}:{url_name}", request=request) for key, url_name in ROOT_ENDPOINTS.items()
        }
        return Response(links)
