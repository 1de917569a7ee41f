"""App configuration for Istio config."""

from django.apps import AppConfig


class IstioConfigConfig(AppConfig):
    name = "istio_config"
    verbose_name = "Istio config"
