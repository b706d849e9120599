"""Secrets at rest: Fernet encryption with key rotation (MultiFernet).

FIELD_ENCRYPTION_KEYS lists the keys, newest first: the first encrypts, every key decrypts, and
`secret_rotate` re-encrypts a token under the first key. A missing key, or a token no key can
decrypt, raises an error that says so and never contains the secret or the token.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS."""


def _fernet() -> MultiFernet:
    keys = [key for key in settings.FIELD_ENCRYPTION_KEYS if key]
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is not set: Walmart client secrets cannot be encrypted or decrypted. "
            "Generate a key with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)."
        ) from error


def secret_encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def secret_decrypt(token: str, *, what: str = "secret") -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError(
            f"The stored {what} cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS: "
            "the key it was encrypted with is missing. Restore that key (keep it after the new one "
            "to rotate), or enter the secret again."
        ) from None


def secret_rotate(token: str) -> str:
    """Re-encrypt `token` under the first key. Raises SecretDecryptionError as secret_decrypt does."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError(
            "A stored secret cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS."
        ) from None
