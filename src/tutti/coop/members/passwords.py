"""The password policy: long enough, short enough to hash cheaply, and hard to guess.

Length alone let ten spaces, ten NUL characters or ``password1234`` in. Guessability is estimated with zxcvbn
(Dropbox's estimator: dictionaries of common passwords, names and words, keyboard patterns, repeats, sequences,
dates), told the member's email so that the address, or its parts, do not count as secret. A password must
reach ``MIN_SCORE`` (3 of 4: "safely unguessable", about 10^8 guesses or more). Control characters are refused
outright: nobody types them, and a NUL cuts a string short in some tools.
"""

from __future__ import annotations

import re
import unicodedata

from zxcvbn import zxcvbn

from tutti.coop.errors import InvalidInput

MIN_PASSWORD = 10
# Long enough for any passphrase, short enough that hashing it is not a way to load the server.
MAX_PASSWORD = 1024
MIN_SCORE = 3
# zxcvbn's own bound (its matching grows fast with length); a password's first 72 characters decide its score.
_ESTIMATED_CHARS = 72
_WORDS = re.compile(r"[^\W_]+")


def _words_of(email: str) -> list[str]:
    address = email.strip().lower()
    return [address, address.partition("@")[0], *_WORDS.findall(address)]


def check_password(password: str, *, email: str = "") -> None:
    """InvalidInput, in one sentence saying what to do, unless ``password`` meets the policy."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password is too weak: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"the password is too long: at most {MAX_PASSWORD} characters")
    if any(unicodedata.category(char) == "Cc" for char in password):
        raise InvalidInput("the password holds control characters; use letters, digits, spaces and punctuation")
    if not password.strip():
        raise InvalidInput("the password is only spaces; use a few uncommon words")
    estimate = zxcvbn(password[:_ESTIMATED_CHARS], user_inputs=[*_words_of(email), "tutti", "cooperative"])
    if int(estimate["score"]) < MIN_SCORE:
        feedback = estimate.get("feedback") or {}
        warning = str(feedback.get("warning") or "").rstrip(".")
        why = f" ({warning[0].lower() + warning[1:]})" if warning else ""
        raise InvalidInput(
            f"the password is too easy to guess{why}: use a longer one, such as a few uncommon words, "
            "and not your email address"
        )
