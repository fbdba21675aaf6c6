"""Known devices: a browser or script that has logged in to an account keeps a signed device cookie, so the
account's lockout cannot be turned against its owner.

The per-account and per-client login limits stop strangers guessing a password, but anyone can spend them: ten
wrong guesses at someone's email would lock the owner out too. A login that presents a device cookie this server
signed for that very account counts against that device's own limit instead, so the owner's right password still
works from a device they have used while strangers are held back. The cookie is ``nonce.signature``: an HMAC
under the session secret of the member's id and a random nonce. It holds no id, nothing is stored, and it is
worth nothing for another account; it grants nothing but a separate bucket of login attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEVICE_COOKIE = "tutti_device"
DEVICE_DAYS = 365


def _signature(secret: bytes, member_id: str, nonce: str) -> str:
    return hmac.new(secret, f"device\x00{member_id}\x00{nonce}".encode(), hashlib.sha256).hexdigest()


def issue(secret: bytes, member_id: str) -> str:
    """A new device cookie value for ``member_id``."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_signature(secret, member_id, nonce)}"


def recognised(secret: bytes, member_id: str, cookie: str | None) -> str | None:
    """The device's nonce if ``cookie`` was signed here for ``member_id``; None for anything else."""
    if not cookie or cookie.count(".") != 1:
        return None
    nonce, signature = cookie.split(".")
    if not nonce or not hmac.compare_digest(signature.encode(), _signature(secret, member_id, nonce).encode()):
        return None
    return nonce
