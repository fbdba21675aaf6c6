"""What the cooperative refuses, each a ``TuttiError`` so the CLI and the web layer translate it once.

    CoopError                  anything the cooperative refuses, said in one sentence
     +-- ConfigError           the server's settings are unusable (no master key, a placeholder secret)
     +-- Unauthenticated       no valid login session or API token; a wrong email or password
     +-- NotAllowed            the member's role or status does not permit the action
     |    +-- CsrfMismatch      a state-changing request without its form's CSRF token (a stale or forged form)
     +-- NotFound              the thing asked for does not exist (or is not the member's)
     +-- Conflict              the action clashes with what exists (an email taken, a second init)
     +-- InvalidInput          a value makes no sense (a weak password, a malformed email, a negative capacity)
     +-- RateLimited           too many attempts; ``retry_after`` says when to try again
     +-- ValidationRejected    a contribution failed validation; ``reasons`` lists why
     +-- KeyDestroyed          the member's data key was destroyed: their data is gone for good
     +-- DecryptionFailed      a blob does not open with the key given
     +-- LogInvalid            the audit log does not verify (entries altered, cut off, rewritten or re-signed)

Messages never contain secrets (passwords, tokens, keys) and never an email address.
"""

from __future__ import annotations

from collections.abc import Sequence

from tutti.errors import TuttiError


class CoopError(TuttiError):
    """Base of every refusal of the cooperative."""


class ConfigError(CoopError):
    """The server cannot run with these settings."""


class Unauthenticated(CoopError):
    """No valid credentials were presented."""


class NotAllowed(CoopError):
    """The member may not do this."""


class CsrfMismatch(NotAllowed):
    """A state-changing request whose CSRF token is missing or not the one its form was given."""


class NotFound(CoopError):
    """No such thing (for this member)."""


class Conflict(CoopError):
    """The action clashes with the current state."""


class InvalidInput(CoopError):
    """A value given to the cooperative makes no sense."""


class RateLimited(CoopError):
    """Too many attempts in the current window."""

    def __init__(self, action: str, retry_after: int) -> None:
        self.action = action
        self.retry_after = retry_after
        super().__init__(f"too many {action} attempts; try again in {retry_after} s")


class ValidationRejected(CoopError):
    """A contribution was rejected; ``reasons`` are short sentences a member can act on."""

    def __init__(self, reasons: Sequence[str], *, held: bool = False) -> None:
        self.reasons = tuple(reasons)
        super().__init__(f"contribution {'held' if held else 'rejected'}: " + "; ".join(self.reasons))


class KeyDestroyed(CoopError):
    """The member's data key no longer exists, so none of their blobs can be read."""


class DecryptionFailed(CoopError):
    """A blob or wrapped key does not open with the key given (wrong key, or altered bytes)."""


class LogInvalid(CoopError):
    """The audit log failed verification; the findings say where."""
