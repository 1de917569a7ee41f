"""Credentials of a URL kept apart from it: split when stored, joined back only to connect.

A Prometheus URL may carry a password (``http://user:secret@host``), a bare token as userinfo, or a secret query
parameter (``?token=...``, the names :data:`clients.redaction.SECRET_PARAMETERS`). :func:`split_url_credentials`
takes them out, so the URL can be stored and shown in clear and the credentials stored encrypted;
:func:`join_url_credentials` puts them back in the URL a client connects with. A bearer token (sent as a header,
never in the URL) travels with them. Pure functions, no Django.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from clients.redaction import SECRET_PARAMETERS


@dataclass(frozen=True)
class UrlCredentials:
    """What a URL needs to be let in: its userinfo, its secret query parameters, a bearer token for the header."""

    userinfo: str = ""
    secret_query: tuple[tuple[str, str], ...] = ()
    bearer_token: str = ""

    def __bool__(self) -> bool:
        return bool(self.userinfo or self.secret_query or self.bearer_token)

    def __repr__(self) -> str:  # never print a credential
        userinfo, token = ("***" if part else "" for part in (self.userinfo, self.bearer_token))
        return f"UrlCredentials(userinfo={userinfo!r}, secret_query={len(self.secret_query)}, bearer_token={token!r})"

    def to_json(self) -> str:
        """The credentials as JSON text (what is encrypted and stored)."""
        return json.dumps(
            {"userinfo": self.userinfo, "secretQuery": list(self.secret_query), "bearerToken": self.bearer_token}
        )

    @classmethod
    def from_json(cls, text: str) -> UrlCredentials:
        """The credentials :meth:`to_json` wrote; empty text gives no credentials."""
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            userinfo=data.get("userinfo", ""),
            secret_query=tuple((str(name), str(value)) for name, value in data.get("secretQuery", [])),
            bearer_token=data.get("bearerToken", ""),
        )

    def merged_with(self, newer: UrlCredentials) -> UrlCredentials:
        """These credentials with each part ``newer`` sets replaced by its value."""
        return UrlCredentials(
            userinfo=newer.userinfo or self.userinfo,
            secret_query=newer.secret_query or self.secret_query,
            bearer_token=newer.bearer_token or self.bearer_token,
        )


def split_url_credentials(url: str) -> tuple[str, UrlCredentials]:
    """``url`` without its userinfo and secret query parameters, and those credentials (the order of the other
    query parameters is kept). A URL without credentials comes back unchanged with empty credentials."""
    parts = urlsplit(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    secret_names = {name.lower() for name in SECRET_PARAMETERS}
    query = parse_qsl(parts.query, keep_blank_values=True)
    secret = tuple((name, value) for name, value in query if name.lower() in secret_names)
    if not userinfo and not secret:
        return url, UrlCredentials()
    kept = [(name, value) for name, value in query if name.lower() not in secret_names]
    clean = urlunsplit((parts.scheme, host, parts.path, urlencode(kept), parts.fragment))
    return clean, UrlCredentials(userinfo=userinfo, secret_query=secret)


def join_url_credentials(url: str, credentials: UrlCredentials) -> str:
    """The URL to connect with: ``url`` with the userinfo and secret query parameters of ``credentials`` put back
    (the bearer token is not part of a URL)."""
    if not credentials.userinfo and not credentials.secret_query:
        return url
    parts = urlsplit(url)
    netloc = f"{credentials.userinfo}@{parts.netloc}" if credentials.userinfo else parts.netloc
    query = parse_qsl(parts.query, keep_blank_values=True) + list(credentials.secret_query)
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))
