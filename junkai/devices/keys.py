"""The keys of a device checkout (DESIGN.md "Offline keys").

- Data key: 32 random bytes per checkout. The device encrypts each stored record with it
  (AES-256-GCM through WebCrypto). The server keeps it wrapped with AES-256-GCM under a key
  derived from SECRET_KEY (HKDF-SHA-256), the checkout's id bound as associated data, so a
  copy of the database alone does not hold it, and one checkout's blob cannot stand for another.
- Lease: per shift, a fresh random 32-byte key and its end (≤ 12 h). The answer carries the
  lease key and the data key wrapped under it (AES-GCM, 12-byte IV, associated data naming the
  checkout, the lease and its end). The client imports the lease key as a non-extractable
  AES-GCM key and unwraps the data key as non-extractable (`crypto.subtle.unwrapKey("raw",
  wrapped, leaseKey, {name: "AES-GCM", iv, additionalData: aad}, "AES-GCM", false, [...])`).
  When the lease ends the client drops both keys; after a new sign-in the server wraps the
  *same* data key under a new lease, so what the device stored is readable again. The server
  keeps only the lease key's SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

KEY_BYTES = 32
IV_BYTES = 12
ALGORITHM = "AES-256-GCM"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _storage_key() -> bytes:
    """The key that wraps data keys at rest: derived from SECRET_KEY, never stored."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=b"junkai-devices",
        info=b"device data key wrapping v1",
    ).derive(settings.SECRET_KEY.encode("utf-8"))


def _storage_aad(checkout_id: int) -> bytes:
    return f"junkai-device-checkout/v1/{checkout_id}".encode("ascii")


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def seal_data_key(data_key: bytes, checkout_id: int) -> bytes:
    """The data key as stored: IV ‖ AES-GCM ciphertext and tag."""
    iv = os.urandom(IV_BYTES)
    return iv + AESGCM(_storage_key()).encrypt(iv, data_key, _storage_aad(checkout_id))


def open_data_key(sealed: bytes | memoryview, checkout_id: int) -> bytes:
    sealed = bytes(sealed)
    return AESGCM(_storage_key()).decrypt(
        sealed[:IV_BYTES], sealed[IV_BYTES:], _storage_aad(checkout_id)
    )


def lease_aad(checkout_id: int, lease_id: int, expires_epoch: int) -> str:
    return f"junkai-lease/v1/{checkout_id}/{lease_id}/{expires_epoch}"


@dataclass(frozen=True)
class WrappedKey:
    lease_key: bytes
    iv: bytes
    wrapped: bytes  # ciphertext ‖ 16-byte tag, as WebCrypto's unwrapKey wants it
    aad: str


def wrap_for_lease(data_key: bytes, lease_key: bytes, aad: str) -> WrappedKey:
    iv = os.urandom(IV_BYTES)
    wrapped = AESGCM(lease_key).encrypt(iv, data_key, aad.encode("ascii"))
    return WrappedKey(lease_key=lease_key, iv=iv, wrapped=wrapped, aad=aad)


def unwrap_with_lease(lease_key: bytes, iv: bytes, wrapped: bytes, aad: str) -> bytes:
    """What the client does (tests and the benchmark use it to check the scheme)."""
    return AESGCM(lease_key).decrypt(iv, wrapped, aad.encode("ascii"))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
