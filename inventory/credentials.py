"""A cluster's Prometheus credentials: kept apart from its URL, encrypted at rest, decrypted only to connect.

``Cluster.prometheus_url`` holds the URL without credentials (shown in the admin and the pages, redacted anyway);
``Cluster.prometheus_credentials`` holds its userinfo, secret query parameters and bearer token as encrypted JSON
(:mod:`mesh_ui.field_encryption`). Clusters from ``MESH_UI_CLUSTERS`` read ``PROMETHEUS_URL`` / ``PROMETHEUS_TOKEN``
from the environment and store no credential at all.
"""

from __future__ import annotations

from clients.url_credentials import UrlCredentials, split_url_credentials
from inventory.models import Cluster
from mesh_ui.field_encryption import decrypt_text, encrypt_text


def read_prometheus_credentials(cluster: Cluster) -> UrlCredentials:
    """The cluster's stored Prometheus credentials, decrypted (empty when it has none)."""
    return UrlCredentials.from_json(decrypt_text(cluster.prometheus_credentials))


def set_prometheus_credentials(cluster: Cluster, credentials: UrlCredentials) -> None:
    """Store ``credentials`` encrypted on ``cluster`` (not saved); empty credentials clear the stored ones."""
    cluster.prometheus_credentials = encrypt_text(credentials.to_json()) if credentials else ""


def set_prometheus_connection(
    cluster: Cluster, url: str, userinfo: str = "", bearer_token: str = "", forget: bool = False
) -> None:
    """Give ``cluster`` the Prometheus ``url`` and credentials (not saved).

    Credentials written in ``url`` are moved to the encrypted store; each part given (in the URL, ``userinfo``,
    ``bearer_token``) replaces the stored part of its kind, the others are kept, unless ``forget`` drops them first.
    """
    clean, in_url = split_url_credentials(url)
    cluster.prometheus_url = clean
    stored = UrlCredentials() if forget else read_prometheus_credentials(cluster)
    newer = UrlCredentials(
        userinfo=userinfo or in_url.userinfo, secret_query=in_url.secret_query, bearer_token=bearer_token
    )
    set_prometheus_credentials(cluster, stored.merged_with(newer))
