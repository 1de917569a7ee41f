"""Redaction of credentials in text: passwords in URLs, secret query parameters and Authorization headers.

Operators put credentials where mesh-ui later writes text: ``PROMETHEUS_URL=http://user:secret@host:9090``, a
metrics endpoint with ``?token=...``, a proxy that echoes request headers into its error page.  Every error the
clients raise goes through :func:`redact_text` (so a stored ``last_error``, the API's ``sourceError`` and a page
banner never carry a secret), and :class:`RedactingFilter` does the same for every log line (``LOGGING``).

What is replaced by ``***``:

- the password of a URL's userinfo (``http://user:***@host``); userinfo without a password (``http://TOKEN@host``,
  often a token) is replaced whole (``http://***@host``);
- the value of query parameters that name a secret (:data:`SECRET_PARAMETERS`, any case): ``?token=***``;
- the credentials of an ``Authorization`` / ``Proxy-Authorization`` header written as text or as a dict's item:
  ``Authorization: Bearer ***``, ``'Authorization': 'Basic ***'``.

Hand-written on purpose: no maintained library redacts free text (``urllib.parse`` splits a URL but cannot find
one inside a message).  Pure functions, no Django.
"""

from __future__ import annotations

import logging
import re
from typing import Final

MASK: Final = "***"

#: Query parameters whose value is a secret (compared case-insensitively).
SECRET_PARAMETERS: Final[tuple[str, ...]] = (
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "client_secret",
    "passwd",
    "password",
    "secret",
    "token",
)

# scheme://userinfo@ — the userinfo runs to the LAST "@" before the host (a raw "@" in a password is split there
# by urllib too), never across "/", "?", "#", whitespace or quotes.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^\s/?#'\"<>]*)@")
_SECRET_PARAMETER = re.compile(
    r"(?P<name>(?<![A-Za-z0-9_\-])(?:" + "|".join(SECRET_PARAMETERS) + r")=)(?P<value>[^&#\s'\"<>]+)",
    re.IGNORECASE,
)
# "Authorization: Bearer x", "authorization=Basic x", "'Authorization': 'Token x'" (a dict's repr).
_AUTHORIZATION = re.compile(
    r"(?P<name>\b(?:proxy-)?authorization['\"]?\s*[:=]\s*['\"]?)(?:(?P<scheme>[A-Za-z][\w\-]*)\s+)?"
    r"(?P<credentials>[^\s'\",}]+)",
    re.IGNORECASE,
)


def _mask_userinfo(match: re.Match[str]) -> str:
    userinfo = match["userinfo"]
    user, has_password, _ = userinfo.partition(":")
    masked = f"{user}:{MASK}" if has_password and user else MASK
    return f"{match['scheme']}{masked}@"


def _mask_authorization(match: re.Match[str]) -> str:
    scheme = f"{match['scheme']} " if match["scheme"] else ""
    return f"{match['name']}{scheme}{MASK}"


def redact_text(text: str) -> str:
    """``text`` with every credential this module knows of replaced by ``***`` (see the module docstring).

    Idempotent, and text without credentials comes back unchanged.
    """
    if "@" in text:
        text = _URL_USERINFO.sub(_mask_userinfo, text)
    if "=" in text:
        text = _SECRET_PARAMETER.sub(lambda m: m["name"] + MASK, text)
    if "uthorization" in text or "UTHORIZATION" in text:
        text = _AUTHORIZATION.sub(_mask_authorization, text)
    return text


def redact_url(url: str) -> str:
    """A URL fit to show: its password (or bare userinfo) and secret query parameters replaced by ``***``."""
    return redact_text(url)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts credentials in a record's message, arguments and traceback.

    Attached to the handlers in ``LOGGING`` (a handler's filters see every record it writes, including those
    propagated from child loggers; a logger's filters would not).  It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # The formatter reuses exc_text when it is set: format the traceback once here, redacted.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


__all__ = ["MASK", "SECRET_PARAMETERS", "RedactingFilter", "redact_text", "redact_url"]
