"""A small OpenID Connect provider on a loopback port, for tests and local trials of single sign-on.

It speaks the authorization code flow as a real provider does: discovery (``/.well-known/openid-configuration``),
a JWKS with an RSA key, an authorize endpoint that signs in :attr:`OidcProvider.user` at once (no login form) and
redirects back with a one-time code, a token endpoint that checks the client's secret, the redirect URI and the
PKCE verifier and issues an RS256 ``id_token`` carrying the nonce, and a userinfo endpoint for the access token.
Tokens are made with PyJWT; nothing here is imported by the product.

Tests make it misbehave through :class:`Tampering` (a forged signature, another nonce, issuer or audience, an
expired token) to check that mesh-ui refuses what a compromised or confused provider would send.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from devtools.http_stub import FullAnswer, StubRequest, serving_requests

KEY_ID = "devtools-key-1"


@dataclass
class Tampering:
    """How the next id_tokens go wrong (all off: a well-behaved provider)."""

    foreign_signature: bool = False  # signed by a key the JWKS does not hold, under the advertised key id
    nonce: str | None = None  # this nonce instead of the one the client sent
    issuer: str | None = None
    audience: str | None = None
    expired: bool = False


@dataclass
class _Grant:
    claims: dict[str, Any]
    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None


@dataclass
class OidcProvider:
    """The provider's state: its one client, the user it signs in, and the codes and tokens it gave out."""

    client_id: str
    client_secret: str
    redirect_uri: str
    user: dict[str, Any] = field(default_factory=dict)
    tampering: Tampering = field(default_factory=Tampering)
    issuer: str = ""
    token_requests: int = 0
    _key: rsa.RSAPrivateKey = field(default_factory=lambda: _new_key())
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- endpoints --------------------------------------------------------------------------------------------
    def handle(self, request: StubRequest) -> FullAnswer:
        url = urlsplit(request.path)
        routes = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks"): self._jwks,
            ("GET", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
            ("GET", "/userinfo"): self._userinfo,
        }
        route = routes.get((request.method, url.path))
        if route is None:
            return _json(404, {"error": "not_found"})
        return route(request, {key: values[0] for key, values in parse_qs(url.query).items()})

    def _discovery(self, request: StubRequest, query: dict[str, str]) -> FullAnswer:
        return _json(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            },
        )

    def _jwks(self, request: StubRequest, query: dict[str, str]) -> FullAnswer:
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return _json(200, {"keys": [{**jwk, "kid": KEY_ID, "alg": "RS256", "use": "sig"}]})

    def _authorize(self, request: StubRequest, query: dict[str, str]) -> FullAnswer:
        if query.get("client_id") != self.client_id or query.get("redirect_uri") != self.redirect_uri:
            return _json(400, {"error": "invalid_request", "error_description": "unknown client or redirect_uri"})
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            return _json(400, {"error": "invalid_request"})
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            return _json(400, {"error": "invalid_request", "error_description": "only S256"})
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = _Grant(
                claims=dict(self.user),
                client_id=self.client_id,
                redirect_uri=query["redirect_uri"],
                nonce=query.get("nonce"),
                code_challenge=query.get("code_challenge"),
            )
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return 302, {"Location": location, "Content-Type": "text/plain"}, b""

    def _token(self, request: StubRequest, form_query: dict[str, str]) -> FullAnswer:
        form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
        with self._lock:
            self.token_requests += 1
            grant = self._codes.pop(form.get("code", ""), None)  # a code is good once
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return _json(401, {"error": "invalid_client"})
        if grant is None or form.get("grant_type") != "authorization_code":
            return _json(400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != grant.redirect_uri:
            return _json(400, {"error": "invalid_grant", "error_description": "redirect_uri differs"})
        if grant.code_challenge is not None and _s256(form.get("code_verifier", "")) != grant.code_challenge:
            return _json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._access_tokens[access_token] = grant.claims
        return _json(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self._id_token(grant),
            },
        )

    def _userinfo(self, request: StubRequest, query: dict[str, str]) -> FullAnswer:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        claims = self._access_tokens.get(token) if scheme == "Bearer" else None
        if claims is None:
            return _json(401, {"error": "invalid_token"})
        return _json(200, claims)

    # --- tokens -----------------------------------------------------------------------------------------------
    def _id_token(self, grant: _Grant) -> str:
        tampering = self.tampering
        now = int(time.time())
        issued = now - 3600 if tampering.expired else now
        claims = {
            **grant.claims,
            "iss": tampering.issuer or self.issuer,
            "aud": tampering.audience or grant.client_id,
            "iat": issued,
            "exp": issued + 300,
        }
        nonce = tampering.nonce if tampering.nonce is not None else grant.nonce
        if nonce is not None:
            claims["nonce"] = nonce
        key = _new_key() if tampering.foreign_signature else self._key
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _json(status: int, payload: object) -> FullAnswer:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


@contextmanager
def running_provider(client_id: str, client_secret: str, redirect_uri: str) -> Iterator[OidcProvider]:
    """Serve a provider for one client on a free loopback port; its ``issuer`` is the base URL."""
    provider = OidcProvider(client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri)
    with serving_requests(provider.handle) as base_url:
        provider.issuer = base_url
        yield provider
