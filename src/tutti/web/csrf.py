"""Cross-site request forgery: every form and every cookie-authenticated API call carries a token.

A logged-in member's token is their login session's CSRF secret. Forms shown before login (signup, login) use a
random form cookie and, in the form, an HMAC of it under the server's session secret: a site elsewhere can read
neither, so it cannot post a form in a visitor's name (nor log them in to an account of its choosing).
Both are compared by the domain (``accounts.check_csrf``, ``accounts.check_csrf_token``), which refuses with
``CsrfMismatch``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from tutti.coop.errors import CsrfMismatch
from tutti.coop.members import accounts

FORM_COOKIE = "tutti_form"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def valid_nonce(nonce: str | None) -> bool:
    return nonce is not None and bool(_NONCE.match(nonce))


def form_token(secret: bytes, nonce: str) -> str:
    """The token anonymous forms carry for the visitor holding the form cookie ``nonce``."""
    return hmac.new(secret, b"tutti-coop form " + nonce.encode(), hashlib.sha256).hexdigest()


def check_form_token(secret: bytes, nonce: str | None, sent: str | None) -> None:
    """An anonymous form's token must be the HMAC of the visitor's form cookie."""
    if nonce is None or not valid_nonce(nonce):
        raise CsrfMismatch(accounts.FORM_EXPIRED)
    accounts.check_csrf_token(form_token(secret, nonce), sent)
