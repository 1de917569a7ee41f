"""The admin app configured with mesh-ui's admin site (kept apart: this module must not import models)."""

from django.contrib.admin.apps import AdminConfig


class MeshAdminConfig(AdminConfig):
    """``django.contrib.admin`` with :class:`mesh_ui.admin_site.MeshAdminSite` as ``admin.site``."""

    default_site = "mesh_ui.admin_site.MeshAdminSite"
