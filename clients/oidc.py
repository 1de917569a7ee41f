"""Read an OpenID Connect provider's discovery document (``/.well-known/openid-configuration``).

Single sign-on needs the provider's endpoints; when only the issuer is configured they come from here. The rest
of the protocol (token, JWKS and userinfo requests) is mozilla-django-oidc's, which makes its own requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests


class DiscoveryError(Exception):
    """The discovery document could not be fetched, or does not describe the issuer asked for."""


@dataclass(frozen=True)
class ProviderMetadata:
    """The endpoints of a provider, as its discovery document gives them (``userinfo_endpoint`` may be empty)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""


def discovery_url(issuer: str) -> str:
    return f"{issuer.rstrip('/')}/.well-known/openid-configuration"


def fetch_provider_metadata(issuer: str, timeout: float, verify: bool | str = True) -> ProviderMetadata:
    """Fetch and check the discovery document of ``issuer`` (``verify``: TLS checks, or a CA bundle's path).

    The document's ``issuer`` must equal the one asked for (OpenID Connect Discovery 1.0, section 4.3), so a
    misdirected or spoofed document is refused rather than trusted.
    """
    url = discovery_url(issuer)
    try:
        response = requests.get(url, timeout=timeout, verify=verify, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    except requests.RequestException as exc:
        raise DiscoveryError(f"cannot read {url}: {type(exc).__name__}") from exc
    except ValueError as exc:
        raise DiscoveryError(f"{url} is not JSON") from exc
    if not isinstance(document, dict):
        raise DiscoveryError(f"{url} is not a JSON object")
    if document.get("issuer") != issuer:
        raise DiscoveryError(f"{url} describes issuer {document.get('issuer')!r}, not {issuer!r}")
    fields = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    missing = [name for name in fields if not isinstance(document.get(name), str) or not document[name]]
    if missing:
        raise DiscoveryError(f"{url} lacks {', '.join(missing)}")
    userinfo = document.get("userinfo_endpoint")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        userinfo_endpoint=userinfo if isinstance(userinfo, str) else "",
    )
