"""Encryption at rest of secrets stored in the database (a cluster's Prometheus credentials), with Fernet.

The keys: ``MESH_UI_FIELD_ENCRYPTION_KEY``, a comma-separated list of secrets, else ``SECRET_KEY`` followed by
``SECRET_KEY_FALLBACKS``. Each secret becomes a Fernet key through HKDF-SHA256 (so any long random string will do).
The first key encrypts; every key decrypts (``MultiFernet``), which is how keys are rotated: put the new secret
first and keep the old one after it, run ``manage.py reencrypt_secrets``, then drop the old one. Lose every key that
encrypted a value and the value is lost (it must be entered again): changing ``SECRET_KEY`` without keeping the old
one in ``SECRET_KEY_FALLBACKS`` does that when no dedicated key is set.

Values stay encrypted in model instances; :func:`decrypt_text` is called where a client is about to connect.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

#: Binds the derived keys to this use: the same SECRET_KEY signs sessions, which must not share a key with this.
HKDF_INFO = b"mesh-ui field encryption v1"


class FieldDecryptionError(Exception):
    """A stored secret no configured key decrypts."""


def derive_fernet_key(secret: str) -> bytes:
    """A Fernet key derived from ``secret`` with HKDF-SHA256 (no salt: the secret is already random)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode()))


def configured_secrets() -> tuple[str, ...]:
    """The secrets the keys come from, the encrypting one first (see the module docstring)."""
    dedicated = [part.strip() for part in settings.MESH_UI_FIELD_ENCRYPTION_KEY.split(",") if part.strip()]
    if dedicated:
        return tuple(dedicated)
    return (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)


@lru_cache(maxsize=4)
def _fernet(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(derive_fernet_key(secret)) for secret in secrets])


def encrypt_text(plain: str) -> str:
    """``plain`` encrypted with the first key (empty text stays empty: nothing is stored)."""
    if not plain:
        return ""
    return _fernet(configured_secrets()).encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    """The text :func:`encrypt_text` encrypted, with any configured key; empty stays empty.

    Raises :class:`FieldDecryptionError` when no configured key opens it.
    """
    if not token:
        return ""
    try:
        return _fernet(configured_secrets()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise FieldDecryptionError(
            "a stored secret cannot be decrypted with the configured keys: keep the key it was encrypted with in "
            "MESH_UI_FIELD_ENCRYPTION_KEY (or SECRET_KEY_FALLBACKS) after the new one, or enter the secret again"
        ) from exc


def reencrypt_text(token: str) -> str:
    """``token`` encrypted again with the first key (key rotation); empty stays empty."""
    if not token:
        return ""
    try:
        return _fernet(configured_secrets()).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise FieldDecryptionError("a stored secret cannot be decrypted with the configured keys") from exc
